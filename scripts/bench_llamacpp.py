#!/usr/bin/env python3
"""llama.cpp peer for `sglang bench-one-batch`: the same static-batch shapes through llama-cpp-python's
low-level API (llama_decode), so prefill and decode tokens/s can be compared on the same GGUF and machine.

For each (batch size, input length, output length): a fresh context, `batch` random prompts of `input`
tokens (seeded) decoded as one batch of sequences (prefill), then `output - 1` greedy decode steps of one
token per sequence. Prints SGLang-style lines and appends SGLang's JSONL fields (plus "engine").

    pip install llama-cpp-python   # built from source; CMAKE_ARGS="-DGGML_NATIVE=ON"
    python scripts/bench_llamacpp.py --model models/SmolLM2-135M-Instruct.Q4_1.gguf \
        --batch-size 1 16 --input-len 128 512 --output-len 128 --threads 2 --result-filename llamacpp.jsonl
"""
import argparse
import ctypes
import json
import random
import statistics
import time

import llama_cpp as L
import numpy as np


_QUIET_LOG = None


def run_once(model, vocab_size, bs, input_len, output_len, threads, seed, log=print):
    params = L.llama_context_default_params()
    params.n_ctx = bs * (input_len + output_len)
    params.n_batch = bs * input_len
    params.n_seq_max = bs
    params.n_threads = threads
    params.n_threads_batch = threads
    params.no_perf = True
    ctx = L.llama_init_from_model(model, params)
    if not ctx:
        raise RuntimeError("llama_init_from_model failed")
    batch = L.llama_batch_init(bs * input_len, 0, bs)
    rng = random.Random(seed)
    try:
        def fill(tokens_per_seq, start_pos):
            n = 0
            for s, toks in enumerate(tokens_per_seq):
                for j, t in enumerate(toks):
                    batch.token[n] = t
                    batch.pos[n] = start_pos + j
                    batch.n_seq_id[n] = 1
                    batch.seq_id[n][0] = s
                    batch.logits[n] = 1 if j == len(toks) - 1 else 0
                    n += 1
            batch.n_tokens = n

        def next_tokens():
            logits = np.ctypeslib.as_array(L.llama_get_logits(ctx), shape=(bs, vocab_size))
            return logits.argmax(axis=1).tolist()

        prompts = [[rng.randrange(vocab_size) for _ in range(input_len)] for _ in range(bs)]
        # Untimed: a first decode on a fresh context starts the thread pool and sizes buffers; then forget it.
        fill([p[:1] for p in prompts], 0)
        if L.llama_decode(ctx, batch) != 0:
            raise RuntimeError("llama_decode (warm-up) failed")
        L.llama_memory_clear(L.llama_get_memory(ctx), True)
        fill(prompts, 0)
        t0 = time.perf_counter()
        if L.llama_decode(ctx, batch) != 0:
            raise RuntimeError("llama_decode (prefill) failed")
        nxt = next_tokens()
        prefill = time.perf_counter() - t0
        log(f"Prefill. latency: {prefill:6.5f} s, throughput: {bs * input_len / prefill:9.2f} token/s")
        lat = []
        for i in range(output_len - 1):
            fill([[t] for t in nxt], input_len + i)
            t0 = time.perf_counter()
            if L.llama_decode(ctx, batch) != 0:
                raise RuntimeError("llama_decode (decode) failed")
            nxt = next_tokens()
            lat.append(time.perf_counter() - t0)
            if i < 5:
                log(f"Decode {i}. Batch size: {bs}, latency: {lat[-1]:6.5f} s, throughput: {bs / lat[-1]:9.2f} token/s")
        med = statistics.median(lat) if lat else 0.0
        if lat:
            log(f"Decode.  median latency: {med:6.5f} s, median throughput: {bs / med:9.2f} token/s")
        total = prefill + sum(lat)
        log(f"Total. latency: {total:6.3f} s, throughput: {bs * (input_len + output_len) / total:9.2f} token/s")
        return {
            "batch_size": bs, "input_len": input_len, "output_len": output_len,
            "prefill_latency": prefill, "prefill_throughput": bs * input_len / prefill,
            "median_decode_latency": med, "median_decode_throughput": bs / med if med else 0.0,
            "total_latency": total, "overall_throughput": bs * (input_len + output_len) / total,
        }
    finally:
        L.llama_batch_free(batch)
        L.llama_free(ctx)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch-size", type=int, nargs="+", default=[1])
    ap.add_argument("--input-len", type=int, nargs="+", default=[1024])
    ap.add_argument("--output-len", type=int, nargs="+", default=[16])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--run-name", default="llama.cpp")
    ap.add_argument("--result-filename", default="")
    args = ap.parse_args()

    L.llama_backend_init()
    # Keep the callback object alive: ctypes would free it while llama.cpp still calls it.
    global _QUIET_LOG
    _QUIET_LOG = L.llama_log_callback(lambda level, text, data: None)
    L.llama_log_set(_QUIET_LOG, ctypes.c_void_p(0))
    mparams = L.llama_model_default_params()
    model = L.llama_model_load_from_file(args.model.encode(), mparams)
    if not model:
        raise SystemExit(f"cannot load {args.model}")
    vocab_size = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
    print("llama.cpp system info:", L.llama_print_system_info().decode())
    print("Warmup ...")
    run_once(model, vocab_size, args.batch_size[0], args.input_len[0], min(32, args.output_len[0]), args.threads,
             args.seed, log=lambda _: None)
    print("Benchmark ...")
    records = []
    for bs in args.batch_size:
        for il in args.input_len:
            for ol in args.output_len:
                print(f"Batch size: {bs}, input length: {il}, output length: {ol}")
                r = run_once(model, vocab_size, bs, il, ol, args.threads, args.seed)
                records.append({"run_name": args.run_name, "engine": "llama.cpp", **r})
    if args.result_filename:
        with open(args.result_filename, "a") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")
    L.llama_model_free(model)


if __name__ == "__main__":
    main()
