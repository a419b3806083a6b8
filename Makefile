# cardiostream — two commands do all set-up on a fresh machine:
#   make demo   install into .venv and run the main job on an embedded default
#   make test   install into .venv and run the whole test suite
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint bench-qrs clean install

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[test,bench,serve,onnx]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP) web
	$(VENV)/bin/cardiostream analyze --default --out out/demo
	$(VENV)/bin/cardiostream demo --duration 60 --out out/demo

test: $(STAMP) web browser-deps
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

bench-qrs: $(STAMP)
	$(PY) benchmarks/qrs.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache web/node_modules src/cardiostream/service/static

# the dashboard front end (npm, esbuild) and the browser-test prerequisites
include web/web.mk
