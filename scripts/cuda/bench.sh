#!/usr/bin/env bash
# On a GPU machine, in one run: the device's ceilings (copy bandwidth, bf16 GEMM rate), our bench-one-batch on the
# llama-3.1-8b config with dummy weights (decode at batch 1 and 64, context ~1k; prefill of 2048 tokens at batch 1
# and 8), and the torch.compile peer at batch 1 and 64. Usage: bash scripts/cuda/bench.sh SGLANG FIXTURES TOOLS
# (FIXTURES holds configs/llama-3.1-8b; TOOLS holds device_ceilings.py and torch_peer.py).
set -uo pipefail
bin="$1"; fixtures="$2"; tools="$3"
cfg="$fixtures/configs/llama-3.1-8b"
out="${OUT_DIR:-/tmp/sglang-bench}"
mkdir -p "$out"
echo "== ceilings"
python3 "$tools/device_ceilings.py"
echo "== sglang bench-one-batch: decode"
"$bin" bench-one-batch --model-path "$cfg" --load-format dummy --batch-size 1 64 --input-len 1000 --output-len 64 \
    --result-filename "$out/decode.jsonl" ${EXTRA:-} | grep -v "^Decode [0-9]"
echo "== sglang bench-one-batch: prefill 2048"
"$bin" bench-one-batch --model-path "$cfg" --load-format dummy --batch-size 1 8 --input-len 2048 --output-len 2 \
    --result-filename "$out/prefill.jsonl" ${EXTRA:-} | grep -v "^Decode [0-9]"
echo "== torch.compile peer"
python3 "$tools/torch_peer.py" "$cfg/config.json" 1
python3 "$tools/torch_peer.py" "$cfg/config.json" 64
