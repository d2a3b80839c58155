#!/usr/bin/env python3
"""Drives a running `sglang serve` with the official `openai` Python package and prints one JSON object
with what came back (the Swift server tests assert on it).

usage: openai_client_check.py BASE_URL MODEL
"""
import json
import sys

import openai


def main() -> None:
    base, model = sys.argv[1], sys.argv[2]
    client = openai.OpenAI(base_url=base + "/v1", api_key="sk-test", max_retries=0, timeout=120)
    out = {"openai_version": openai.__version__}

    # Completions, greedy, with top-3 logprobs.
    c = client.completions.create(model=model, prompt="The capital of France is", max_tokens=8, temperature=0,
                                  logprobs=3)
    ch = c.choices[0]
    out["completion"] = {
        "text": ch.text, "finish_reason": ch.finish_reason, "usage": c.usage.model_dump(),
        "tokens": ch.logprobs.tokens, "token_logprobs": ch.logprobs.token_logprobs,
        "top_logprobs": ch.logprobs.top_logprobs, "object": c.object, "model": c.model,
    }

    # The same, streamed: deltas must add up to the same text.
    pieces, finish = [], None
    for chunk in client.completions.create(model=model, prompt="The capital of France is", max_tokens=8,
                                           temperature=0, stream=True):
        for choice in chunk.choices:
            pieces.append(choice.text)
            finish = choice.finish_reason or finish
    out["completion_stream"] = {"text": "".join(pieces), "finish_reason": finish, "chunks": len(pieces)}

    # Echo prepends the prompt.
    e = client.completions.create(model=model, prompt="Hello", max_tokens=2, temperature=0, echo=True)
    out["echo"] = e.choices[0].text

    # n samples of one prompt: prompt tokens counted once.
    n = client.completions.create(model=model, prompt=["Once upon a time"], max_tokens=6, temperature=1.0, n=3,
                                  seed=11, extra_body={"ignore_eos": True})
    out["n"] = {"indices": [x.index for x in n.choices], "texts": [x.text for x in n.choices],
                "usage": n.usage.model_dump()}

    # Chat, greedy: the France question.
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    r = client.chat.completions.create(model=model, messages=messages, temperature=0, max_tokens=32)
    out["chat"] = {"content": r.choices[0].message.content, "role": r.choices[0].message.role,
                   "finish_reason": r.choices[0].finish_reason, "usage": r.usage.model_dump(), "object": r.object}

    # Chat streamed, with a usage chunk.
    pieces, roles, finish, usage = [], [], None, None
    for chunk in client.chat.completions.create(model=model, messages=messages, temperature=0, max_tokens=32,
                                                stream=True, stream_options={"include_usage": True}):
        if chunk.usage is not None:
            usage = chunk.usage.model_dump()
        for choice in chunk.choices:
            if choice.delta.role:
                roles.append(choice.delta.role)
            if choice.delta.content:
                pieces.append(choice.delta.content)
            finish = choice.finish_reason or finish
    out["chat_stream"] = {"content": "".join(pieces), "roles": roles, "finish_reason": finish, "usage": usage}

    # Chat logprobs with 2 alternatives per token.
    lp = client.chat.completions.create(model=model, messages=messages, temperature=0, max_tokens=4, logprobs=True,
                                        top_logprobs=2)
    out["chat_logprobs"] = [
        {"token": t.token, "logprob": t.logprob, "bytes": t.bytes,
         "top": [{"token": a.token, "logprob": a.logprob} for a in t.top_logprobs]}
        for t in lp.choices[0].logprobs.content
    ]
    out["chat_logprobs_text"] = lp.choices[0].message.content

    # Models list and errors the client maps to its exception types.
    out["models"] = [m.id for m in client.models.list().data]
    errors = {}
    try:
        client.completions.create(model="no-such-model", prompt="x", max_tokens=1)
    except openai.NotFoundError as exc:
        errors["unknown_model"] = exc.status_code
    try:
        client.completions.create(model=model, prompt="x", max_tokens=-1)
    except openai.BadRequestError as exc:
        errors["negative_max_tokens"] = [exc.status_code, str(exc.message)]
    out["errors"] = errors
    print(json.dumps(out))


if __name__ == "__main__":
    main()
