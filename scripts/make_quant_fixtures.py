#!/usr/bin/env python3
"""Writes the expectations of the quantization tests, computed with the `gguf` Python package
(llama.cpp's reference numpy code) and numpy:

- Tests/ComputeTests/Resources/quant/<TYPE>.blocks: random and edge-case blocks of each ggml type,
  <TYPE>.f32: `gguf.quants.dequantize` of them (little-endian float32).
- Tests/ModelsTests/Resources/gguf_smollm2.json: for tensors of the SmolLM2 GGUF, the Hugging Face name,
  shape, float64 sum and sampled values after dequantization, with attn_q/attn_k rows un-permuted the way
  transformers' GGUF loader does (reimplemented here with numpy), plus the config transformers derives.

Usage: pip install gguf numpy; bash scripts/fetch-smollm2.sh; python3 scripts/make_quant_fixtures.py
"""
import json
import os
import sys

import numpy as np
from gguf import GGUFReader
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType as T
from gguf.quants import dequantize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUANT_DIR = os.path.join(ROOT, "Tests/ComputeTests/Resources/quant")
MODELS_RES = os.path.join(ROOT, "Tests/ModelsTests/Resources")

# Byte offsets of the f16 scale fields inside one block, per type.
HALF_FIELDS = {
    "Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2], "Q8_0": [0],
    "Q2_K": [80, 82], "Q3_K": [108], "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208],
}
EDGE_HALVES = np.array([0.0, -0.0, 1.0, -1.0, 65504.0, -65504.0, 6.1e-5, 5.96e-8, -3.0e-7, 0.5, 1e-3, -2.5e-2],
                       dtype=np.float16)


def random_halves(rng, n):
    """Finite f16 values of many magnitudes (normal and subnormal), both signs."""
    exps = rng.uniform(-26, 15, size=n)
    vals = np.sign(rng.uniform(-1, 1, size=n)) * np.exp2(exps)
    return vals.astype(np.float16)


def make_blocks(rng, name, nblocks):
    block, size = GGML_QUANT_SIZES[T[name]]
    data = rng.integers(0, 256, size=(nblocks, size), dtype=np.uint8)
    # The edge blocks: all-zero and all-ones payloads.
    data[0, :] = 0
    data[1, :] = 0xFF
    halves = random_halves(rng, nblocks * len(HALF_FIELDS[name])).reshape(nblocks, -1)
    for i in range(min(nblocks, len(EDGE_HALVES))):
        halves[i, 0] = EDGE_HALVES[i]
        if halves.shape[1] > 1:
            halves[i, 1] = EDGE_HALVES[(i + 5) % len(EDGE_HALVES)]
    for j, off in enumerate(HALF_FIELDS[name]):
        data[:, off:off + 2] = halves[:, j:j + 1].view(np.uint8).reshape(nblocks, 2)
    return data


def write_quant_cases():
    os.makedirs(QUANT_DIR, exist_ok=True)
    rng = np.random.default_rng(20240531)
    for name in HALF_FIELDS:
        block, _ = GGML_QUANT_SIZES[T[name]]
        nblocks = 48 if block == 32 else 12
        data = make_blocks(rng, name, nblocks)
        values = dequantize(data, T[name]).astype("<f4")
        data.tofile(os.path.join(QUANT_DIR, f"{name}.blocks"))
        values.tofile(os.path.join(QUANT_DIR, f"{name}.f32"))
    # Plain float types: every bit pattern class (normals, subnormals, zeros, infinities) except NaN.
    f16 = np.concatenate([random_halves(rng, 250), EDGE_HALVES, np.array([np.inf, -np.inf], np.float16)])
    f16.view(np.uint8).tofile(os.path.join(QUANT_DIR, "F16.blocks"))
    dequantize(f16.view(np.uint8), T.F16).astype("<f4").tofile(os.path.join(QUANT_DIR, "F16.f32"))
    bf = rng.integers(0, 1 << 16, size=256, dtype=np.uint16)
    bf = bf[(bf & 0x7F80) != 0x7F80]  # drop NaN/inf patterns
    bf.view(np.uint8).tofile(os.path.join(QUANT_DIR, "BF16.blocks"))
    dequantize(bf.view(np.uint8), T.BF16).astype("<f4").tofile(os.path.join(QUANT_DIR, "BF16.f32"))


def reverse_permute(w, n_head):
    """transformers' reverse_permute_weights: rows (h, j, k) → (h, k, j) with k the RoPE pair index."""
    dim = w.shape[0] // n_head // 2
    return w.reshape(n_head, dim, 2, *w.shape[1:]).swapaxes(2, 1).reshape(w.shape)


def hf_name(name):
    table = {
        "token_embd.weight": "model.embed_tokens.weight",
        "output_norm.weight": "model.norm.weight",
        "output.weight": "lm_head.weight",
    }
    if name in table:
        return table[name]
    parts = name.split(".")
    layer, rest = parts[1], ".".join(parts[2:])
    per_layer = {
        "attn_q.weight": "self_attn.q_proj.weight", "attn_k.weight": "self_attn.k_proj.weight",
        "attn_v.weight": "self_attn.v_proj.weight", "attn_output.weight": "self_attn.o_proj.weight",
        "ffn_gate.weight": "mlp.gate_proj.weight", "ffn_up.weight": "mlp.up_proj.weight",
        "ffn_down.weight": "mlp.down_proj.weight", "attn_norm.weight": "input_layernorm.weight",
        "ffn_norm.weight": "post_attention_layernorm.weight",
    }
    return f"model.layers.{layer}.{per_layer[rest]}"


def write_smollm2():
    path = os.path.join(ROOT, "models/SmolLM2-135M-Instruct.Q4_1.gguf")
    if not os.path.exists(path):
        sys.exit(f"{path} is missing: run scripts/fetch-smollm2.sh first")
    reader = GGUFReader(path)
    heads, kv_heads = 9, 3
    wanted = ["token_embd.weight", "output_norm.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight",
              "blk.0.attn_v.weight", "blk.0.attn_norm.weight", "blk.7.attn_q.weight", "blk.13.ffn_down.weight",
              "blk.29.attn_k.weight", "blk.29.ffn_gate.weight", "blk.29.attn_output.weight", "blk.29.ffn_up.weight"]
    rng = np.random.default_rng(7)
    tensors = []
    all_names = []
    for t in reader.tensors:
        all_names.append({"gguf": t.name, "hf": hf_name(t.name), "type": t.tensor_type.name,
                          "shape": [int(x) for x in reversed(t.shape.tolist())]})
        if t.name not in wanted:
            continue
        values = dequantize(t.data, t.tensor_type).astype(np.float32)
        shape = [int(x) for x in reversed(t.shape.tolist())]
        values = values.reshape(shape)
        if t.name.endswith("attn_q.weight"):
            values = reverse_permute(values, heads)
        elif t.name.endswith("attn_k.weight"):
            values = reverse_permute(values, kv_heads)
        flat = values.reshape(-1)
        idx = np.unique(np.concatenate([np.arange(8), rng.integers(0, flat.size, size=24), [flat.size - 1]]))
        tensors.append({
            "gguf": t.name, "hf": hf_name(t.name), "type": t.tensor_type.name, "shape": shape,
            "sum": float(flat.astype(np.float64).sum()), "abs_sum": float(np.abs(flat.astype(np.float64)).sum()),
            "indices": [int(i) for i in idx], "values": [float(flat[i]) for i in idx],
        })
    config = {
        "model_type": "llama", "vocab_size": 49152, "hidden_size": 576, "intermediate_size": 1536,
        "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3, "head_dim": 64,
        "max_position_embeddings": 8192, "rms_norm_eps": 1e-5, "rope_theta": 100000.0, "tie_word_embeddings": True,
    }
    out = {"file": "SmolLM2-135M-Instruct.Q4_1.gguf", "config": config, "tensor_count": len(reader.tensors),
           "names": all_names, "tensors": tensors}
    with open(os.path.join(MODELS_RES, "gguf_smollm2.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    write_quant_cases()
    write_smollm2()
    print("wrote", QUANT_DIR, "and", os.path.join(MODELS_RES, "gguf_smollm2.json"))
