#!/usr/bin/env python3
"""Writes the HF-tokenizers oracle for the core tokenizer tests: scanners, byte-level fast path, added tokens,
SentencePiece-style BPE with byte fallback.

Outputs (small JSONL files under Tests/TokenizersTests/Resources/core/):
  scanner_splits.jsonl  {text, gpt2, llama3, qwen2}: the pieces of HF `Split(Regex(p), "isolated")`
  smollm2_random.jsonl  {text, ids}: SmolLM2 ids (no special tokens) of random strings
  <name>/tokenizer.json + <name>/cases.jsonl {text, ids, ids_special, decoded, decoded_skip}: small trained
    tokenizers — bytelevel_added (added tokens with lstrip/rstrip/single_word/normalized), sp_legacy
    (Prepend+Replace, byte fallback) and sp_metaspace (Metaspace, byte fallback)
Usage: pip install tokenizers==0.23.*; python3 scripts/make_core_fixtures.py [shared-fixtures-dir]
"""
import json
import os
import random
import sys

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

PATTERNS = {
    "gpt2": r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+",
    "llama3": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    "qwen2": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
}

# Characters the patterns treat differently: ASCII classes, contractions, line breaks, Unicode spaces,
# letters and digits of other scripts, marks, symbols, emoji, the long s that (?i) folds to "s".
ALPHABET = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    + list("     \n\n\r\t'''.,;:!?-_()[]{}<>\"/\\@#$%^&*+=|~`")
    + ["\u00a0", "\u3000", "\u2009", "\u0085", "\u000b", "\u000c", "\u200b", "\u1680", "\u2028", "\u202f"]
    + list("éüßçñøåЖжЯяΩωλ中文字日本語한국어עבריתالعربيةहिन्दीไทย")
    + ["\u0301", "\u0308", "\u0327", "\u093f", "\u0e31", "\u20dd"]
    + list("٣٤५६²³½Ⅻⅷ①")
    + list("€£¥©®™°±×÷§¶•…–—“”‘’«»")
    + ["😀", "👍", "🏽", "\u200d", "👩\u200d💻", "🇫🇷", "𝔘", "𝟘", "𐍈"]
    + ["ſ", "K", "İ", "ǅ"]
    + ["'s", "'S", "'re", "'RE", "'ll", "'Ll", "'ve", "'m", "'d", "'t", "'ſ"]
)

REAL = [
    "Hello, world! How are you today?",
    "I'm fine, you're great, they'll see, we've done, she'd go. DON'T YOU'LL",
    "def f(x):\n    return x ** 2  # square\n\n\n",
    "Price: $1,234,567.89 (about 1234567 units) on 2024-01-31T12:00:00Z",
    "   leading spaces and trailing   ",
    "tabs\tand\t\tmore\r\nwindows\r\nlines\n\n  \n",
    "Le cœur a ses raisons que la raison ne connaît point.",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "人工知能は未来を変える。我们喜欢学习。한국어 텍스트입니다.",
    "مرحبا بالعالم ١٢٣٤٥",
    "emoji 😀👍🏽 family 👩‍👩‍👧 flags 🇫🇷🇯🇵",
    "<|im_start|>user\nhi<|im_end|>",
    "x" * 300,
    "1234567890" * 5,
    "a'b's'c'S 'll'LL'll",
]


def random_text(rng: random.Random) -> str:
    n = rng.randint(1, 32)
    return "".join(rng.choice(ALPHABET) for _ in range(n))


def main() -> None:
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    out_dir = os.path.join(root, "Tests", "TokenizersTests", "Resources", "core")
    os.makedirs(out_dir, exist_ok=True)
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "fixtures")
    rng = random.Random(20240601)
    texts = REAL + [random_text(rng) for _ in range(1500)]
    # Wide random: code points from all of Unicode (mostly assigned ones), to check the class tables
    # against Oniguruma's beyond the hand-picked alphabet.
    import unicodedata
    wide = []
    while len(wide) < 600:
        chars = []
        for _ in range(rng.randint(1, 12)):
            while True:
                cp = rng.randint(0x80, 0x10FFFF) if rng.random() < 0.3 else rng.randint(0x80, 0x2FFFF)
                if not 0xD800 <= cp <= 0xDFFF and (unicodedata.category(chr(cp)) != "Cn" or rng.random() < 0.1):
                    break
            chars.append(chr(cp))
            if rng.random() < 0.3:
                chars.append(rng.choice([" ", "a", "1", "'", "\n", "s"]))
        wide.append("".join(chars))
    texts += wide

    splitters = {k: pre_tokenizers.Split(Regex(v), behavior="isolated", invert=False) for k, v in PATTERNS.items()}
    with open(os.path.join(out_dir, "scanner_splits.jsonl"), "w", encoding="utf-8") as f:
        for t in texts:
            row = {"text": t}
            for k, s in splitters.items():
                row[k] = [p for p, _ in s.pre_tokenize_str(t)]
            f.write(json.dumps(row, ensure_ascii=False) + "\n")

    tok = Tokenizer.from_file(os.path.join(shared, "smollm2", "hf-tokenizer", "tokenizer.json"))
    with open(os.path.join(out_dir, "smollm2_random.jsonl"), "w", encoding="utf-8") as f:
        for t in texts[: len(REAL) + 1000]:
            f.write(json.dumps({"text": t, "ids": tok.encode(t, add_special_tokens=False).ids}, ensure_ascii=False) + "\n")

    make_trained(out_dir)


TRAIN = [line for line in REAL if "<|" not in line] * 20 + [
    "The quick brown fox jumps over the lazy dog. " * 3,
    "Tokenizers split text into words and words into tokens; merges join frequent pairs.",
    "the theory of the thing is that there are three thin things there",
]

CASES = [
    "", " ", "hello world", "Hello World and hello world", "the <lstrip>   end", "start <rstrip>   tail",
    "a<both> b <both>c", "word words sword word_ word", "x word! (word) wordy", "<lstrip><lstrip>  <rstrip>  x",
    "caf\u00e9 \u4e2d\u6587 \U0001F600 ok", "  leading and trailing  ", "line one\nline two\n\n  three",
    "HELLO WORLD", "the theory thing", "tab\there", "<s>hello</s> world", "unseen \u05e2\u05d1 chars \u00a9",
]


def write_cases(tok: Tokenizer, name: str, out_dir: str) -> None:
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    tok.save(os.path.join(d, "tokenizer.json"))
    with open(os.path.join(d, "cases.jsonl"), "w", encoding="utf-8") as f:
        for t in CASES:
            t = t.encode().decode("unicode_escape").encode("latin-1").decode("utf-8") if "\\" in t else t
            enc = tok.encode(t, add_special_tokens=False).ids
            row = {"text": t, "ids": enc, "ids_special": tok.encode(t).ids,
                   "decoded": tok.decode(enc, skip_special_tokens=False),
                   "decoded_skip": tok.decode(enc, skip_special_tokens=True)}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def make_trained(out_dir: str) -> None:
    # Byte-level BPE with a GPT-2 ByteLevel pre-tokenizer and added tokens of every flavour.
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=["<s>", "</s>"])
    tok.train_from_iterator(TRAIN, trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 0)])
    tok.add_special_tokens([AddedToken("<lstrip>", lstrip=True), AddedToken("<rstrip>", rstrip=True),
                            AddedToken("<both>", lstrip=True, rstrip=True)])
    tok.add_tokens([AddedToken("word", single_word=True, normalized=False),
                    AddedToken("hello world", normalized=True), AddedToken("HELLO", normalized=False)])
    write_cases(tok, "bytelevel_added", out_dir)

    # SentencePiece-style BPE with byte fallback, both encodings.
    specials = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    for name in ["sp_legacy", "sp_metaspace"]:
        tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
        if name == "sp_legacy":
            tok.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
        else:
            tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=False)
        tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                                         decoders.Strip(" ", 1, 0)])
        trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=specials)
        tok.train_from_iterator(TRAIN, trainer)
        tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
        write_cases(tok, name, out_dir)


if __name__ == "__main__":
    main()
