"""The real chat model of the fixtures (SmolLM2-135M-Instruct, Q4_1 GGUF) served by `sglang serve`, against
transformers' float32 outputs in ../shared/fixtures/smollm2 — over HTTP, as a user runs it.

- greedy.jsonl: 32 greedy tokens per prompt (EOS ignored), one request at a time, then all at once twice
  (batched prefills and decodes over the radix cache's copies of the same prompts). Ids must equal the
  reference up to the first step whose reference top-1/top-2 margin is at most MARGIN; the chosen tokens'
  logprobs are compared on the shared prefix.
- prompt_logprobs.jsonl: the logprob of every prompt token given the ones before it (what `select` scores with).

Usage: python3 chat_model_check.py URL FIXTURES_SMOLLM2_DIR [--margin 0.05] [--logprob-tol 0.1]
Prints one line per check and exits 1 when one fails."""
import argparse, json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor


def post(url, body):
    req = urllib.request.Request(url + "/generate", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def greedy(url, ids, n):
    return post(url, {"input_ids": ids, "return_logprob": True,
                      "sampling_params": {"temperature": 0, "max_new_tokens": n, "ignore_eos": True}})


def compare_greedy(row, out, margin):
    """(ok, equal steps, compared steps, worst chosen-token logprob gap, where it diverged and the margin there)."""
    ref, ours = row["greedy_ids"], out["output_ids"]
    lps = [e[0] for e in out["meta_info"]["output_token_logprobs"]]
    same, worst = 0, 0.0
    for s, (a, b) in enumerate(zip(ref, ours)):
        if a != b:
            m = row["steps"][s]["margin"]
            return m <= margin, same, len(ref), worst, f"step {s}: ref {a} ours {b}, ref margin {m:.3f}"
        top = dict((i, lp) for i, lp in row["steps"][s]["top5"])
        worst = max(worst, abs(top[a] - lps[s]))
        same += 1
    return len(ours) == len(ref), same, len(ref), worst, ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url"); ap.add_argument("fixtures")
    ap.add_argument("--margin", type=float, default=0.05)
    ap.add_argument("--logprob-tol", type=float, default=0.1)
    a = ap.parse_args()
    rows = [json.loads(l) for l in open(f"{a.fixtures}/greedy.jsonl")]
    failed = 0

    def check(tag, outs):
        count = 0
        for i, (row, out) in enumerate(zip(rows, outs)):
            ok, same, n, worst, note = compare_greedy(row, out, a.margin)
            ok = ok and worst <= a.logprob_tol
            count += not ok
            print(f"greedy {tag} {i}: {'ok' if ok else 'FAIL'} {same}/{n} ids equal, chosen logprob within "
                  f"{worst:.2e}{' (' + note + ')' if note else ''}")
        return count

    failed += check("single", [greedy(a.url, r["prompt_ids"], len(r["greedy_ids"])) for r in rows])
    for round in range(2):
        with ThreadPoolExecutor(len(rows)) as pool:
            outs = list(pool.map(lambda r: greedy(a.url, r["prompt_ids"], len(r["greedy_ids"])), rows))
        failed += check(f"batched#{round + 1}", outs)

    for i, line in enumerate(open(f"{a.fixtures}/prompt_logprobs.jsonl")):
        row = json.loads(line)
        out = post(a.url, {"input_ids": row["ids"], "return_logprob": True, "logprob_start_len": 0,
                           "sampling_params": {"temperature": 0, "max_new_tokens": 1}})
        ours = [e[0] for e in out["meta_info"]["input_token_logprobs"]][1:]  # the first token has none
        ref = row["next_token_logprobs"]
        ok = len(ours) == len(ref)
        worst = max((abs(x - y) for x, y in zip(ours, ref)), default=0.0)
        ok = ok and worst <= a.logprob_tol
        failed += not ok
        print(f"prompt logprobs {i}: {'ok' if ok else 'FAIL'} {len(ours)}/{len(ref)} tokens, max |diff| {worst:.2e}")
    print("all passed" if not failed else f"{failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
