#!/usr/bin/env python3
"""Builds small vocabulary-only GGUF files and records how Hugging Face transformers tokenizes with them.

Writes into Tests/TokenizersTests/Resources/gguf/:
  <name>.gguf                      a vocabulary-only GGUF (no tensors), written with the `gguf` package
  <name>.tokenize.jsonl            {text, ids, ids_with_special, decoded, decoded_skip_special} per test string,
                                   from AutoTokenizer.from_pretrained(dir, gguf_file=...)
  <name>.tokenizer.json            the tokenizer.json transformers built from the GGUF (backend_tokenizer.to_str())
  <name>.tokenizer_config.json     bos/eos/unk/pad tokens and add_bos/add_eos flags transformers derived

Files:
  llama-spm      `tokenizer.ggml.model = llama`: a SentencePiece BPE vocabulary with byte fallback (<0xNN> byte
                 tokens), control tokens (<|im_start|>, <|im_end|>), user-defined tokens, no merges in the file
                 (transformers derives them from the scores), add_bos_token true.
  phi3-spm       the same vocabulary with `general.architecture = phi3` (Prepend/Replace normalizer variant).
  gemma-spm      the same vocabulary with `general.architecture = gemma2` (GemmaTokenizer shape: merges derived
                 from file order, its own default special tokens appended, no add_bos flag in the file).
  gpt2-default   `tokenizer.ggml.model = gpt2`, `pre = default`: byte-level BPE trained with HF tokenizers, with
                 merges, control tokens, user-defined tokens (<think>) and a control token spelled outside the
                 byte alphabet (transformers re-spells it and does not make it special).
  gpt2-llama3    the same vocabulary with `pre = llama-bpe` (the Llama-3 split regex) and add_bos_token true.

Needs: pip install transformers tokenizers sentencepiece gguf torch  (torch only because transformers'
GGUF reader imports it). Run from the repository root: python3 scripts/make_gguf_tokenizer_fixtures.py
"""

import json
import os
import shutil
import sys
import tempfile

import gguf
import sentencepiece as spm
from tokenizers import Tokenizer, models, pre_tokenizers, trainers, decoders

OUT = os.path.join("Tests", "TokenizersTests", "Resources", "gguf")

TOKEN_NORMAL, TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_USER_DEFINED, TOKEN_UNUSED, TOKEN_BYTE = 1, 2, 3, 4, 5, 6

CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# Training text: plain prose, code, numbers and a little non-English, so the vocabularies have real merges.
CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello world! How are you today? I'm fine, thanks.",
    "What is the capital of France? The capital of France is Paris.",
    "Tokenizers split text into tokens, and tokens into ids.",
    "She said: \"don't worry, we'll see.\" They've done it; you're right.",
    "def main():\n    print('hello')\n    return 0\n",
    "for i in range(10):\n\tif i % 2 == 0:\n\t\tcontinue\n",
    "The year 2024 had 366 days; 3.14159 is pi and 2.71828 is e.",
    "Numbers: 1 12 123 1234 12345 123456 1234567.",
    "In the beginning the universe was created. This has made a lot of people very angry.",
    "Machine learning models learn patterns from data and make predictions.",
    "A language model predicts the next token given the previous tokens.",
    "Structured generation constrains the output to follow a grammar or a schema.",
    "Swift is a programming language; it has value types, protocols and generics.",
    "The server receives a request, tokenizes the prompt and runs the model.",
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 fa\u00e7ade co\u00f6perate \u00fcber stra\u00dfe.",
    "Espa\u00f1ol: \u00bfC\u00f3mo est\u00e1s? Muy bien, gracias.",
    "Deutsch: Guten Morgen, wie geht es dir?",
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043a\u0430\u043a \u0434\u0435\u043b\u0430?",
    "Emails like someone@example.com and URLs like https://example.org/path?q=1.",
    "JSON: {\"name\": \"Ada\", \"age\": 36, \"tags\": [\"math\", \"code\"]}",
    "   leading spaces and trailing spaces   ",
    "line one\nline two\n\nline four\r\nline five",
    "UPPER CASE WORDS AND lower case words And Mixed Case",
    "It's its own thing; it isn't theirs, it's ours.",
    "The cat sat on the mat. The dog sat on the log. The bird sat on the branch.",
    "Once upon a time there was a little robot who wanted to learn how to paint.",
    "Questions? Answers! Lists: apples, oranges, pears; and more...",
    "print(f\"{x:>10}\") # formatted output with width ten",
    "SELECT name, age FROM users WHERE age > 30 ORDER BY name;",
]

TEST_STRINGS = [
    "",
    " ",
    "  ",
    "   ",
    "\n",
    "\n\n",
    "\t",
    " \n ",
    "a",
    "hello",
    "Hello world",
    " Hello world",
    "Hello  world",
    "Hello   world   ",
    "Hello, world! How are you today?",
    "The quick brown fox jumps over the lazy dog.",
    "What is the capital of France?",
    "I'm fine, you're great, they'll see, we've done, she'd go.",
    "don't DON'T Don't",
    "12345",
    "3.14159 and 2.71828",
    "The year 2024 had 366 days.",
    "1,000,000 people",
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9",
    "stra\u00dfe \u00fcber",
    "\u00bfC\u00f3mo est\u00e1s?",
    "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440",
    "\u4f60\u597d\uff0c\u4e16\u754c",
    "\u3053\u3093\u306b\u3061\u306f",
    "\uc548\ub155\ud558\uc138\uc694",
    "\u0645\u0631\u062d\u0628\u0627",
    "\u05e9\u05dc\u05d5\u05dd",
    "\u0928\u092e\u0938\u094d\u0924\u0947",
    "\U0001f600 emoji \U0001f680\U0001f30d",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467 family",
    "e\u0301 combining accent",
    "\u00a0non-breaking\u00a0space",
    "zero\u200bwidth",
    "tab\tseparated\tvalues",
    "line one\nline two\n\nline four",
    "windows\r\nline\r\nendings",
    "trailing newline\n",
    "\n\nleading newlines",
    "def main():\n    print('hello')\n    return 0\n",
    "for i in range(10):\n\tif i % 2 == 0:\n\t\tcontinue",
    "{\"name\": \"Ada\", \"age\": 36}",
    "[1, 2, 3]",
    "x = y + z * 2 - (a / b)",
    "a<b>c&d",
    "someone@example.com",
    "https://example.org/path?q=1&r=2#frag",
    "C:\\Users\\name\\file.txt",
    "$100.00 or \u20ac85,50 or \u00a370",
    "50% off!!!",
    "???!!!...",
    "----",
    "====",
    "#######",
    "~~~",
    "`code`",
    "**bold** _italic_",
    "UPPER lower MiXeD",
    "ALLCAPS",
    "camelCaseIdentifier",
    "snake_case_identifier",
    "kebab-case-identifier",
    "it's it\u2019s",
    "\"quoted\" 'single'",
    "<|im_start|>",
    "<|im_end|>",
    "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>system\nYou are helpful.<|im_end|>",
    "text<|im_end|>text",
    " <|im_start|> spaced ",
    "<|im_start|><|im_end|>",
    "<|im_start",
    "im_start|>",
    "<think>reasoning</think>answer",
    "<think>",
    " <think> x",
    "<tool_call>{\"name\": \"f\"}</tool_call>",
    "<s>",
    "</s>",
    "<unk>",
    "<s> hello </s>",
    "<|endoftext|>",
    "a<|endoftext|>b",
    "<0x41>",
    "\u2581",
    "\u2581\u2581hello",
    "\u0120hello",
    "\u00ff\u00fe\u00fd",
    "\x01\x02 control chars \x7f",
    "A" * 50,
    "ab" * 30,
    "hello " * 12,
    "The cat sat on the mat. " * 4,
    "Numbers: 1 12 123 1234 12345 123456 1234567.",
    "mixed\u4e2d\u6587English\u6df7\u5408",
    "SELECT name FROM users WHERE age > 30;",
    "print(f\"{x:>10}\")",
    "\u00e9\u00e8\u00ea\u00eb",
    "\u0391\u03b8\u03ae\u03bd\u03b1",
    "\U00010348 gothic",
]

LLAMA_USER_DEFINED = ["<tool_call>", "</tool_call>"]
LLAMA_CONTROL = ["<|im_start|>", "<|im_end|>"]


def write_llama_spm(tmp):
    """Trains a SentencePiece BPE model with byte fallback and writes it as a llama-type GGUF vocabulary."""
    corpus_path = os.path.join(tmp, "corpus.txt")
    with open(corpus_path, "w", encoding="utf-8") as f:
        for _ in range(3):
            for line in CORPUS:
                f.write(line.replace("\n", " ") + "\n")
    prefix = os.path.join(tmp, "spm")
    spm.SentencePieceTrainer.train(
        input=corpus_path,
        model_prefix=prefix,
        model_type="bpe",
        vocab_size=700,
        byte_fallback=True,
        character_coverage=0.995,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        split_digits=True,
        allow_whitespace_only_pieces=True,
        add_dummy_prefix=True,
        user_defined_symbols=LLAMA_USER_DEFINED,
        control_symbols=LLAMA_CONTROL,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=1,
        minloglevel=2,
    )
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    tokens, scores, types = [], [], []
    for i in range(sp.vocab_size()):
        piece = sp.IdToPiece(i)
        tokens.append(piece)
        scores.append(sp.GetScore(i))
        if sp.IsUnknown(i):
            types.append(TOKEN_UNKNOWN)
        elif sp.IsControl(i):
            types.append(TOKEN_CONTROL)
        elif sp.IsUnused(i):
            types.append(TOKEN_UNUSED)
        elif sp.IsByte(i):
            types.append(TOKEN_BYTE)
        elif piece in LLAMA_USER_DEFINED:
            types.append(TOKEN_USER_DEFINED)
        else:
            types.append(TOKEN_NORMAL)

    paths = []
    # The same vocabulary under three architectures: transformers builds a different tokenizer for each.
    for name, architecture in [("llama-spm", "llama"), ("phi3-spm", "phi3"), ("gemma-spm", "gemma2")]:
        path = os.path.join(OUT, f"{name}.gguf")
        w = gguf.GGUFWriter(path, architecture)
        add_llama_hparams(w, len(tokens))
        w.add_tokenizer_model("llama")
        w.add_tokenizer_pre("default")
        w.add_token_list(tokens)
        w.add_token_scores(scores)
        w.add_token_types(types)
        w.add_bos_token_id(1)
        w.add_eos_token_id(tokens.index("<|im_end|>"))
        w.add_unk_token_id(0)
        w.add_pad_token_id(2)
        if architecture != "gemma2":  # gemma: no flag, so transformers' default (add BOS) applies
            w.add_add_bos_token(True)
            w.add_add_eos_token(False)
        w.add_add_space_prefix(True)
        w.add_chat_template(CHAT_TEMPLATE)
        finish(w)
        paths.append(path)
    return paths


def write_gpt2(tmp):
    """Trains a byte-level BPE with HF tokenizers and writes two gpt2-type GGUF vocabularies from it."""
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS * 3, trainer=trainer)
    model = json.loads(tok.to_str())["model"]
    vocab = sorted(model["vocab"].items(), key=lambda kv: kv[1])
    tokens = [t for t, _ in vocab]
    merges = [" ".join(m) if isinstance(m, list) else m for m in model["merges"]]
    types = [TOKEN_CONTROL if t in specials else TOKEN_NORMAL for t in tokens]
    # User-defined tokens (matched whole but not special), and a control token spelled outside the byte alphabet,
    # the way some llama.cpp conversions (DeepSeek) store one.
    for extra, token_type in [("<think>", TOKEN_USER_DEFINED), ("</think>", TOKEN_USER_DEFINED),
                              ("<\uff5cend\u2581of\u2581sentence\uff5c>", TOKEN_CONTROL)]:
        tokens.append(extra)
        types.append(token_type)

    paths = []
    for name, pre, add_bos in [("gpt2-default", "default", False), ("gpt2-llama3", "llama-bpe", True)]:
        path = os.path.join(OUT, f"{name}.gguf")
        w = gguf.GGUFWriter(path, "llama")
        add_llama_hparams(w, len(tokens))
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre(pre)
        w.add_token_list(tokens)
        w.add_token_types(types)
        w.add_token_merges(merges)
        w.add_bos_token_id(tokens.index("<|im_start|>") if add_bos else 0)
        w.add_eos_token_id(tokens.index("<|im_end|>"))
        w.add_unk_token_id(0)
        w.add_padding_token_id(0) if hasattr(w, "add_padding_token_id") else w.add_pad_token_id(0)
        w.add_add_bos_token(add_bos)
        w.add_chat_template(CHAT_TEMPLATE)
        finish(w)
        paths.append(path)
    return paths


def add_llama_hparams(w, vocab_size):
    """The llama.* keys transformers' GGUF config reader needs (the file has no tensors)."""
    w.add_context_length(2048)
    w.add_embedding_length(64)
    w.add_block_count(1)
    w.add_feed_forward_length(128)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(vocab_size)


def finish(w):
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def record(path):
    from transformers import AutoTokenizer

    name = os.path.basename(path)[: -len(".gguf")]
    tok = AutoTokenizer.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path))
    with open(os.path.join(OUT, f"{name}.tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(json.loads(tok.backend_tokenizer.to_str()), f, ensure_ascii=False, indent=1)
        f.write("\n")
    config = {
        "bos_token": tok.bos_token,
        "eos_token": tok.eos_token,
        "unk_token": tok.unk_token,
        "pad_token": tok.pad_token,
        "add_bos_token": bool(tok.add_bos_token),
        "add_eos_token": bool(tok.add_eos_token),
        "chat_template": tok.chat_template,
    }
    with open(os.path.join(OUT, f"{name}.tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(OUT, f"{name}.tokenize.jsonl"), "w", encoding="utf-8") as f:
        for text in TEST_STRINGS:
            ids = tok.encode(text, add_special_tokens=False)
            with_special = tok.encode(text, add_special_tokens=True)
            row = {
                "text": text,
                "ids": ids,
                "ids_with_special": with_special,
                "decoded": tok.decode(ids),
                "decoded_skip_special": tok.decode(with_special, skip_special_tokens=True),
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{name}: {len(TEST_STRINGS)} rows, vocab {len(tok)}", file=sys.stderr)


def main():
    os.makedirs(OUT, exist_ok=True)
    tmp = tempfile.mkdtemp()
    try:
        paths = write_llama_spm(tmp) + write_gpt2(tmp)
    finally:
        shutil.rmtree(tmp)
    for path in paths:
        record(path)


if __name__ == "__main__":
    main()
