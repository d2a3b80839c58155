#!/usr/bin/env bash
# On a GPU machine: sampling on the device against the host sampler, end to end over HTTP. Serves the smollm2-135m
# config with dummy weights and the SmolLM2 tokenizer twice (device sampling on and off) and runs
# sampling_check.py against both. Usage: bash scripts/cuda/sampling_check.sh SGLANG FIXTURES_DIR [WORK_DIR]
# FIXTURES_DIR holds configs/smollm2-135m/ and smollm2/hf-tokenizer/ as ../shared/fixtures does.
set -uo pipefail
bin="$1"; fixtures="$2"; work="${3:-/tmp/sglang-sampling-check}"
here="$(cd "$(dirname "$0")" && pwd)"
model="$work/smollm2-serve"
mkdir -p "$model"
cp "$fixtures/configs/smollm2-135m/config.json" "$fixtures"/smollm2/hf-tokenizer/* "$model/"
wait_for() { for _ in $(seq 1 120); do curl -sf "127.0.0.1:$1/health" >/dev/null && return 0; sleep 1; done; return 1; }
"$bin" serve --model-path "$model" --load-format dummy --port 31001 --max-total-tokens 200000 > "$work/device.log" 2>&1 &
device_pid=$!
wait_for 31001 || { echo "server A did not start"; tail -5 "$work/device.log"; }
SGLANG_DEVICE_SAMPLING=0 "$bin" serve --model-path "$model" --load-format dummy --port 31002 --max-total-tokens 200000 \
    > "$work/host.log" 2>&1 &
host_pid=$!
wait_for 31002 || { echo "server B did not start"; tail -5 "$work/host.log"; }
python3 "$here/sampling_check.py" http://127.0.0.1:31001 http://127.0.0.1:31002
status=$?
kill "$device_pid" "$host_pid"
wait
exit $status
