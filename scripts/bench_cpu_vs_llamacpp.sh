#!/usr/bin/env bash
# SmolLM2 Q4_1 on the CPU: `sglang bench-one-batch` and the llama.cpp peer (scripts/bench_llamacpp.py) on the
# same GGUF, batch 1 and 16, input 128 and 512, output 128, back to back in one run.
# Usage: bash scripts/bench_cpu_vs_llamacpp.sh [SGLANG_BINARY] [OUT_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/.build/release/sglang}"
out="${2:-$root/bench-results}"
model="$(bash "$root/scripts/fetch-smollm2.sh")"
mkdir -p "$out"
shapes=(--batch-size 1 16 --input-len 128 512 --output-len 128)
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== sglang bench-one-batch"
"$bin" bench-one-batch --model-path "$model" "${shapes[@]}" --run-name sglang-swift \
    --result-filename "$out/sglang.jsonl"
echo "== llama.cpp (llama-cpp-python $(python3 -c 'import llama_cpp; print(llama_cpp.__version__)'), 2 threads)"
python3 -u "$root/scripts/bench_llamacpp.py" --model "$model" "${shapes[@]}" --threads 2 \
    --result-filename "$out/llamacpp.jsonl"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
