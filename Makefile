# `make demo` and `make test` work on a fresh machine from a clean clone: each
# creates .venv, installs what it needs (system packages via scripts/setup.sh when
# root), and runs.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test unit lint docs bench system clean

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[all,test,docs,dev]'
	touch $(STAMP)

system:
	bash scripts/setup.sh

demo: $(STAMP)
	$(PY) examples/demo.py

lint: $(STAMP)
	$(PY) -m ruff check prefect_storage tests benchmarks examples
	$(PY) -m mypy

docs: $(STAMP)
	$(PY) -m mkdocs build --strict --quiet --site-dir .site

unit: $(STAMP)
	$(PY) -m pytest tests/unit tests/conformance -q

test: $(STAMP) system lint docs
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .site .pytest_cache build *.egg-info
