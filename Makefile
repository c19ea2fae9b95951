# The two README commands: `make run` and `make test`. Each creates .venv if
# missing and installs the project into it; only Python 3.11 is needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test test-fast dev sample clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install when the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

sample: install
	$(BIN)/registry sample --if-missing

run: sample
	$(BIN)/registry run

# Everything: unit, dbt, end-to-end, UI (what CI runs).
test: install
	$(BIN)/python -m pytest

# The development loop: unit, dbt and definitions tests, no whole-pipeline runs, a test
# file per core at a time (pytest-xdist).
test-fast: install
	$(BIN)/python -m pytest -m "not slow and not ui" -n auto --dist loadfile

# The Dagster UI on http://127.0.0.1:3000, with the instance `registry run` used.
dev: install
	$(BIN)/registry dev

clean:
	rm -rf data dbt_project/target dbt_project/logs
