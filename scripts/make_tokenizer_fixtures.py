#!/usr/bin/env python3
"""Builds the Hugging Face tokenizer fixtures of Tests/TokenizersTests/Resources/hf/.

Every fixture is a small tokenizer.json trained offline with the `tokenizers` library (plus one
SentencePiece model for a real `Precompiled` charsmap), together with `cases.jsonl`: one line per test
string with what HF `tokenizers` produces for it:

    {"text", "ids_with_special" (encode, add_special_tokens=True), "ids" (add_special_tokens=False),
     "decoded" (decode(ids_with_special)), "decoded_skip_special" (decode(ids_with_special,
     skip_special_tokens=True))}

`components.json` holds single-component cases (normalizers, pre-tokenizers, decoders): the component's
tokenizer.json object, inputs and HF's outputs. `unicode_classes.json` lists, as code point ranges, the
characters HF's Whitespace pre-tokenizer treats as word characters, WhitespaceSplit as whitespace and
Digits as numeric.

Requirements: pip install tokenizers sentencepiece protobuf. Deterministic: the corpus and the test strings
are built from fixed text and a fixed random seed.

Usage: python3 scripts/make_tokenizer_fixtures.py [output-dir]
"""
import base64
import inspect
import json
import os
import random
import sys
import tempfile

import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "Tests", "TokenizersTests", "Resources", "hf")

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")

# ---------------------------------------------------------------------------------------------------------
# Training corpus: Python standard library docstrings plus multilingual sentences written for this script.

MULTILINGUAL = [
    "The quick brown fox jumps over the lazy dog while the cat sleeps on the warm windowsill.",
    "Le renard brun rapide saute par-dessus le chien paresseux ; c'est l'été à Montréal, déjà !",
    "Der schnelle braune Fuchs springt über den faulen Hund. Straße, Größe, Mädchen und Übermut.",
    "El rápido zorro marrón salta sobre el perro perezoso. ¿Dónde está la biblioteca? ¡Olé!",
    "A rápida raposa marrom pula sobre o cão preguiçoso. Ação, coração, São Paulo e Brasília.",
    "Быстрая коричневая лиса прыгает через ленивую собаку. Привет, как дела? Всё хорошо.",
    "Η γρήγορη καφέ αλεπού πηδά πάνω από τον τεμπέλη σκύλο. ΟΔΥΣΣΕΥΣ και Σωκράτης.",
    "快速的棕色狐狸跳过了懒狗。你好，世界！今天天气很好，我们去公园散步吧。",
    "素早い茶色の狐がのろまな犬を飛び越える。こんにちは、世界。カタカナとひらがな。",
    "빠른 갈색 여우가 게으른 개를 뛰어넘는다. 안녕하세요, 세계! 한국어 문장입니다.",
    "الثعلب البني السريع يقفز فوق الكلب الكسول. مرحبا بالعالم، كيف حالك اليوم؟",
    "השועל החום המהיר קופץ מעל הכלב העצלן. שלום עולם, מה שלומך?",
    "तेज़ भूरी लोमड़ी आलसी कुत्ते के ऊपर कूदती है। नमस्ते दुनिया, आप कैसे हैं?",
    "สุนัขจิ้งจอกสีน้ำตาลกระโดดข้ามสุนัขขี้เกียจ สวัสดีชาวโลก",
    "Hızlı kahverengi tilki tembel köpeğin üzerinden atlar. İstanbul, Iğdır ve Çanakkale.",
    "Szybki brązowy lis przeskakuje nad leniwym psem. Zażółć gęślą jaźń.",
    "Nhanh chóng con cáo nâu nhảy qua con chó lười. Xin chào thế giới, tiếng Việt.",
    "Emoji time 😀😃😄 🎉🎊 👨‍👩‍👧‍👦 🇫🇷🇯🇵 ❤️ 👍🏽 and symbols ∑ ∫ √ ∞ ≠ ≤ ≥ € £ ¥ ₹ © ® ™.",
    "Numbers: 0 1 12 123 1234 12345 3.14159 2,718 1,000,000 -42 +7 1e10 0xFF ½ ² ³ ① Ⅻ ١٢٣ ४५६.",
    "I'm sure you're right; we'll see what they've done, and he'd say it's fine. Don't worry, I'LL GO.",
    "def tokenize(text: str) -> list[int]:\n    return [ord(c) for c in text if c.isalnum()]\n",
    "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }  // dot product\n\tif (x != y) return -1;",
    "https://example.com/path?query=value&other=42#anchor  mailto:someone@example.org",
    "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ １２３ and ligatures ﬁ ﬂ ﬀ plus ｶﾀｶﾅ halfwidth.",
    "Combining: e\u0301 a\u0300 o\u0308 n\u0303 c\u0327 and precomposed é à ö ñ ç; Å vs A\u030a.",
    "Whitespace   runs\t\ttabs\n\nnewlines\r\nwindows  line\u00a0nbsp\u3000ideographic.",
]


def stdlib_docstrings(limit_chars=350_000):
    import argparse, collections, csv, datetime, email, functools, http.client, itertools, json as js, logging
    import pathlib, re, shutil, sqlite3, string, subprocess, textwrap, threading, unittest, urllib.parse, zipfile
    mods = [argparse, collections, csv, datetime, email, functools, http.client, itertools, js, logging, pathlib,
            re, shutil, sqlite3, string, subprocess, textwrap, threading, unittest, urllib.parse, zipfile, os]
    seen = set()
    parts = []
    total = 0
    for mod in mods:
        for obj in [mod] + [v for _, v in sorted(vars(mod).items(), key=lambda kv: kv[0])]:
            doc = inspect.getdoc(obj) if (inspect.ismodule(obj) or inspect.isclass(obj) or callable(obj)) else None
            if not doc or doc in seen:
                continue
            seen.add(doc)
            parts.append(doc)
            total += len(doc)
            if total > limit_chars:
                return parts
    return parts


def corpus():
    return stdlib_docstrings() + MULTILINGUAL * 30


# ---------------------------------------------------------------------------------------------------------
# Test strings.

BASE_STRINGS = [
    "", " ", "  ", "a", "Hello", "Hello world", "Hello, world!", " Hello world", "Hello world ", "  two leading",
    "trailing two  ", "multiple   inner    spaces", "\t", "\n", "\r\n", "tab\tseparated\tvalues", "line1\nline2\n",
    "line1\n\nline3\n\n\n", "mixed \t \n whitespace", "The quick brown fox jumps over the lazy dog.",
    "I'm", "don't", "we'll", "they've", "she'd", "it's", "YOU'RE", "I'M FINE", "can't won't shouldn't",
    "0", "7", "42", "123", "1234", "12345678", "3.14159", "1,000,000", "-17", "2024-05-17", "v1.2.3",
    "١٢٣٤", "४५६", "½ ¾ ²³", "① ② ③", "Ⅻ", "!!!", "???", "...", "--->", "(a) [b] {c} <d>", "#$%&*+/=@^_`|~",
    "\"quoted\" 'single'", "e-mail: someone@example.org", "https://example.com/a?b=c&d=e#f",
    "café", "cafe\u0301", "naïve résumé", "Ångström", "A\u030angstro\u0308m", "Straße", "ΟΔΥΣΣΕΥΣ", "İstanbul",
    "ǅemal", "ﬁnance ﬂow", "ＦＵＬＬＷＩＤＴＨ １２３", "ｶﾀｶﾅ", "Ⓐⓑⓒ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "x\u00b2 + y\u00b2",
    "你好，世界！", "我爱自然语言处理。", "こんにちは、世界。", "カタカナ ひらがな 漢字", "안녕하세요 세계", "한국어",
    "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก", "Привет, мир!", "Γειά σου Κόσμε",
    "Zażółć gęślą jaźń", "Tiếng Việt có dấu", "😀", "😀😃😄", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷🇯🇵", "❤️", "🎉 party 🎊",
    "∑∫√∞≠", "€100 £50 ¥1000 ₹20", "©®™", "\u200b zero width", "\ufeffBOM", "soft\u00adhyphen", "nbsp\u00a0here",
    "ideographic\u3000space", "a\u0000b", "bell\u0007char", "replacement \ufffd char", "\u0301 leading mark",
    "def f(x):\n    return x * 2\n", "if (a && b) { return; }", "SELECT * FROM t WHERE id = 1;",
    "<html><body>Hi</body></html>", "snake_case_name camelCaseName PascalCase", "ALLCAPS lowercase MiXeD",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "supercalifragilisticexpialidocious", "antidisestablishmentarianism",
    "Ünïcödé wörds everywhere", "  \t mixed leading", "ends with newline\n", "The year 1999 and 2000.",
    "Call 555-0123 now!", "x=1;y=2;z=x+y", "$HOME/.config/app", "C:\\Users\\name", "«guillemets» „quotes“",
    "¿Qué? ¡Sí!", "semi;colon:colon", "a.b.c", "end.", ".start", "mid...dle", "ＡＢＣ", "ｈｅｌｌｏ", "ℌℑℜ",
]


def mixed_strings(count, seed):
    """Random concatenations of base strings and corpus words, for coverage of combinations."""
    rng = random.Random(seed)
    words = []
    for line in MULTILINGUAL:
        words.extend(line.split())
    seps = [" ", "  ", "\t", "\n", "", " \n ", ", ", "."]
    out = []
    for _ in range(count):
        n = rng.randint(2, 7)
        pieces = []
        for _ in range(n):
            pieces.append(rng.choice(words) if rng.random() < 0.7 else rng.choice(BASE_STRINGS))
            pieces.append(rng.choice(seps))
        out.append("".join(pieces))
    return out


def test_strings(seed, extra=()):
    strings = list(BASE_STRINGS) + list(extra)
    strings += mixed_strings(max(0, 160 - len(strings)), seed)
    return strings


# ---------------------------------------------------------------------------------------------------------
# Fixture builders. Each returns (Tokenizer, extra test strings).

SPECIAL_STRINGS = ["<s>", "</s>", "<unk>", "<s>Hello</s>", "a <s> b </s> c", " <s> ", "<s><s>", "text</s>"]


def train_bpe_metaspace(texts):
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(vocab_size=1800, limit_alphabet=120, special_tokens=["<unk>", "<s>", "</s>"],
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer)
    return json.loads(tok.to_str())


def llama2_json(texts, legacy):
    """Llama-2 / Mistral style byte-fallback BPE: ids 0-2 special, 3-258 the <0xNN> bytes, then merges."""
    trained = train_bpe_metaspace(texts)
    old_vocab = trained["model"]["vocab"]
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for token, _ in sorted(old_vocab.items(), key=lambda kv: kv[1]):
        if token not in vocab:
            vocab[token] = len(vocab)
    added = [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
              "special": True} for i, c in enumerate(["<unk>", "<s>", "</s>"])]
    if legacy:
        normalizer = {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                                                          {"type": "Replace", "pattern": {"String": " "},
                                                           "content": "▁"}]}
        pre_tokenizer = None
        decoder = {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"},
            {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    else:
        normalizer = None
        pre_tokenizer = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}
        decoder = {"type": "Sequence", "decoders": [
            {"type": "ByteFallback"},
            {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}]}
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": normalizer, "pre_tokenizer": pre_tokenizer,
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                    {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": "<s>", "type_id": 1}},
                                    {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": decoder,
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": trained["model"]["merges"]},
    }


def build_llama2_legacy(texts):
    return Tokenizer.from_str(json.dumps(llama2_json(texts, legacy=True))), SPECIAL_STRINGS


def build_llama2_metaspace(texts):
    return Tokenizer.from_str(json.dumps(llama2_json(texts, legacy=False))), SPECIAL_STRINGS


def build_bert(texts, cased=False):
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=30))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=None, lowercase=not cased)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    trainer = trainers.WordPieceTrainer(vocab_size=2500, limit_alphabet=300, special_tokens=specials,
                                        show_progress=False)
    tok.train_from_iterator(texts, trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    if cased:
        tok.post_processor = processors.BertProcessing(("[SEP]", sep), ("[CLS]", cls))
    else:
        tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                           special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    extra = ["[CLS] hello [SEP]", "[MASK] is here", "a[MASK]b", "[UNK]", "x" * 40, "Pneumonoultramicroscopic" * 2]
    return tok, extra


def build_bert_cased(texts):
    return build_bert(texts, cased=True)


def train_unigram(texts, specials, pre_tokenizer, normalizer=None):
    tok = Tokenizer(models.Unigram())
    if normalizer:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    trainer = trainers.UnigramTrainer(vocab_size=1500, special_tokens=specials, unk_token="<unk>",
                                      show_progress=False, max_piece_length=12)
    tok.train_from_iterator(texts, trainer)
    return tok


def build_unigram(texts):
    meta = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok = train_unigram(texts, ["<unk>", "<s>", "</s>"], meta)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 2)])
    return tok, SPECIAL_STRINGS


def build_unigram_byte_fallback(texts):
    meta = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    tok = train_unigram(texts, ["<unk>", "<s>", "</s>"], meta)
    data = json.loads(tok.to_str())
    vocab = data["model"]["vocab"]
    low = min(score for _, score in vocab)
    vocab[3:3] = [[f"<0x{b:02X}>", low - 1.0] for b in range(256)]
    data["model"]["byte_fallback"] = True
    # The specials keep ids 0-2; the byte pieces take 3-258 like SentencePiece byte_fallback models.
    data["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "ByteFallback"}, {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True}]}
    data["post_processor"] = {"type": "TemplateProcessing",
                              "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                         {"Sequence": {"id": "A", "type_id": 0}}],
                              "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                              "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
    return Tokenizer.from_str(json.dumps(data)), SPECIAL_STRINGS


SPM_RULES = {
    # source code points → target code points (a small hand-written charsmap, compiled by sentencepiece)
    **{(0xFF01 + i,): (0x21 + i,) for i in range(0x5E)},  # fullwidth ASCII → ASCII
    (0xFB01,): (0x66, 0x69), (0xFB02,): (0x66, 0x6C), (0xFB00,): (0x66, 0x66),  # ligatures
    (0x2460,): (0x31,), (0x2461,): (0x32,), (0x2462,): (0x33,),  # circled digits
    (0x00A0,): (0x20,), (0x3000,): (0x20,), (0x2009,): (0x20,),  # spaces
    (0x0065, 0x0301): (0x00E9,), (0x0061, 0x0300): (0x00E0,), (0x0041, 0x030A): (0x00C5,),  # compose
    (0x2126,): (0x03A9,), (0x212B,): (0x00C5,),  # Ohm, Angstrom signs
    (0x00BD,): (0x31, 0x2044, 0x32),  # ½ → 1⁄2
    (0xFF76, 0xFF9E): (0x30AC,), (0xFF76,): (0x30AB,), (0xFF80,): (0x30BF,), (0xFF85,): (0x30CA,),  # halfwidth kana
    (0x200B,): (),  # zero width space deleted
}


def build_unigram_precompiled(texts):
    """A SentencePiece Unigram model converted like transformers' SpmConverter (T5/ALBERT style)."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb

    with tempfile.TemporaryDirectory() as tmp:
        rules = os.path.join(tmp, "rules.tsv")
        with open(rules, "w", encoding="utf-8") as f:
            for src, dst in SPM_RULES.items():
                f.write(" ".join(f"{c:X}" for c in src) + "\t" + " ".join(f"{c:X}" for c in dst) + "\n")
        data = os.path.join(tmp, "corpus.txt")
        with open(data, "w", encoding="utf-8") as f:
            for t in texts:
                for line in t.splitlines():
                    if line.strip():
                        f.write(line + "\n")
        prefix = os.path.join(tmp, "spm")
        spm.SentencePieceTrainer.train(input=data, model_prefix=prefix, vocab_size=1200, model_type="unigram",
                                       normalization_rule_tsv=rules, character_coverage=0.995,
                                       minloglevel=2, num_threads=1, seed_sentencepiece_size=200000)
        proto = pb.ModelProto()
        with open(prefix + ".model", "rb") as f:
            proto.ParseFromString(f.read())
    charsmap = base64.b64encode(proto.normalizer_spec.precompiled_charsmap).decode("ascii")
    vocab = [[p.piece, p.score] for p in proto.pieces]
    unk_id = proto.trainer_spec.unk_id
    added = [{"id": i, "content": p.piece, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True}
             for i, p in enumerate(proto.pieces) if p.type in (2, 3)]  # UNKNOWN, CONTROL
    data = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": charsmap},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                           "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}},
        "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": unk_id, "vocab": vocab, "byte_fallback": False},
    }
    extra = ["ｶﾞｶﾞ ｶﾀ", "ﬁﬂﬀ", "①②③", "e\u0301a\u0300", "A\u030a", "Ω Å", "½", "a\u200bb", "x\u00a0\u3000y"]
    return Tokenizer.from_str(json.dumps(data)), extra + SPECIAL_STRINGS


def train_byte_level(texts, pre_tokenizer, specials, normalizer=None, vocab_size=1800):
    tok = Tokenizer(models.BPE())
    if normalizer:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    return tok


LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
                   "<|eot_id|>"]


def build_llama3(texts):
    pre = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
                                   pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True,
                                                            use_regex=False)])
    tok = train_byte_level(texts, pre, LLAMA3_SPECIALS)
    data = json.loads(tok.to_str())
    data["model"]["ignore_merges"] = True
    data["post_processor"] = {"type": "Sequence", "processors": [
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        {"type": "TemplateProcessing",
         "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
         "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                  {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
         "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [0],
                                                  "tokens": ["<|begin_of_text|>"]}}}]}
    extra = ["<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>",
             "text<|eot_id|>more", "<|end_of_text|>", "   <|eot_id|>   "]
    return Tokenizer.from_str(json.dumps(data)), extra


def build_qwen2(texts):
    pre = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
                                   pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False,
                                                            use_regex=False)])
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = train_byte_level(texts, pre, specials, normalizer=normalizers.NFC())
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    extra = ["<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n",
             "<|endoftext|>", "a<|im_end|>b"]
    return tok, extra


def build_gpt2(texts):
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    tok = train_byte_level(texts, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True), specials)
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True,
                                                      add_prefix_space=False)
    return tok, SPECIAL_STRINGS


def train_wordpiece(texts, normalizer, pre_tokenizer, vocab_size=2000):
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, limit_alphabet=400, special_tokens=["[UNK]", "[SEP]"],
                                        show_progress=False)
    tok.train_from_iterator(texts, trainer)
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    return tok


def build_mix_words(texts):
    norm = normalizers.Sequence([normalizers.NFKD(), normalizers.StripAccents(), normalizers.Lowercase(),
                                 normalizers.Replace(Regex(r"\s+"), " "), normalizers.Strip()])
    pre = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation("contiguous"),
                                   pre_tokenizers.Digits(individual_digits=True)])
    return train_wordpiece(texts, norm, pre), []


def build_mix_split(texts):
    norm = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace("-", " - ")])
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"[0-9]+"), behavior="merged_with_previous"),
        pre_tokenizers.Split("-", behavior="merged_with_next"),
        pre_tokenizers.Split(Regex(r"[.,;:!?]"), behavior="isolated"),
        pre_tokenizers.Whitespace(),
        pre_tokenizers.Digits(individual_digits=False),
    ])
    return train_wordpiece(texts, norm, pre), ["a-b-c", "1-2-3", "x--y", "12ab34cd", "--a", "a--"]


def build_mix_invert(texts):
    norm = normalizers.Sequence([normalizers.NFD(), normalizers.Strip(left=True, right=False),
                                 normalizers.Lowercase()])
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"\p{L}+"), behavior="contiguous", invert=True),
        pre_tokenizers.Punctuation("merged_with_previous"),
        pre_tokenizers.Split(Regex(r"\s+"), behavior="removed", invert=False),
        pre_tokenizers.Split(" ", behavior="merged_with_previous", invert=True),
    ])
    return train_wordpiece(texts, norm, pre), ["a!b?c", "!!a", "a!!", "?a?b?"]


def build_mix_removed(texts):
    norm = normalizers.Sequence([normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                            strip_accents=True, lowercase=False),
                                 normalizers.Replace(Regex(r"[0-9]"), "#")])
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"\w+"), behavior="removed", invert=True),
        pre_tokenizers.Split(Regex(r"#+"), behavior="merged_with_next", invert=False),
        pre_tokenizers.Punctuation("removed"),
    ])
    return train_wordpiece(texts, norm, pre), ["a1b22c333", "##x", "x##"]


def build_added_tokens(texts):
    tok = train_byte_level(texts, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
                           ["<|endoftext|>"], normalizer=normalizers.Lowercase(), vocab_size=1200)
    tok.add_special_tokens([
        AddedToken("<|L|>", lstrip=True, special=True, normalized=False),
        AddedToken("<|R|>", rstrip=True, special=True, normalized=False),
        AddedToken("<|LR|>", lstrip=True, rstrip=True, special=True, normalized=False),
        AddedToken("[MASK]", single_word=True, special=True, normalized=False),
    ])
    tok.add_tokens([
        AddedToken("hello world", normalized=True, special=False),
        AddedToken("ZZtop", normalized=False, special=False),
        AddedToken("Normed", normalized=True, special=False),
        AddedToken("word", single_word=True, normalized=False, special=False),
        AddedToken("<sw>", single_word=True, lstrip=True, rstrip=True, normalized=False, special=False),
    ])
    tok.post_processor = processors.TemplateProcessing(single="<|endoftext|> $A", special_tokens=[("<|endoftext|>", 0)])
    extra = [
        "<|L|>", " <|L|> ", "a   <|L|>b", "a<|L|>   b", "<|R|>", "a <|R|>   b", "x<|R|>\n\ny", "a <|LR|> b",
        "\t<|LR|>\t", "<|LR|><|LR|>", "[MASK]", "a [MASK] b", "a[MASK]b", "a [MASK]b", "[MASK] [MASK]",
        "hello world", "Hello World", "HELLO WORLD!", "sayhello worldnow", "ZZtop", "zztop", "ZZTOP", "theZZtopband",
        "Normed", "normed", "NORMED text", "word", "a word here", "words", "sword", "word.", "(word)", "<sw>",
        "a <sw> b", "a<sw>b", " <sw> ", "<|endoftext|>", "a<|endoftext|>b", "mix <|L|> [MASK] word <|R|> ZZtop",
    ]
    return tok, extra


FIXTURES = {
    "llama2-legacy": build_llama2_legacy,
    "llama2-metaspace": build_llama2_metaspace,
    "bert": build_bert,
    "bert-cased": build_bert_cased,
    "unigram": build_unigram,
    "unigram-byte-fallback": build_unigram_byte_fallback,
    "unigram-precompiled": build_unigram_precompiled,
    "llama3": build_llama3,
    "qwen2": build_qwen2,
    "gpt2-roberta": build_gpt2,
    "mix-words": build_mix_words,
    "mix-split": build_mix_split,
    "mix-invert": build_mix_invert,
    "mix-removed": build_mix_removed,
    "added-tokens": build_added_tokens,
}


def write_fixture(out_dir, name, tok, extra, seed):
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    tok.save(os.path.join(d, "tokenizer.json"), pretty=False)
    # Reload from disk so the cases come from exactly the file the tests read.
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    with open(os.path.join(d, "cases.jsonl"), "w", encoding="utf-8") as f:
        for text in test_strings(seed, extra):
            with_special = tok.encode(text, add_special_tokens=True).ids
            plain = tok.encode(text, add_special_tokens=False).ids
            row = {"text": text, "ids_with_special": with_special, "ids": plain,
                   "decoded": tok.decode(with_special, skip_special_tokens=False),
                   "decoded_skip_special": tok.decode(with_special, skip_special_tokens=True)}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------------------------------------
# Single-component cases.

COMPONENT_INPUTS = [
    "", " ", "Hello World", "  Hello   World  ", "\tTabs\tand\nnewlines\r\n", "café cafe\u0301 ÅNGSTRÖM",
    "ΟΔΥΣΣΕΥΣ İstanbul ǅ ẞ", "ﬁ ① ＡＢＣ１２３ ｶﾞ ½ x²", "你好，世界！ 漢字かな", "don't I'm WE'LL",
    "a1b22c333 4.5 ١٢٣", "!!!???... (a) [b] {c} $+<=>^`|~", "«» „“ ¿¡ —–- …", "\u0000\u0007\u007f\u200b\ufeff\ufffd",
    "\u00a0\u2009\u3000 spaces", "e\u0301\u0301 a\u0300", "😀👍🏽👨‍👩‍👧 🇫🇷", "Zażółć ĝ ŭ Tiếng Việt",
    "snake_case-kebab.dot", "▁already▁meta", "𝔘𝔫𝔦 ℌ Ⓐ", "مرحبا שלום नमस्ते", "दुनिया ক্ষ ಕನ್ನಡ ไทย",
    # Characters newer than HF's Unicode 9.0 normalization tables, Hangul jamo, halfwidth voiced marks.
    "\u32ff \ua7f2 \U00011938 \U0001e030 \u1100\u1161\u11a8 \uac00\u11a8 \uff76\uff9e a\u1df6\u0316",
]


def component_cases():
    norms = {
        "NFC": normalizers.NFC(), "NFD": normalizers.NFD(), "NFKC": normalizers.NFKC(), "NFKD": normalizers.NFKD(),
        "Lowercase": normalizers.Lowercase(), "Strip": normalizers.Strip(),
        "StripLeft": normalizers.Strip(left=True, right=False), "StripAccents": normalizers.StripAccents(),
        "NFD+StripAccents": normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents()]),
        "ReplaceString": normalizers.Replace(" ", "▁"), "ReplaceRegex": normalizers.Replace(Regex(r"\s+"), "_"),
        "ReplaceRegexDigits": normalizers.Replace(Regex(r"\p{N}{2,}"), "<num>"),
        "Prepend": normalizers.Prepend("▁"),
        "Bert": normalizers.BertNormalizer(),
        "BertCased": normalizers.BertNormalizer(lowercase=False, strip_accents=None),
        "BertNoChinese": normalizers.BertNormalizer(handle_chinese_chars=False, strip_accents=False),
        "BertStripCased": normalizers.BertNormalizer(lowercase=False, strip_accents=True, clean_text=False),
    }
    pres = {
        "Whitespace": pre_tokenizers.Whitespace(), "WhitespaceSplit": pre_tokenizers.WhitespaceSplit(),
        "Bert": pre_tokenizers.BertPreTokenizer(), "Digits": pre_tokenizers.Digits(individual_digits=False),
        "DigitsIndividual": pre_tokenizers.Digits(individual_digits=True),
        "MetaspaceAlways": pre_tokenizers.Metaspace(prepend_scheme="always", split=True),
        "MetaspaceFirstNoSplit": pre_tokenizers.Metaspace(prepend_scheme="first", split=False),
        "MetaspaceNever": pre_tokenizers.Metaspace(prepend_scheme="never", split=True),
    }
    for behavior in ["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"]:
        pres[f"Punctuation-{behavior}"] = pre_tokenizers.Punctuation(behavior)
        for invert in [False, True]:
            pres[f"SplitRegex-{behavior}-{invert}"] = pre_tokenizers.Split(Regex(r"\p{N}|[aeiou]"), behavior, invert=invert)
            pres[f"SplitString-{behavior}-{invert}"] = pre_tokenizers.Split(" ", behavior, invert=invert)
    pres["SplitLlama3"] = pre_tokenizers.Split(Regex(LLAMA3_PATTERN), "isolated")
    pres["SplitLookahead"] = pre_tokenizers.Split(Regex(r"\s+(?!\S)|\s+"), "isolated")
    token_lists = [
        [], ["▁Hello", "▁world"], ["▁▁a▁b", "▁c"], ["Hello", "▁", "▁world", "▁"], ["<0xE4>", "<0xBD>", "<0xA0>", "x"],
        ["<0xE4>", "<0xBD>", "a", "<0xFF>", "<0x41>", "<0x0A>"], ["<0x4g>", "<0x41", "0x41>", "<0x41>"],
        ["▁hel", "lo", "▁", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>", "▁!"], ["hello", "##world", "##s", ",", "do",
        "n't", ".", "I", "'", "m", "a", "##b"], ["[CLS]", "he", "##llo", "?", "they", "'re", "do", "not"],
        ["  a  ", " ", "b "], ["x", "▁y▁", "▁▁"],
    ]
    decs = {
        "Metaspace": decoders.Metaspace(), "MetaspaceNever": decoders.Metaspace(prepend_scheme="never"),
        "MetaspaceFirst": decoders.Metaspace(prepend_scheme="first"), "ByteFallback": decoders.ByteFallback(),
        "Fuse": decoders.Fuse(), "Strip": decoders.Strip(" ", 1, 0), "Strip2": decoders.Strip(" ", 0, 1),
        "Replace": decoders.Replace("▁", " "), "WordPiece": decoders.WordPiece(),
        "WordPieceNoCleanup": decoders.WordPiece(prefix="##", cleanup=False),
        "Llama2": decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)]),
    }
    def group(name, component, pairs):
        return {"name": name, "component": json.loads(component.__getstate__()),
                "cases": [{"input": i, "output": o} for i, o in pairs]}

    return {
        "normalizers": [group(name, n, [(t, n.normalize_str(t)) for t in COMPONENT_INPUTS])
                        for name, n in norms.items()],
        "pre_tokenizers": [group(name, p, [(t, [s for s, _ in p.pre_tokenize_str(t)]) for t in COMPONENT_INPUTS])
                           for name, p in pres.items()],
        "decoders": [group(name, d, [(tokens, d.decode(tokens)) for tokens in token_lists])
                     for name, d in decs.items()],
    }


def unicode_class_ranges():
    """Per-code-point classes of the Whitespace, WhitespaceSplit and Digits pre-tokenizers, probed from HF for
    every code point and written as ranges, so the Swift character predicates are checked exhaustively."""
    whitespace, digits, split = (pre_tokenizers.Whitespace(), pre_tokenizers.Digits(individual_digits=True),
                                 pre_tokenizers.WhitespaceSplit())
    classes = {"word": [], "space": [], "numeric": []}

    def add(name, cp):
        r = classes[name]
        if r and r[-1][1] == cp - 1:
            r[-1][1] = cp
        else:
            r.append([cp, cp])

    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        c = chr(cp)
        if len(whitespace.pre_tokenize_str("\x01" + c + "\x01")) == 3:
            add("word", cp)
        if len(split.pre_tokenize_str("a" + c + "a")) == 2:
            add("space", cp)
        if len(digits.pre_tokenize_str("a" + c + "a")) == 3:
            add("numeric", cp)
    return classes


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    os.makedirs(out_dir, exist_ok=True)
    texts = corpus()
    for i, (name, build) in enumerate(FIXTURES.items()):
        tok, extra = build(texts)
        write_fixture(out_dir, name, tok, extra, seed=1000 + i)
        size = os.path.getsize(os.path.join(out_dir, name, "tokenizer.json"))
        print(f"{name}: tokenizer.json {size // 1024} KiB")
    with open(os.path.join(out_dir, "components.json"), "w", encoding="utf-8") as f:
        json.dump({"tokenizers_version": tokenizers.__version__, **component_cases()}, f, ensure_ascii=False,
                  indent=0)
    print("components.json written")
    with open(os.path.join(out_dir, "unicode_classes.json"), "w", encoding="utf-8") as f:
        json.dump({"tokenizers_version": tokenizers.__version__, **unicode_class_ranges()}, f)
    print("unicode_classes.json written")


if __name__ == "__main__":
    main()
