#!/usr/bin/env bash
# On a GPU machine: every kernel (cuda-check), the dense tiny fixtures in fp32 and bf16, and real-width models of
# the smollm2-135m and qwen2.5-7b configs (random bf16 weights built by transformers, scripts/cuda/make_reference.py)
# against transformers. Usage: bash scripts/cuda/check.sh SGLANG FIXTURES_DIR [WORK_DIR]
# FIXTURES_DIR holds tiny/<name>/ and configs/<name>/ as ../shared/fixtures does.
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
exit $status
