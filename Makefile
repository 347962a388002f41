# One place for every install step, so a fresh clone (and CI) needs nothing done by hand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= auto

.PHONY: install system-deps test lint run report serve bench fuzz soak clean

install: $(VENV)/.installed system-deps

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Debian's Chromium (Playwright cannot download its browser here) and the Allure 3 npm tooling.
system-deps:
	bash scripts/install-system-deps.sh

# Style, then types (mypy reads its files and strictness from pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# Unit tests of the harness, then every conformance case (explicit and generated matrix).
test: install lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) -q -p no:cacheprovider

# The main job: the whole conformance suite with reports in reports/.
run: install
	$(BIN)/pkconf run

# Rebuild the summary and the single-file HTML report from the last run's reports/.
report: install
	$(BIN)/pkconf report

serve: install
	$(BIN)/pkconf serve

# Every speed target against its measurement, one table (BENCH_ARGS=--quick for a few minutes).
bench: install
	$(BIN)/pkconf bench $(BENCH_ARGS)

# The fuzzing battery's long profile (tests/fuzz): >= 100,000 generated inputs in all, with the
# count per target and the totals (inputs, 5xx, crashes) printed at the end.
fuzz: install
	PKCONF_FUZZ=long $(BIN)/pytest -q -p no:cacheprovider tests/fuzz

# The default suite N times; any case whose result differs between runs fails it (exit 1).
N ?= 20
soak: install
	$(BIN)/python scripts/soak.py --runs $(N)

clean:
	rm -rf $(VENV) reports/* .pytest_cache tools/allure/node_modules
