#!/usr/bin/env bash
# On a GPU machine: runs a command under the CUPTI kernel tracer (scripts/cuda/ktrace.c), built here against the
# CUDA toolkit's CUPTI, and writes the trace to TRACE.csv; then `python3 scripts/cuda/ktrace_report.py TRACE.csv`.
# Usage: bash scripts/cuda/ktrace.sh TRACE.csv COMMAND [ARGS...]   (KTRACE_API=1 adds driver calls and copies)
set -euo pipefail
trace="$1"; shift
here="$(cd "$(dirname "$0")" && pwd)"
cuda="${CUDA_HOME:-/usr/local/cuda}"
header=$(find -L "$cuda/" -name cupti_activity.h 2>/dev/null | head -n 1)
[ -n "$header" ] || { echo "no cupti_activity.h under $cuda" >&2; exit 1; }
include=$(dirname "$header")
lib=$(dirname "$(find -L "$cuda/" -name 'libcupti.so*' 2>/dev/null | head -n 1)")
latest() { grep -ho "} CUpti_Activity$1[0-9]*;" "$include"/cupti_activity*.h | grep -o '[0-9]*' | sort -n | tail -n 1; }
so="${TMPDIR:-/tmp}/ktrace-$$.so"
gcc -O2 -shared -fPIC -DKREC="CUpti_ActivityKernel$(latest Kernel)" -DMREC="CUpti_ActivityMemcpy$(latest Memcpy)" \
    -I"$include" -I"$cuda/include" "$here/ktrace.c" -o "$so" -L"$lib" -lcupti
LD_PRELOAD="$so" KTRACE_OUT="$trace" LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@"
