#!/usr/bin/env python3
"""Generates the reference data of Tests/ModelsTests/Resources with Hugging Face transformers,
safetensors and torch (CPU): the oracle the Swift `Models` tests compare against.

    pip install transformers safetensors torch numpy
    python3 scripts/make_models_fixtures.py [--shared ../shared/fixtures]

Outputs (all small):
  rope_cases.json        inverse frequencies + attention factor from transformers' own RoPE functions
  config_expectations.json  what transformers' config classes resolve for each tiny/real config
  tensor_samples.json    a few values and sums of tensors of every tiny model.safetensors
  dtypes/                F16/BF16/F32/I64 tensors (with special values) and an unaligned file, plus
                         the exact float32 bit patterns torch converts them to
  sharded/               a micro llama checkpoint in two shards with model.safetensors.index.json
  weight_layouts.json    tensor names and shapes that transformers' save_pretrained writes for
                         variants with no tiny fixture (Gemma, Phi-3, biases, dense MoE layers)
"""
import argparse
import copy
import importlib
import json
import os
import struct
import tempfile

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import CONFIG_MAPPING, AutoModelForCausalLM
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "ModelsTests", "Resources")
TINY = ["llama", "llama31", "llama-tied-mha", "qwen2", "qwen3", "mistral", "gemma2",
        "mixtral", "qwen2_moe", "qwen3_moe"]


def hf_config(d):
    d = copy.deepcopy(d)
    return CONFIG_MAPPING[d["model_type"]].from_dict(d)


def head_dim_of(cfg):
    return getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads


def rope_of(config_dict, seq_len=None):
    """inv_freq and attention factor exactly as the model's rotary embedding computes them."""
    cfg = hf_config(config_dict)
    rope_type = cfg.rope_parameters["rope_type"]
    if rope_type == "default":
        # The model's own rotary-embedding class computes the default frequencies.
        module = importlib.import_module(f"transformers.models.{cfg.model_type}.modeling_{cfg.model_type}")
        rotary = [getattr(module, n) for n in dir(module) if n.endswith("RotaryEmbedding")]
        inv, attn = rotary[0].compute_default_rope_parameters(cfg)
    else:
        kwargs = {"seq_len": seq_len} if seq_len is not None else {}
        inv, attn = ROPE_INIT_FUNCTIONS[rope_type](cfg, None, **kwargs)
    assert inv.dtype == torch.float32
    return rope_type, inv.tolist(), float(attn)


def base_llama(**extra):
    d = {"model_type": "llama", "hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 1000,
         "max_position_embeddings": 2048, "rope_theta": 10000.0}
    d.update(extra)
    return d


def rope_cases(shared):
    cases = []

    def add(name, config, seq_len=None):
        rope_type, inv, attn = rope_of(config, seq_len)
        cases.append({"name": name, "config": config, "seq_len": seq_len, "rope_type": rope_type,
                      "inv_freq": inv, "attention_factor": attn})

    for t in TINY:
        add("tiny/" + t, json.load(open(os.path.join(shared, "tiny", t, "config.json"))))
    for r in ["llama-3.1-8b", "smollm2-135m", "qwen3-8b", "qwen2.5-7b", "mixtral-8x7b"]:
        add("configs/" + r, json.load(open(os.path.join(shared, "configs", r, "config.json"))))

    add("linear/legacy-type-key", base_llama(rope_scaling={"type": "linear", "factor": 4.0}))
    add("linear/rope_parameters", base_llama(rope_parameters={"rope_type": "linear", "factor": 2.5,
                                                              "rope_theta": 50000.0}))
    add("dynamic/init", base_llama(rope_scaling={"rope_type": "dynamic", "factor": 2.0}))
    add("dynamic/seq-3000", base_llama(rope_scaling={"rope_type": "dynamic", "factor": 2.0}), seq_len=3000)
    add("dynamic/seq-below-max", base_llama(rope_scaling={"type": "dynamic", "factor": 4.0}), seq_len=100)
    add("llama3/orig-from-max", base_llama(rope_theta=500000.0, max_position_embeddings=4096,
                                           rope_scaling={"rope_type": "llama3", "factor": 16.0,
                                                         "low_freq_factor": 1.0, "high_freq_factor": 4.0}))
    qwen = {"model_type": "qwen2", "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 2,
            "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 1000,
            "max_position_embeddings": 32768, "rope_theta": 1000000.0,
            "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}}
    add("yarn/qwen2.5-legacy", qwen)
    add("yarn/mscale", base_llama(max_position_embeddings=16384, rope_parameters={
        "rope_type": "yarn", "rope_theta": 10000.0, "factor": 8.0, "beta_fast": 16, "beta_slow": 2,
        "mscale": 1.0, "mscale_all_dim": 0.5, "original_max_position_embeddings": 2048}))
    add("yarn/attention-factor-no-truncate", base_llama(max_position_embeddings=8192, rope_scaling={
        "rope_type": "yarn", "factor": 4.0, "attention_factor": 1.25, "truncate": False,
        "original_max_position_embeddings": 2048}))
    add("yarn/orig-from-max", base_llama(rope_scaling={"rope_type": "yarn", "factor": 2.0}))
    short = [1.0 + 0.05 * i for i in range(48)]
    long = [1.0 + 0.4 * i for i in range(48)]
    phi3 = {"model_type": "phi3", "hidden_size": 3072, "intermediate_size": 8192, "num_hidden_layers": 2,
            "num_attention_heads": 32, "num_key_value_heads": 32, "vocab_size": 1000,
            "max_position_embeddings": 131072, "original_max_position_embeddings": 4096, "rope_theta": 10000.0,
            "rope_scaling": {"type": "longrope", "short_factor": short, "long_factor": long}}
    add("longrope/phi3-short", phi3)
    add("longrope/phi3-long", phi3, seq_len=5000)
    add("default/partial-rotary", {"model_type": "phi3", "hidden_size": 3072, "intermediate_size": 8192,
                                   "num_hidden_layers": 2, "num_attention_heads": 24, "num_key_value_heads": 8,
                                   "vocab_size": 1000, "rope_theta": 10000.0, "partial_rotary_factor": 0.75})
    return cases


def config_expectations(shared):
    out = []
    paths = [("tiny/" + t, os.path.join(shared, "tiny", t, "config.json")) for t in TINY]
    paths += [("configs/" + r, os.path.join(shared, "configs", r, "config.json"))
              for r in sorted(os.listdir(os.path.join(shared, "configs")))]
    for name, path in paths:
        d = json.load(open(path))
        cfg = hf_config(d)
        rp = cfg.rope_parameters
        e = {"name": name, "path": os.path.relpath(path, shared), "model_type": cfg.model_type,
             "vocab_size": cfg.vocab_size, "hidden_size": cfg.hidden_size,
             "intermediate_size": cfg.intermediate_size, "num_hidden_layers": cfg.num_hidden_layers,
             "num_attention_heads": cfg.num_attention_heads, "num_key_value_heads": cfg.num_key_value_heads,
             "head_dim": head_dim_of(cfg), "rms_norm_eps": cfg.rms_norm_eps,
             "max_position_embeddings": cfg.max_position_embeddings,
             "tie_word_embeddings": cfg.tie_word_embeddings,
             "rope_type": rp["rope_type"], "rope_theta": rp["rope_theta"],
             "sliding_window": getattr(cfg, "sliding_window", None),
             "layer_types": getattr(cfg, "layer_types", None),
             "num_experts": getattr(cfg, "num_local_experts", None) or getattr(cfg, "num_experts", None),
             "num_experts_per_tok": getattr(cfg, "num_experts_per_tok", None),
             "moe_intermediate_size": getattr(cfg, "moe_intermediate_size", None),
             "shared_expert_intermediate_size": getattr(cfg, "shared_expert_intermediate_size", None),
             "norm_topk_prob": getattr(cfg, "norm_topk_prob", None),
             "eos_token_id": cfg.eos_token_id, "bos_token_id": cfg.bos_token_id,
             "hidden_act": getattr(cfg, "hidden_activation", None) or getattr(cfg, "hidden_act", None)}
        for k in ["query_pre_attn_scalar", "attn_logit_softcapping", "final_logit_softcapping"]:
            if hasattr(cfg, k):
                e[k] = getattr(cfg, k)
        out.append(e)
    return out


def tensor_samples(shared):
    out = {}
    for t in TINY:
        path = os.path.join(shared, "tiny", t, "model.safetensors")
        with safe_open(path, "np") as f:
            names = sorted(f.keys())
            picks = [names[0], names[len(names) // 2], names[-1], "model.embed_tokens.weight",
                     "model.layers.1.self_attn.k_proj.weight"]
            samples = []
            for n in dict.fromkeys(picks):
                a = f.get_tensor(n)
                flat = a.reshape(-1)
                samples.append({"name": n, "shape": list(a.shape), "dtype": str(a.dtype),
                                "first": [float(x) for x in flat[:8]], "last": float(flat[-1]),
                                "sum": float(flat.astype(np.float64).sum()),
                                "abs_sum": float(np.abs(flat.astype(np.float64)).sum())})
        out[t] = {"tensor_count": len(names), "samples": samples}
    return out


def float_bits(t):
    return [int(x) & 0xFFFFFFFF for x in t.to(torch.float32).view(torch.int32).reshape(-1).tolist()]


def write_unaligned(path, tensors):
    """A valid file whose data section starts at an odd offset (tests unaligned loads)."""
    header, blobs, offset = {}, [], 0
    for name, (dtype, arr) in tensors.items():
        raw = arr.tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    while (8 + len(text)) % 8 != 3:
        text += b" "
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def dtype_files():
    d = os.path.join(OUT, "dtypes")
    os.makedirs(d, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    special16 = [0.0, -0.0, 1.0, -2.5, 65504.0, -65504.0, 6.103515625e-05, 5.960464477539063e-08, 3e-06,
                 0.1, float("inf"), float("-inf"), float("nan")]
    specialbf = [0.0, -0.0, 1.0, -2.5, 3.3895313892515355e38, 1.1754943508222875e-38, 1e-40, 0.1,
                 float("inf"), float("-inf"), float("nan")]
    tensors = {
        "f16.special": torch.tensor(special16, dtype=torch.float16),
        "bf16.special": torch.tensor(specialbf, dtype=torch.bfloat16),
        "f16.matrix": torch.randn(4, 6, generator=g).to(torch.float16),
        "bf16.cube": torch.randn(2, 3, 4, generator=g).to(torch.bfloat16),
        "f32.matrix": torch.randn(3, 5, generator=g),
        "f64.vector": torch.randn(7, generator=g, dtype=torch.float64),
        "i64.ids": torch.arange(5, dtype=torch.int64),
        "f32.scalar": torch.tensor(3.5),
        "f32.empty": torch.zeros(0, 4),
    }
    save_file(tensors, os.path.join(d, "mixed.safetensors"), metadata={"format": "pt", "note": "ignored"})
    expected = {n: {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                    "bits": None if n == "i64.ids" else float_bits(t)} for n, t in tensors.items()}

    rng = np.random.default_rng(1)
    un = {"u.f32": ("F32", rng.standard_normal((3, 3)).astype("<f4")),
          "u.f16": ("F16", rng.standard_normal((5,)).astype("<f2")),
          "u.bf16": ("BF16", (rng.integers(0, 2**16, size=6, dtype=np.uint16)
                              & 0x7F7F).astype("<u2"))}  # finite bfloat16 bit patterns
    write_unaligned(os.path.join(d, "unaligned.safetensors"), un)
    un_expected = {
        "u.f32": {"shape": [3, 3], "bits": [int(x) for x in un["u.f32"][1].view("<u4").reshape(-1)]},
        "u.f16": {"shape": [5], "bits": [int(x) for x in
                                          un["u.f16"][1].astype("<f4").view("<u4").reshape(-1)]},
        "u.bf16": {"shape": [6], "bits": [int(x) << 16 for x in un["u.bf16"][1]]},
    }
    json.dump({"mixed.safetensors": expected, "unaligned.safetensors": un_expected},
              open(os.path.join(d, "expected.json"), "w"), indent=1)


def sharded_checkpoint():
    d = os.path.join(OUT, "sharded")
    os.makedirs(d, exist_ok=True)
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 8,
              "intermediate_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
              "num_key_value_heads": 1, "vocab_size": 32, "max_position_embeddings": 64,
              "rope_theta": 10000.0, "rms_norm_eps": 1e-5, "tie_word_embeddings": False,
              "bos_token_id": 1, "eos_token_id": [2, 3], "torch_dtype": "bfloat16"}
    json.dump(config, open(os.path.join(d, "config.json"), "w"), indent=2)
    json.dump({"bos_token_id": 1, "eos_token_id": [2, 3], "do_sample": True, "temperature": 0.6,
               "top_p": 0.9, "top_k": 20, "repetition_penalty": 1.05, "max_new_tokens": 128},
              open(os.path.join(d, "generation_config.json"), "w"), indent=2)
    hd, h, i, v, kv = 4, 8, 16, 32, 1
    g = torch.Generator().manual_seed(7)
    shapes = {"model.embed_tokens.weight": [v, h], "model.norm.weight": [h], "lm_head.weight": [v, h]}
    for layer in range(2):
        p = f"model.layers.{layer}."
        shapes.update({p + "input_layernorm.weight": [h], p + "post_attention_layernorm.weight": [h],
                       p + "self_attn.q_proj.weight": [2 * hd, h], p + "self_attn.k_proj.weight": [kv * hd, h],
                       p + "self_attn.v_proj.weight": [kv * hd, h], p + "self_attn.o_proj.weight": [h, 2 * hd],
                       p + "mlp.gate_proj.weight": [i, h], p + "mlp.up_proj.weight": [i, h],
                       p + "mlp.down_proj.weight": [h, i]})
    tensors = {n: torch.randn(*s, generator=g).to(torch.bfloat16) for n, s in shapes.items()}
    shard_of = {n: ("model-00001-of-00002.safetensors" if ("layers.0." in n or "embed" in n)
                    else "model-00002-of-00002.safetensors") for n in tensors}
    for shard in sorted(set(shard_of.values())):
        save_file({n: t for n, t in tensors.items() if shard_of[n] == shard}, os.path.join(d, shard),
                  metadata={"format": "pt"})
    total = sum(t.numel() * 2 for t in tensors.values())
    json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(shard_of.items()))},
              open(os.path.join(d, "model.safetensors.index.json"), "w"), indent=2)
    json.dump({n: {"shape": list(t.shape), "bits": float_bits(t)} for n, t in sorted(tensors.items())},
              open(os.path.join(d, "expected.json"), "w"))


def weight_layouts():
    base = {"vocab_size": 64, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "bos_token_id": 1, "eos_token_id": 2,
            "pad_token_id": 0}
    moe = {"num_experts": 3, "num_experts_per_tok": 2, "moe_intermediate_size": 16}
    variants = [
        ("gemma", {"model_type": "gemma", "head_dim": 8}),
        ("phi3", {"model_type": "phi3"}),
        ("llama-biases", {"model_type": "llama", "attention_bias": True, "mlp_bias": True}),
        ("qwen3-attention-bias", {"model_type": "qwen3", "head_dim": 16, "attention_bias": True}),
        ("qwen2_moe-mlp-only-layer", {"model_type": "qwen2_moe", **moe, "shared_expert_intermediate_size": 24,
                                      "mlp_only_layers": [1]}),
        ("qwen2_moe-sparse-step-2", {"model_type": "qwen2_moe", **moe, "shared_expert_intermediate_size": 24,
                                     "decoder_sparse_step": 2, "qkv_bias": False}),
        ("qwen3_moe-mlp-only-layer", {"model_type": "qwen3_moe", **moe, "head_dim": 8, "mlp_only_layers": [0],
                                      "tie_word_embeddings": True}),
    ]
    out = []
    for name, extra in variants:
        config = dict(base, **extra)
        cfg = hf_config(config)
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(cfg)
        tensors = {}
        with tempfile.TemporaryDirectory() as tmp:
            model.save_pretrained(tmp)
            for f in sorted(os.listdir(tmp)):
                if f.endswith(".safetensors"):
                    with safe_open(os.path.join(tmp, f), "pt") as s:
                        for k in s.keys():
                            tensors[k] = list(s.get_slice(k).get_shape())
        out.append({"name": name, "config": config, "tensors": dict(sorted(tensors.items()))})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(ROOT), "shared", "fixtures"))
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    json.dump(rope_cases(args.shared), open(os.path.join(OUT, "rope_cases.json"), "w"), indent=1)
    json.dump(config_expectations(args.shared), open(os.path.join(OUT, "config_expectations.json"), "w"), indent=1)
    json.dump(tensor_samples(args.shared), open(os.path.join(OUT, "tensor_samples.json"), "w"), indent=1)
    json.dump(weight_layouts(), open(os.path.join(OUT, "weight_layouts.json"), "w"), indent=1)
    dtype_files()
    sharded_checkpoint()
    print("wrote", OUT)


if __name__ == "__main__":
    main()
