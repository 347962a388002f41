# One place for every install step, so a fresh clone (and CI) needs nothing done by hand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= auto

.PHONY: install test lint run serve clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

lint: install
	$(BIN)/ruff check .

test: install lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) -q

run: serve

serve: install
	$(BIN)/pkconf serve

clean:
	rm -rf $(VENV) reports/* .pytest_cache
