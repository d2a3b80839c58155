"""Builds a model of a real config with random bf16 weights (fixed seed) with transformers on the GPU, saves it
as a Hugging Face folder, and writes reference.json in the format `sglang cuda-check-models` reads: token
sequences, transformers' bf16 logits at a few positions of each, and 32 greedy ids per sequence.

Usage (on the GPU machine): python3 make_reference.py CONFIG_DIR OUT_DIR [--layers N] [--seed S]
--layers keeps the real widths but fewer decoder layers, so a 7B-wide model saves and loads in seconds."""
import argparse, json, os, torch
from transformers import AutoConfig, AutoModelForCausalLM

ap = argparse.ArgumentParser()
ap.add_argument("config_dir"); ap.add_argument("out_dir")
ap.add_argument("--layers", type=int, default=0); ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--greedy", type=int, default=32)
a = ap.parse_args()

config = AutoConfig.from_pretrained(a.config_dir)
if a.layers:
    config.num_hidden_layers = a.layers
    if getattr(config, "layer_types", None):
        config.layer_types = config.layer_types[: a.layers]
torch.manual_seed(a.seed)
with torch.device("cuda"):
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
model.eval()
os.makedirs(a.out_dir, exist_ok=True)
model.save_pretrained(a.out_dir, safe_serialization=True)

g = torch.Generator().manual_seed(a.seed + 1)
V = config.vocab_size
seqs = [torch.randint(0, V, (n,), generator=g).tolist() for n in (37, 9)]
ref = {"sequences": seqs, "positions": [], "logits": [], "greedy": []}
with torch.no_grad():
    for s in seqs:
        ids = torch.tensor([s], device="cuda")
        logits = model(ids).logits[0].float()
        pos = sorted({0, len(s) // 2, len(s) - 2, len(s) - 1} & set(range(len(s))))
        ref["positions"].append(pos)
        ref["logits"].append([[round(x, 5) for x in logits[p].tolist()] for p in pos])
        out = model.generate(ids, max_new_tokens=a.greedy, do_sample=False, min_new_tokens=a.greedy,
                             pad_token_id=0, eos_token_id=None)
        ref["greedy"].append(out[0, len(s):].tolist())
with open(os.path.join(a.out_dir, "reference.json"), "w") as f:
    json.dump(ref, f)
print(f"{a.out_dir}: {config.model_type}, {config.num_hidden_layers} layers, hidden {config.hidden_size}, "
      f"vocab {V}, {sum(p.numel() for p in model.parameters()) / 1e9:.2f} B params")
