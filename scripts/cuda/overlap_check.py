# Overlap scheduling against the synchronous scheduler over HTTP: two running servers on the same model, A with
# overlap (the default) and B with --disable-overlap-schedule. Requests sent one at a time run the same kernels at the
# same batch sizes on both, so their tokens must be equal bit for bit: greedy, seeded sampling (the draw of a step
# launched ahead uses the step counter after the token in flight), a stop token met early (the token launched
# behind it is dropped), penalties and logprobs (steps the overlap runs synchronously). Then 64 requests at once on
# each (batches form by timing, so only lengths and finish reasons are compared) and both servers' memory check.
# Usage: python3 overlap_check.py URL_A URL_B
import json, sys, urllib.request
import concurrent.futures as cf
A, B = sys.argv[1], sys.argv[2]
def post(url, path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.loads(r.read())
def gen(url, prompt, **sp):
    return post(url, "/generate", {"text": prompt, "sampling_params": sp})
def gen_lp(url, prompt, **sp):
    return post(url, "/generate", {"text": prompt, "sampling_params": sp, "return_logprob": True})
rows = []
def check(name, ok, detail=""):
    rows.append((name, ok, detail))
prompts = ["The capital of France is", "def fibonacci(n):", "Once upon a time, in a small village,",
           "List three colors:", "The quick brown fox"]
greedy = dict(temperature=0, max_new_tokens=40)
for i, p in enumerate(prompts):
    a, b = gen(A, p, **greedy), gen(B, p, **greedy)
    check("greedy %d equal" % i, a["output_ids"] == b["output_ids"] and a["meta_info"]["finish_reason"] == b["meta_info"]["finish_reason"],
          "%s vs %s" % (a["output_ids"][:8], b["output_ids"][:8]))
first = gen(B, prompts[0], temperature=0, max_new_tokens=12, ignore_eos=True)["output_ids"]
stop = first[5]
a = gen(A, prompts[0], temperature=0, max_new_tokens=40, stop_token_ids=[stop])
b = gen(B, prompts[0], temperature=0, max_new_tokens=40, stop_token_ids=[stop])
check("stop token met early: equal", a["output_ids"] == b["output_ids"] and len(a["output_ids"]) <= 6
      and a["meta_info"]["finish_reason"] == b["meta_info"]["finish_reason"], "%s vs %s" % (a["output_ids"], b["output_ids"]))
for seed in (1, 2, 3):
    sp = dict(temperature=0.9, top_p=0.95, top_k=50, max_new_tokens=48, ignore_eos=True, sampling_seed=seed)
    a, b = gen(A, prompts[1], **sp), gen(B, prompts[1], **sp)
    check("seeded sampling %d equal" % seed, a["output_ids"] == b["output_ids"], "%s vs %s" % (a["output_ids"][:8], b["output_ids"][:8]))
for name, sp in [("frequency penalty", dict(temperature=0, frequency_penalty=0.8)),
                 ("min_new_tokens", dict(temperature=0, min_new_tokens=20))]:
    a, b = gen(A, prompts[2], max_new_tokens=32, **sp), gen(B, prompts[2], max_new_tokens=32, **sp)
    check(name + " equal", a["output_ids"] == b["output_ids"], "%s vs %s" % (a["output_ids"][:8], b["output_ids"][:8]))
a, b = gen_lp(A, prompts[3], temperature=0, max_new_tokens=16), gen_lp(B, prompts[3], temperature=0, max_new_tokens=16)
la = [t[:2] for t in a["meta_info"]["output_token_logprobs"]]
lb = [t[:2] for t in b["meta_info"]["output_token_logprobs"]]
check("logprobs equal", la == lb and a["output_ids"] == b["output_ids"], "%s vs %s" % (la[:4], lb[:4]))
def burst(url):
    jobs = [(prompts[i % len(prompts)] + " " * (i // len(prompts)), 16 + (i * 7) % 48) for i in range(64)]
    with cf.ThreadPoolExecutor(64) as ex:
        outs = list(ex.map(lambda j: gen(url, j[0], temperature=0, max_new_tokens=j[1], ignore_eos=True), jobs))
    return [(len(o["output_ids"]), o["meta_info"]["finish_reason"]["type"]) for o in outs], [j[1] for j in jobs]
(ra, want), (rb, _) = burst(A), burst(B)
check("64 at once: every length reached", [n for n, _ in ra] == want and ra == rb, "%s vs %s" % (ra[:4], rb[:4]))
for url, name in [(A, "A"), (B, "B")]:
    info = json.loads(urllib.request.urlopen(url + "/get_server_info", timeout=30).read())
    check("server %s disable_overlap_schedule=%s" % (name, info.get("disable_overlap_schedule")),
          info.get("disable_overlap_schedule") == (name == "B"))
for name, ok, detail in rows:
    print("%-44s %s  %s" % (name, "ok" if ok else "NO", "" if ok else detail[:160]))
print("%d/%d overlap checks passed" % (sum(ok for _, ok, _ in rows), len(rows)))
sys.exit(0 if all(ok for _, ok, _ in rows) else 1)
