# The two commands a newcomer needs: `make run` and `make test`.
# Python 3.12 or newer, found on PATH or among pyenv's versions (3.11 can crash the server:
# see README, "Python 3.12+").
PYTHON ?= $(shell for v in 3.12 3.13 3.14; do \
	if python$$v -c '' 2>/dev/null; then echo python$$v; exit; fi; \
	for p in $${PYENV_ROOT:-$$HOME/.pyenv}/versions/$$v*/bin/python$$v; do \
		if [ -x "$$p" ]; then echo "$$p"; exit; fi; done; \
	done; echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Every install takes the exact versions (and hashes) the tests passed with; `make lock`
# refreshes them.
LOCK := requirements.lock

.PHONY: run test lint typecheck pytest bench lock clean

$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "policydb needs Python 3.12+ (set PYTHON=/path/to/python3.12); CPython 3.11 can crash it, see the README")'
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

## run: create the SQLite database, migrate, seed (first start), serve on http://127.0.0.1:8000
run: $(STAMP)
	$(BIN)/policydb serve

## test: every check: lint, format, types, and the test suite (SQLite, and PostgreSQL when
##       POLICYDB_TEST_POSTGRES_URL is set)
test: lint typecheck pytest

## lint: ruff (lint, with size and complexity rules; format), the import layers
##       (import-linter contracts in pyproject.toml) and module size (pylint, 400 lines)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pylint --score=n app

typecheck: $(STAMP)
	$(BIN)/mypy

# The coverage floor: about two points under what the whole suite reaches (95.7% on both
# engines, 95.5% on SQLite alone, branches counted).
COVERAGE_FLOOR := 94

pytest: $(STAMP)
	$(BIN)/pytest --cov --cov-report=term --cov-fail-under=$(COVERAGE_FLOOR)

## bench: the benchmark (see bench/README.md; BENCH_ARGS="--scales 100k"); not part of `make test`
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

## lock: re-resolve requirements.lock from pyproject.toml (the newest versions that fit, for
##       every platform and Python 3.12+); run `make test` on it, then commit it
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra bench --universal \
		--python-version 3.12 --generate-hashes --upgrade --quiet -o $(LOCK)
	rm -f $(STAMP)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
