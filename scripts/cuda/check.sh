#!/usr/bin/env bash
# On a GPU machine: every kernel (cuda-check), the dense tiny fixtures in fp32 and bf16, and real-width models of
# the smollm2-135m and qwen2.5-7b configs (random bf16 weights built by transformers, scripts/cuda/make_reference.py)
# against transformers; with SMOLLM2_GGUF set, also the fixture chat model served over HTTP in fp32 and bf16
# (scripts/cuda/chat_model_check.py). Usage: [SMOLLM2_GGUF=F] bash scripts/cuda/check.sh SGLANG FIXTURES_DIR [WORK_DIR]
# FIXTURES_DIR holds tiny/<name>/, configs/<name>/ and smollm2/ as ../shared/fixtures does.
set -uo pipefail
bin="$1"; fixtures="$2"; work="${3:-/tmp/sglang-cuda-check}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$work"
status=0
echo "== cuda-check"
"$bin" cuda-check | tail -n 25 || status=1
echo "== tiny fixtures"
"$bin" cuda-check-models "$fixtures"/tiny/{llama,llama31,llama-tied-mha,qwen2,qwen3,mistral,gemma2,mixtral,qwen2_moe,qwen3_moe} || status=1
echo "== real widths, random weights (transformers on this GPU)"
python3 "$here/make_reference.py" "$fixtures/configs/smollm2-135m" "$work/smollm2-135m" --seed 1 || status=1
python3 "$here/make_reference.py" "$fixtures/configs/qwen2.5-7b" "$work/qwen2.5-7b-3l" --layers 3 --seed 2 || status=1
"$bin" cuda-check-models --dtype bfloat16 "$work/smollm2-135m" "$work/qwen2.5-7b-3l" || status=1
if [ -n "${SMOLLM2_GGUF:-}" ]; then
    # dtype, port, greedy margin, logprob tolerance
    for run in "float32 31801 0.05 0.01" "bfloat16 31802 0.1 0.5"; do
        set -- $run
        echo "== SmolLM2 GGUF served, $1"
        "$bin" serve --model-path "$SMOLLM2_GGUF" --port "$2" --dtype "$1" > "$work/serve-$1.log" 2>&1 &
        pid=$!
        for _ in $(seq 1 240); do curl -s -m 2 "127.0.0.1:$2/health" > /dev/null && break; sleep 1; done
        python3 "$here/chat_model_check.py" "http://127.0.0.1:$2" "$fixtures/smollm2" --margin "$3" --logprob-tol "$4" \
            || status=1
        kill "$pid"; wait "$pid" 2>/dev/null
    done
fi
exit $status
