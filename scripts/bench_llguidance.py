#!/usr/bin/env python3
"""Grammar mask benchmark, llguidance side (the peer of `sglang bench-grammar`).

1. `--write-walks FILE`: builds the benchmark suite: the JSON schemas of scripts/make_grammar_fixtures.py that
   llguidance compiles, each with "walks": JSON instances sampled from the schema's regex (outlines 0.0.46's
   translation as patched in make_grammar_fixtures.py), serialized with json.dumps (", " and ": "), valid
   under jsonschema. Both engines feed exactly these texts, tokenized with the same tokenizer.json.
2. `--walks FILE --tokenizer DIR`: for each schema, compiles an llguidance matcher (timed), then for every
   walk: a fresh matcher, and before each token one timed `fill_next_token_bitmask` (CPU mask), then
   `consume_token`. Prints compile ms and median/p99 µs per mask, like the Swift command.

pip install llguidance transformers jsonschema rfc3339-validator pydantic referencing
"""
import argparse, json, os, random, re, statistics, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))


def percentile(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))
    return s[k]


def write_walks(path, per_schema, outlines_path):
    sys.path.insert(0, HERE)
    import make_grammar_fixtures as fx
    import jsonschema
    import llguidance
    mod = fx.load_outlines(outlines_path)
    rng = random.Random(2024)
    suite = []
    for name, schema in fx.SCHEMAS:
        try:
            regex = mod.build_regex_from_schema(json.dumps(schema))
        except (NotImplementedError, RecursionError):
            print(f"skip {name}: outlines cannot translate it (no sampler regex)", file=sys.stderr)
            continue
        is_error, err = llguidance.LLMatcher.validate_grammar_with_warnings(
            llguidance.LLMatcher.grammar_from_json_schema(json.dumps(schema), defaults={"lenient": True}))
        if is_error:
            print(f"skip {name}: llguidance rejects it: {err}", file=sys.stderr)
            continue
        compiled = re.compile(regex)
        tree = fx.sre_parse.parse(regex)
        sampler = fx.Sampler(rng, max_repeat=3)
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        walks, seen = [], set()
        for _ in range(400):
            s = sampler.gen(tree)
            if s is None:
                continue
            try:
                text = json.dumps(json.loads(s), ensure_ascii=False)
            except ValueError:
                continue
            if text in seen or not compiled.fullmatch(text) or not validator.is_valid(json.loads(text)):
                continue
            seen.add(text)
            walks.append(text)
            if len(walks) >= per_schema:
                break
        if walks:
            suite.append({"name": name, "schema": json.dumps(schema, separators=(",", ":")), "walks": walks})
    with open(path, "w") as f:
        json.dump({"schemas": suite}, f, indent=1, ensure_ascii=False)
    print(f"{len(suite)} schemas, {sum(len(s['walks']) for s in suite)} walks -> {path}")


def bench(walks_path, tokenizer_dir):
    import numpy as np
    import llguidance, llguidance.hf, llguidance.numpy as lnp
    from transformers import AutoTokenizer
    hf = AutoTokenizer.from_pretrained(tokenizer_dir)
    tok = llguidance.hf.from_tokenizer(hf)
    suite = json.load(open(walks_path))["schemas"]
    compile_ms, mask_us, accepted_walks, rejected = [], [], 0, 0
    mask = lnp.allocate_token_bitmask(1, tok.vocab_size)
    for entry in suite:
        t0 = time.perf_counter()
        grammar = llguidance.LLMatcher.grammar_from_json_schema(entry["schema"], defaults={"lenient": True})
        matcher = llguidance.LLMatcher(tok, grammar)
        lnp.fill_next_token_bitmask(matcher, mask)  # llguidance builds lazily: include the first mask
        compile_ms.append((time.perf_counter() - t0) * 1e3)
        for text in entry["walks"]:
            ids = hf.encode(text, add_special_tokens=False)
            m = llguidance.LLMatcher(tok, grammar)
            times, ok = [], True
            for t in ids:
                t0 = time.perf_counter_ns()
                lnp.fill_next_token_bitmask(m, mask)
                times.append((time.perf_counter_ns() - t0) / 1e3)
                if not m.consume_token(t):
                    ok = False
                    break
            if ok:
                t0 = time.perf_counter_ns()
                lnp.fill_next_token_bitmask(m, mask)  # the mask that allows EOS
                times.append((time.perf_counter_ns() - t0) / 1e3)
                ok = m.is_accepting()
            if ok:
                accepted_walks += 1
                mask_us.extend(times)
            else:
                rejected += 1
                print(f"llguidance rejected a walk of {entry['name']}: {text[:80]!r} {m.get_error()}", file=sys.stderr)
    print(f"llguidance {llguidance.get_version() if hasattr(llguidance, 'get_version') else ''}: "
          f"{len(suite)} schemas, {accepted_walks} walks ({rejected} rejected), {len(mask_us)} masks")
    print(f"compile ms: median {statistics.median(compile_ms):.2f}  p99 {percentile(compile_ms, 99):.2f}  "
          f"max {max(compile_ms):.2f}")
    print(f"mask us:    median {statistics.median(mask_us):.2f}  p99 {percentile(mask_us, 99):.2f}  "
          f"mean {statistics.fmean(mask_us):.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--write-walks")
    ap.add_argument("--per-schema", type=int, default=6)
    ap.add_argument("--outlines", default="/tmp/outl/outlines/fsm/json_schema.py")
    ap.add_argument("--walks", default=os.path.join(HERE, "grammar_bench_walks.json"))
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "..", "..", "shared", "fixtures", "smollm2", "hf-tokenizer"))
    args = ap.parse_args()
    if args.write_walks:
        write_walks(args.write_walks, args.per_schema, args.outlines)
    else:
        bench(args.walks, args.tokenizer)


if __name__ == "__main__":
    main()
