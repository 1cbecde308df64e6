# Two commands matter: `make demo` and `make test`.  Both build .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

.PHONY: demo test lint docs bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.run: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.run

demo: $(VENV)/.run
	$(PY) -m minigrad demo

test: $(VENV)/.dev
	$(PY) -m ruff check minigrad tests benchmarks
	$(PY) -m pytest

lint: $(VENV)/.dev
	$(PY) -m ruff check minigrad tests benchmarks

bench: $(VENV)/.dev
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) minigrad-demo site .pytest_cache .hypothesis
