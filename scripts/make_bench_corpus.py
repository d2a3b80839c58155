#!/usr/bin/env python3
"""Builds a tokenizer benchmark corpus (default ≥ 12 MB) from text available offline on this machine.

Composition, in this order (deterministic: sorted paths):
  1. multilingual: the vim tutors in 20+ languages (/usr/share/vim/vim*/tutor/*.utf-8), GnuPG's translated
     help texts, Python's test/cjkencodings/*-utf8.txt (Chinese, Japanese, Korean), the glibc locale
     sources /usr/share/i18n/locales, and rich's emoji table;
  2. prose: /usr/share/doc text files (READMEs, changelogs, licenses; .gz files decompressed), up to 55%;
  3. code: the Python standard library's .py sources, until the size is reached.
Invalid UTF-8 is dropped. Usage: python3 scripts/make_bench_corpus.py OUT [MEGABYTES]
"""
import glob
import gzip
import os
import sys
import sysconfig


def read_text(path: str) -> str:
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                data = f.read()
        else:
            with open(path, "rb") as f:
                data = f.read()
    except OSError:
        return ""
    if b"\0" in data[:4096]:
        return ""  # binary
    return data.decode("utf-8", errors="ignore")


def main() -> None:
    out = sys.argv[1]
    target = int(float(sys.argv[2] if len(sys.argv) > 2 else 12) * 1_000_000)
    stdlib = sysconfig.get_paths()["stdlib"]
    parts: list[str] = []
    size = 0

    def add(text: str) -> None:
        nonlocal size
        if text:
            parts.append(text)
            size += len(text.encode("utf-8"))

    for p in sorted(glob.glob("/usr/share/vim/vim*/tutor/*.utf-8")) + sorted(glob.glob("/usr/share/gnupg/help.*.txt")):
        add(read_text(p))
    for p in sorted(glob.glob(os.path.join(stdlib, "test", "cjkencodings", "*-utf8.txt"))):
        add(read_text(p))
    for p in sorted(glob.glob("/usr/share/i18n/locales/*")):
        add(read_text(p))
    try:
        import rich._emoji_codes as emoji  # noqa: PLC0415
        add("\n".join(f"{k}: {v}" for k, v in sorted(emoji.EMOJI.items())))
    except ImportError:
        pass
    prose_limit = int(target * 0.55)
    for p in sorted(glob.glob("/usr/share/doc/**/*", recursive=True)):
        if size >= prose_limit:
            break
        if os.path.isfile(p) and not p.endswith((".png", ".gif", ".jpg", ".svg", ".pdf", ".woff", ".ico")):
            add(read_text(p))
    for p in sorted(glob.glob(os.path.join(stdlib, "**", "*.py"), recursive=True)):
        if size >= target:
            break
        add(read_text(p))
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
    print(f"{out}: {size / 1e6:.2f} MB in {len(parts)} documents")


if __name__ == "__main__":
    main()
