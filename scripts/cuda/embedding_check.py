# Embedding models on the GPU (spec §9.3) against transformers.
#   prepare CONFIG_DIR OUT_DIR   transformers builds the bare transformer of CONFIG_DIR (AutoModel: LlamaModel,
#                                Qwen3Model, …) with random weights from seed 0, saves it to OUT_DIR (a headless
#                                checkpoint our loader serves as an embedding model by its architecture) and writes
#                                reference.json: token ids and the fp32 last hidden state of each, L2-normalized.
#   compare URL OUT_DIR BOUND    our /v1/embeddings vectors for those ids against the reference: the worst
#                                norm-wise relative error must be ≤ BOUND, and /encode of one alone as close to it.
#   load URL N LEN               N inputs of LEN random ids, 32 per request, 8 requests at a time: input tokens/s.
#   peer CONFIG_DIR N LEN        transformers (bf16, sdpa attention, batches of 64) embedding the same amount: tokens/s.
import json, sys, time, random, urllib.request
import concurrent.futures as cf


def post(url, path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def sequences(vocab):
    rng = random.Random(1)
    return [[rng.randrange(vocab) for _ in range(n)] for n in (1, 7, 33, 130, 517)]


def prepare(config_dir, out):
    import torch
    from transformers import AutoConfig, AutoModel
    config = AutoConfig.from_pretrained(config_dir)
    torch.manual_seed(0)
    model = AutoModel.from_config(config, dtype=torch.float32).cuda().eval()
    model.save_pretrained(out, safe_serialization=True)
    seqs = sequences(config.vocab_size)
    vectors = []
    with torch.no_grad():
        for s in seqs:
            h = model(torch.tensor([s], device="cuda")).last_hidden_state[0, -1].float()
            vectors.append(torch.nn.functional.normalize(h, dim=0).tolist())
    json.dump({"sequences": seqs, "vectors": vectors}, open(out + "/reference.json", "w"))
    print("prepared %s: %s, %d sequences" % (out, model.__class__.__name__, len(seqs)))


def compare(url, out, bound):
    ref = json.load(open(out + "/reference.json"))
    got = post(url, "/v1/embeddings", {"input": ref["sequences"], "encoding_format": "float"})["data"]
    worst = 0.0
    for d, want in zip(got, ref["vectors"]):
        e = d["embedding"]
        diff = sum((a - b) ** 2 for a, b in zip(e, want)) ** 0.5
        worst = max(worst, diff / sum(b * b for b in want) ** 0.5 if len(e) == len(want) else float("inf"))
    # One sequence alone through /encode: another batch composition, so bf16 GEMMs may round differently; it is held
    # to the same bound (norm-wise relative; the vectors have unit norm).
    native = post(url, "/encode", {"input_ids": ref["sequences"][2]})["embedding"]
    same = sum((a - b) ** 2 for a, b in zip(native, got[2]["embedding"])) ** 0.5
    ok = worst <= bound and same <= bound and len(got) == len(ref["vectors"])
    print("%-40s worst rel %.2e (bound %.0e), /encode alone vs in the batch %.1e  %s"
          % (url, worst, bound, same, "ok" if ok else "NO"))
    return ok


def load(url, n, length):
    rng = random.Random(2)
    inputs = [[rng.randrange(100, 30000) for _ in range(length)] for _ in range(n)]
    chunks = [inputs[i:i + 32] for i in range(0, n, 32)]
    post(url, "/v1/embeddings", {"input": chunks[0][:2]})
    began = time.time()
    with cf.ThreadPoolExecutor(8) as ex:
        outs = list(ex.map(lambda c: post(url, "/v1/embeddings", {"input": c}), chunks))
    elapsed = time.time() - began
    count = sum(len(o["data"]) for o in outs)
    print("ours: %d inputs x %d tokens in %.2f s: %.0f input tok/s, %.1f inputs/s" % (count, length, elapsed, count * length / elapsed, count / elapsed))


def peer(config_dir, n, length):
    import torch
    from transformers import AutoConfig, AutoModel
    config = AutoConfig.from_pretrained(config_dir)
    config._attn_implementation = "sdpa"
    with torch.device("cuda"):
        model = AutoModel.from_config(config, dtype=torch.bfloat16).eval()
    g = torch.Generator(device="cuda").manual_seed(2)
    ids = torch.randint(100, 30000, (n, length), device="cuda", generator=g)
    with torch.no_grad():
        model(ids[:64])
        torch.cuda.synchronize()
        began = time.time()
        for i in range(0, n, 64):
            h = model(ids[i:i + 64]).last_hidden_state[:, -1].float()
            torch.nn.functional.normalize(h, dim=1).cpu()
        torch.cuda.synchronize()
    elapsed = time.time() - began
    print("transformers bf16 sdpa: %d inputs x %d tokens in %.2f s: %.0f input tok/s" % (n, length, elapsed, n * length / elapsed))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "prepare":
        prepare(sys.argv[2], sys.argv[3])
    elif cmd == "compare":
        sys.exit(0 if compare(sys.argv[2], sys.argv[3], float(sys.argv[4])) else 1)
    elif cmd == "load":
        load(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "peer":
        peer(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
