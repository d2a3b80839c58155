#!/usr/bin/env python3
"""Prints the colon-separated `nvidia/*/lib` folders of this Python's pip CUDA wheels (for SGLANG_CUDA_LIB_DIR)."""
import os

try:
    import nvidia
    roots = list(nvidia.__path__)
except ImportError:
    roots = []
dirs = []
for root in roots:
    for name in sorted(os.listdir(root)):
        lib = os.path.join(root, name, "lib")
        if os.path.isdir(lib):
            dirs.append(lib)
print(":".join(dirs))
