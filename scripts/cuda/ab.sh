#!/usr/bin/env bash
# On a GPU machine: each decode switch against the defaults in one run, Llama-3.1-8B (dummy weights) decode step
# at batch 1 and 64, context ~1k. The defaults fuse the batch-1 norms into the GEMMs (SGLANG_FUSED_NORM) and launch
# with programmatic dependent launch (SGLANG_ENABLE_PDL); the in-kernel split merge is opt-in.
# Usage: bash scripts/cuda/ab.sh SGLANG FIXTURES_DIR
set -uo pipefail
bin="$1"; fixtures="$2"
cfg="$fixtures/configs/llama-3.1-8b"
echo "== decode step (ms), batch 1 and 64, context ~1k"
for flags in "" "SGLANG_FUSED_NORM=0" "SGLANG_ENABLE_PDL=0" "SGLANG_FUSED_NORM=0 SGLANG_ENABLE_PDL=0" \
             "SGLANG_DECODE_FUSED_MERGE=1" ""; do
    times=$(env $flags "$bin" bench-one-batch --model-path "$cfg" --load-format dummy --batch-size 1 64 \
        --input-len 1000 --output-len 64 | awk '/^Decode\./ { printf "%.2f ", $4 * 1000 }')
    echo "${flags:-defaults}: $times"
done
