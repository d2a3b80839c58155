#!/usr/bin/env python3
"""Drives a running `sglang serve --is-embedding` with the official `openai` Python package and prints one JSON
object with what came back (the Swift server tests assert on it).

usage: openai_embeddings_check.py BASE_URL MODEL
"""
import json
import sys

import openai


def main() -> None:
    base, model = sys.argv[1], sys.argv[2]
    client = openai.OpenAI(base_url=base + "/v1", api_key="sk-test", max_retries=0, timeout=120)
    out = {"openai_version": openai.__version__}
    texts = ["The capital of France is Paris.", "Swift is a programming language.", "Hello"]

    # The package's default encoding is base64 (it decodes the float32 bytes itself).
    r = client.embeddings.create(model=model, input=texts)
    out["default"] = {"vectors": [d.embedding for d in r.data], "indices": [d.index for d in r.data],
                      "usage": r.usage.model_dump(), "model": r.model, "object": r.object}
    r = client.embeddings.create(model=model, input=texts[0], encoding_format="float")
    out["float_single"] = [d.embedding for d in r.data]
    r = client.embeddings.create(model=model, input=[[1, 2, 3, 4], [5, 6]], encoding_format="float")
    out["ids"] = [d.embedding for d in r.data]

    # Errors come back as the package's exceptions with the server's status.
    errors = {}
    for name, kwargs in {
        "dimensions": {"input": "x", "dimensions": 8},
        "empty": {"input": []},
        "unknown_model": {"input": "x", "model": "no-such-model"},
    }.items():
        args = {"model": model, **kwargs}
        try:
            client.embeddings.create(**args)
            errors[name] = None
        except openai.APIStatusError as e:
            errors[name] = e.status_code
    out["errors"] = errors
    print(json.dumps(out))


if __name__ == "__main__":
    main()
