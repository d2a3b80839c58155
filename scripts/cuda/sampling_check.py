# Device-sampling checks over HTTP against two running servers on the same dummy weights: A (device sampling, the
# default) and B (SGLANG_DEVICE_SAMPLING=0, the host sampler). Dummy logits are nearly flat (any rounding change
# moves a draw), so logit_bias gives the draws a shape: 20 tokens 0.35 apart, far above the weights noise.
# Usage: python3 sampling_check.py URL_A URL_B (scripts/cuda/sampling_check.sh starts both servers).
import json, sys, urllib.request
import concurrent.futures as cf
A, B = sys.argv[1], sys.argv[2]
def gen(url, prompt, **sp):
    body = {"text": prompt, "sampling_params": sp}
    req = urllib.request.Request(url + "/generate", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())
rows = []
def check(name, ok, detail=""):
    rows.append((name, ok, detail))
p = "The quick brown fox jumps over the lazy dog because"
shape = {str(1000 + 7 * i): 6.0 + 0.35 * i for i in range(20)}
seeded = dict(temperature=1.0, top_p=0.95, top_k=15, logit_bias=shape, max_new_tokens=32, ignore_eos=True)
s1 = gen(A, p, sampling_seed=42, **seeded)["output_ids"]
s2 = gen(A, p, sampling_seed=42, **seeded)["output_ids"]
s3 = gen(A, p, sampling_seed=43, **seeded)["output_ids"]
check("seeded twice equal", s1 == s2, "%s vs %s" % (s1[:10], s2[:10]))
check("other seed differs", s1 != s3, str(s3[:10]))
check("draws stay in the shaped top-k", all(1000 <= t < 1140 and (t - 1000) % 7 == 0 and t >= 1000 + 7 * 5 for t in s1),
      str(s1))
check("draws vary", len(set(s1)) >= 4, str(s1))
g_a = gen(A, p, temperature=0, max_new_tokens=48, ignore_eos=True)["output_ids"]
g_b = gen(B, p, temperature=0, max_new_tokens=48, ignore_eos=True)["output_ids"]
check("greedy device == host", g_a == g_b, "%s vs %s" % (g_a[:8], g_b[:8]))
two = {"3000": 10.0, "4000": 9.5}
base = gen(A, p, temperature=0, max_new_tokens=24, ignore_eos=True, logit_bias=two)["output_ids"]
for name, sp in [("repetition 1.3", dict(repetition_penalty=1.3)),
                 ("freq 0.8 + presence 0.5", dict(frequency_penalty=0.8, presence_penalty=0.5)),
                 ("top_k 1 at T 0.6 + freq 1.2", dict(temperature=0.6, top_k=1, frequency_penalty=1.2))]:
    sp = dict(dict(temperature=0), **sp)
    a = gen(A, p, max_new_tokens=24, ignore_eos=True, logit_bias=two, **sp)["output_ids"]
    b = gen(B, p, max_new_tokens=24, ignore_eos=True, logit_bias=two, **sp)["output_ids"]
    check("greedy " + name + ": device == host, penalty acts", a == b and a != base, "%s vs %s (no penalty %s)" % (a[:8], b[:8], base[:4]))
forced = gen(A, p, temperature=1.0, max_new_tokens=16, ignore_eos=True, logit_bias={"4242": 100.0}, sampling_seed=1)["output_ids"]
check("bias +100 forces the token", forced == [4242] * 16, str(forced))
mn = gen(A, p, temperature=0.7, max_new_tokens=32, min_new_tokens=6, logit_bias={"2": 100.0}, sampling_seed=3)
ids = mn["output_ids"]
check("min_new_tokens then eos", 2 not in ids[:6] and (len(ids) == 6 or (len(ids) == 7 and ids[-1] == 2)),
      str(ids) + " " + str(mn["meta_info"].get("finish_reason")))
# The seeded request inside a batch of others (sampled, penalized) draws the same tokens.
with cf.ThreadPoolExecutor(16) as ex:
    futs = [ex.submit(gen, A, p, sampling_seed=42, **seeded)]
    futs += [ex.submit(gen, A, "Once upon a time %d" % i, temperature=0.9, max_new_tokens=40, repetition_penalty=1.1 + 0.01 * i,
                       sampling_seed=i, ignore_eos=True) for i in range(15)]
    res = [f.result()["output_ids"] for f in futs]
check("seeded inside a mixed batch equal", res[0] == s1, "%s vs %s" % (res[0][:10], s1[:10]))
for n, ok, d in rows:
    print(("PASS " if ok else "FAIL ") + n + ("  " + d if not ok else ""))
print("sampling checks: %d/%d passed" % (sum(ok for _, ok, _ in rows), len(rows)))
sys.exit(0 if all(ok for _, ok, _ in rows) else 1)
