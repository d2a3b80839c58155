#!/usr/bin/env python3
"""The peer of `sglang bench-tokenizer`: HF `tokenizers` encoding the same file with the same tokenizer.json,
one thread, the same two modes (whole text; line by line, each line with its "\\n"), best of N runs.

Usage: python3 scripts/bench_hf_tokenizers.py TOKENIZER_JSON CORPUS [--repeats 3] [--dump-ids FILE]
"""
import argparse
import os
import time

# One thread: must be set before tokenizers starts its Rayon pool.
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from tokenizers import Tokenizer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("tokenizer")
    ap.add_argument("corpus")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dump-ids")
    args = ap.parse_args()
    tok = Tokenizer.from_file(args.tokenizer)
    with open(args.corpus, "rb") as f:
        data = f.read()
    text = data.decode("utf-8", errors="replace")
    lines = [line + "\n" for line in text.split("\n")]
    mb = len(text.encode("utf-8")) / 1e6
    print(f"file: {args.corpus} ({mb:.2f} MB, {len(lines)} lines)")

    def measure(fn):
        best, tokens = float("inf"), 0
        for _ in range(max(1, args.repeats)):
            start = time.perf_counter()
            tokens = fn()
            best = min(best, time.perf_counter() - start)
        return best, tokens

    whole = measure(lambda: len(tok.encode(text, add_special_tokens=False).ids))
    per_line = measure(lambda: sum(len(tok.encode(line, add_special_tokens=False).ids) for line in lines))
    for name, (sec, n) in [("whole text", whole), ("line by line", per_line)]:
        print(f"{name:<13} {mb / sec:8.2f} MB/s  {n / sec:12.0f} tokens/s  ({n} tokens, {sec:.3f} s)")
    if args.dump_ids:
        ids = tok.encode(text, add_special_tokens=False).ids
        with open(args.dump_ids, "w") as f:
            f.write("\n".join(map(str, ids)) + "\n")


if __name__ == "__main__":
    main()
