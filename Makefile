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

# The documentation site first, in strict mode (a warning fails; its figures and notebooks
# are made by running the code), then the tests (the browser tests open that site), then
# every notebook run from top to bottom once more, on its own.  The tests check numbers, not
# speed: one BLAS thread keeps OpenBLAS from oversubscribing a small shared machine (a small
# product took 100x longer with its default threads on two busy cores).
test: $(VENV)/.dev
	$(PY) -m ruff check minigrad tests benchmarks tools
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict
	OPENBLAS_NUM_THREADS=1 $(PY) -m pytest
	OPENBLAS_NUM_THREADS=1 $(PY) -m pytest --nbmake notebooks

docs: $(VENV)/.dev
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

lint: $(VENV)/.dev
	$(PY) -m ruff check minigrad tests benchmarks tools

bench: $(VENV)/.dev
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) minigrad-demo site .pytest_cache .hypothesis
