#!/usr/bin/env python3
"""Builds the tiny LLaVA oracle fixtures under Tests/ModelsTests/Resources/.

Two random-weight LlavaForConditionalGeneration models (fixed seeds, float32):
- tiny-llava/: CLIP vision tower (2 layers, hidden 32, image 28, patch 7 -> 16 patches + CLS, quick_gelu),
  vision_feature_layer -2, strategy "default" (CLS dropped), gelu projector, Llama text model (hidden 64, 2 layers).
- tiny-llava-siglip/: SigLIP vision tower (no CLS, gelu_pytorch_tanh), vision_feature_layer [-2, -1]
  (concatenated), strategy "full", Qwen2 text model.

Both share a byte-level BPE tokenizer written here (256 byte tokens, no merges, plus <|endoftext|>,
<|im_start|>, <|im_end|> and <image>), so the vocabulary (and the weights) stay tiny. Each folder gets
config.json, model.safetensors, tokenizer.json, tokenizer_config.json (with a chatml chat template that
renders {"type": "image"} parts as "<image>\\n"), preprocessor_config.json, two test images and
reference.json: pixel values (transformers' CLIPImageProcessor / SiglipImageProcessor), image features
(vision tower + projector), logits of a prompt holding the image (last row and a few sampled rows), 8
greedy ids, and 8 greedy ids of a prompt holding both images (`two_images`).

Usage: python3 scripts/make-tiny-llava.py   (run from the repository root; torch + transformers 5)
"""
import json
import os

import numpy as np
import torch
from PIL import Image
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import (CLIPImageProcessor, CLIPVisionConfig, LlamaConfig, LlavaConfig,
                          LlavaForConditionalGeneration, Qwen2Config, SiglipImageProcessor, SiglipVisionConfig)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "ModelsTests", "Resources")
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image>\n{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def byte_tokenizer():
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    # GPT-2's byte order: the byte-to-unicode table sorted by byte value.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, [chr(c) for c in cs]))
    vocab = {table[b]: b for b in range(256)}
    assert set(vocab) == set(alphabet)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(SPECIALS)
    return tok


def test_images(folder):
    # Non-square, non-multiple-of-28 sizes so resize and center crop both matter.
    h, w = 36, 45
    y, x = np.mgrid[0:h, 0:w]
    a = np.stack([(x * 255 // (w - 1)), (y * 255 // (h - 1)), ((x + y) * 7) % 256], axis=-1).astype(np.uint8)
    a[10:20, 15:30] = [250, 20, 30]
    b = np.stack([((x * y) * 3) % 256, 255 - (y * 255 // (h - 1)), (x * 255 // (w - 1))], axis=-1).astype(np.uint8)
    b[5:25, 5:12] = [10, 200, 40]
    Image.fromarray(a).save(os.path.join(folder, "image-a.png"))
    Image.fromarray(b).save(os.path.join(folder, "image-b.png"))
    return [Image.open(os.path.join(folder, n)).convert("RGB") for n in ("image-a.png", "image-b.png")]


def build(name, vision_config, text_config, processor, layer, strategy, seed):
    folder = os.path.join(ROOT, name)
    os.makedirs(folder, exist_ok=True)
    tok = byte_tokenizer()
    image_id = tok.token_to_id("<image>")
    vocab = tok.get_vocab_size()
    text_config.vocab_size = vocab
    text_config.bos_token_id = None
    text_config.eos_token_id = tok.token_to_id("<|im_end|>")
    text_config.pad_token_id = tok.token_to_id("<|endoftext|>")
    config = LlavaConfig(vision_config=vision_config, text_config=text_config, image_token_index=image_id,
                         vision_feature_layer=layer, vision_feature_select_strategy=strategy,
                         projector_hidden_act="gelu", image_seq_length=16)
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config).eval()
    # Random init is near zero for some tensors; widen it so every path matters.
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "norm" in pname and pname.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif pname.endswith("bias") or "embedding" in pname:
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(0.08 * torch.randn_like(p))
    model.save_pretrained(folder)
    tok.save(os.path.join(folder, "tokenizer.json"))
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": None, "eos_token": "<|im_end|>",
                   "pad_token": "<|endoftext|>", "unk_token": None, "model_max_length": 2048,
                   "add_bos_token": False, "add_eos_token": False, "chat_template": CHAT_TEMPLATE}, f, indent=2)
    processor.save_pretrained(folder)
    for extra in ("generation_config.json",):
        p = os.path.join(folder, extra)
        if os.path.exists(p):
            os.remove(p)

    images = test_images(folder)
    pixel_values = processor(images=images, return_tensors="pt")["pixel_values"]
    n_tokens = (vision_config.image_size // vision_config.patch_size) ** 2
    prompt = "<|im_start|>user\n<image>\nWhat is in the picture?<|im_end|>\n<|im_start|>assistant\n"
    ids = tok.encode(prompt).ids
    expanded = []
    for t in ids:
        expanded.extend([t] * n_tokens if t == image_id else [t])
    with torch.no_grad():
        feats = model.model.get_image_features(pixel_values=pixel_values[:1], vision_feature_layer=layer,
                                               vision_feature_select_strategy=strategy).pooler_output[0]
        feats_b = model.model.get_image_features(pixel_values=pixel_values[1:], vision_feature_layer=layer,
                                                 vision_feature_select_strategy=strategy).pooler_output[0]
        input_ids = torch.tensor([expanded])
        out = model(input_ids=input_ids, pixel_values=pixel_values[:1])
        logits = out.logits[0]
        greedy = model.generate(input_ids=input_ids, pixel_values=pixel_values[:1], max_new_tokens=8,
                                do_sample=False, eos_token_id=None, pad_token_id=text_config.pad_token_id,
                                min_new_tokens=8)[0, len(expanded):].tolist()
        # Two images in one prompt: their features fill the image tokens in order.
        prompt2 = "<|im_start|>user\n<image>\n<image>\nCompare the pictures.<|im_end|>\n<|im_start|>assistant\n"
        expanded2 = []
        for t in tok.encode(prompt2).ids:
            expanded2.extend([t] * n_tokens if t == image_id else [t])
        greedy2 = model.generate(input_ids=torch.tensor([expanded2]), pixel_values=pixel_values, max_new_tokens=8,
                                 do_sample=False, eos_token_id=None, pad_token_id=text_config.pad_token_id,
                                 min_new_tokens=8)[0, len(expanded2):].tolist()
    assert feats.shape[0] == n_tokens, feats.shape
    image_start = expanded.index(image_id)
    rows = sorted({0, image_start - 1, image_start, image_start + n_tokens - 1, image_start + n_tokens,
                   len(expanded) - 1})
    ref = {
        "prompt": prompt,
        "prompt_ids": ids,
        "input_ids": expanded,
        "image_token_index": image_id,
        "image_feature_length": n_tokens,
        "image_offset": image_start,
        "pixel_values_shape": list(pixel_values.shape[1:]),
        "pixel_values": pixel_values[0].flatten().tolist(),
        "pixel_values_b": pixel_values[1].flatten().tolist(),
        "image_features": feats.flatten().tolist(),
        "image_features_b": feats_b.flatten().tolist(),
        "logit_rows": rows,
        "logits": [logits[r].tolist() for r in rows],
        "greedy_ids": greedy,
        "two_images": {"prompt": prompt2, "input_ids": expanded2, "greedy_ids": greedy2},
    }
    with open(os.path.join(folder, "reference.json"), "w") as f:
        json.dump(ref, f)
    print(name, "vocab", vocab, "image id", image_id, "features", tuple(feats.shape), "greedy", greedy)


def main():
    crop = {"height": 28, "width": 28}
    clip_proc = CLIPImageProcessor(size={"shortest_edge": 28}, crop_size=crop, do_center_crop=True)
    clip = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                            image_size=28, patch_size=7, projection_dim=32, hidden_act="quick_gelu",
                            layer_norm_eps=1e-5)
    llama = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                        num_key_value_heads=2, max_position_embeddings=512, rms_norm_eps=1e-5, rope_theta=10000.0,
                        tie_word_embeddings=False)
    build("tiny-llava", clip, llama, clip_proc, -2, "default", 1234)

    siglip_proc = SiglipImageProcessor(size={"height": 28, "width": 28})
    siglip = SiglipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
                                image_size=28, patch_size=7, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6)
    qwen = Qwen2Config(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=2, max_position_embeddings=512, rms_norm_eps=1e-6, rope_theta=10000.0,
                       tie_word_embeddings=True)
    build("tiny-llava-siglip", siglip, qwen, siglip_proc, [-2, -1], "full", 4321)


if __name__ == "__main__":
    main()
