# The two set-up commands of the README: `make demo` and `make test`.
# Both create a virtual environment in .venv and install guotu into it first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e . --group test --group dev
	touch $(STAMP)

install: $(STAMP)

# Build the demo county into demo_county.gpkg, check its quality and print its 用地平衡表.
demo: $(STAMP)
	$(BIN)/guotu demo -w demo_county.gpkg --force

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy

# Lint, import contracts, types, then the whole default test suite.
test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_datahub.py

clean:
	rm -rf $(VENV) demo_county.gpkg demo_county_files
