#!/usr/bin/env bash
# On a GPU machine: the opt-in decode paths against the defaults, in one run. Checks the fused batch-1 path
# (SGLANG_FUSED_NORM=1) on the tiny fixtures and, when WORK_DIR holds them (scripts/cuda/check.sh makes them),
# the real-width models; then times Llama-3.1-8B decode (dummy weights) at batch 1 and 64 with each flag.
# Usage: bash scripts/cuda/ab.sh SGLANG FIXTURES_DIR [WORK_DIR]
set -uo pipefail
bin="$1"; fixtures="$2"; work="${3:-/tmp/sglang-cuda-check}"
cfg="$fixtures/configs/llama-3.1-8b"
echo "== fused batch-1 path: model checks"
SGLANG_FUSED_NORM=1 "$bin" cuda-check-models --dtype bfloat16 \
    "$fixtures"/tiny/{llama,llama31,llama-tied-mha,qwen2,qwen3,mistral,gemma2,mixtral,qwen2_moe,qwen3_moe} | grep -E " NO$|checks passed"
for model in "$work/smollm2-135m" "$work/qwen2.5-7b-3l"; do
    [ -f "$model/reference.json" ] && SGLANG_FUSED_NORM=1 "$bin" cuda-check-models --dtype bfloat16 "$model" | grep -E " NO$|checks passed"
done
echo "== decode step (ms), batch 1 and 64, context ~1k"
for flags in "" "SGLANG_FUSED_NORM=1" "SGLANG_DECODE_FUSED_MERGE=1" "SGLANG_FUSED_NORM=1 SGLANG_DECODE_FUSED_MERGE=1"; do
    times=$(env $flags "$bin" bench-one-batch --model-path "$cfg" --load-format dummy --batch-size 1 64 \
        --input-len 1000 --output-len 64 | awk '/^Decode\./ { printf "%.2f ", $4 * 1000 }')
    echo "${flags:-defaults}: $times"
done
