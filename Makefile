# The two README commands: `make run` and `make test`. Each creates .venv if
# missing and installs the project into it; only Python 3.11 is needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install run test dev sample clean

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

test: install
	$(BIN)/python -m pytest

# The Dagster UI on http://127.0.0.1:3000, with the instance `make run` used.
dev: install
	mkdir -p $(DAGSTER_HOME)
	test -f $(DAGSTER_HOME)/dagster.yaml || cp orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf data .dagster_home dbt_project/target dbt_project/logs
