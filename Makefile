# Entry points: `make demo` (the whole pipeline on the embedded default) and `make test` (CI).
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# pip prints a warning per package for this machine's unused local indexes; keep the log readable
QUIET  := 2>&1 | { grep -v "^WARNING: Location" || true; }
# one progress line per install step, with the time (the venv takes minutes on a fresh clone)
STEP   := printf '==> [%s] install: %s\n' "$$(date +%T)"

.PHONY: demo test test-unit test-integration test-e2e lint lint-sql lint-dbt bench up down status install clean docs-assets

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11+ is required (PYTHON=$(PYTHON))"; exit 1; }
	@$(STEP) "creating the virtual environment $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@$(STEP) "installing the locked dependencies (requirements.lock: 3-5 minutes on 2 cores)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
		-r requirements.lock $(QUIET)
	@$(STEP) "checking them (pip check)"
	$(BIN)/python -m pip check
	@$(STEP) "installing this project (editable)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e . $(QUIET)
	# empyrical-reloaded 0.7.1, the tests' metric reference (test-only): it declares peewee<3.17.4
	# and bottleneck for its data downloads, which the lock's peewee 4.5.3 (yfinance) contradicts,
	# and pip resolves the lock to 0.5.9, which fails on numpy 2. Its metric functions need only
	# numpy, pandas and scipy: installed without dependencies into .venv/test-only, outside
	# site-packages, so `pip check` stays clean; tests/integration/test_strategies.py imports it.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --upgrade \
		--target $(VENV)/test-only empyrical-reloaded==0.7.1 $(QUIET)
	@$(STEP) "checking that everything imports"
	cd / && $(CURDIR)/$(BIN)/python -c "import settings, mdw.cli, ingest.files, flows.pipeline, expectations.suites, talib"
	test -x $(BIN)/mdw
	touch $(STAMP)
	@$(STEP) "the virtual environment is ready"

demo: $(STAMP)
	$(BIN)/mdw demo

# Two pytest-xdist workers (this machine's cores; TEST_WORKERS=1 runs one): the e2e stack and the
# tests that share dbt_project/target run on one of them, in order (tests/conftest.py).
TEST_WORKERS ?= 2
test: $(STAMP) lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope --durations=25 tests

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

test-integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration

test-e2e: $(STAMP)
	$(BIN)/python -m pytest tests/e2e

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory lint-sql lint-dbt

# sqlfluff over dbt_project/ (dbt_project/.sqlfluff: jinja templater, postgres; `sqlfluff fix` fixes)
lint-sql: $(STAMP)
	cd dbt_project && $(CURDIR)/$(BIN)/sqlfluff lint --processes 2 .

# dbt-project-evaluator at zero, from ../shared/vendor/dbt-packages (skipped where that is absent)
lint-dbt: $(STAMP)
	$(BIN)/python -m tests.lint.evaluate_dbt_project

bench: $(STAMP)
	$(BIN)/python -m bench

# Refresh the data docs' vendored CDN assets (expectations/docs_assets) from the npm registry.
docs-assets: $(STAMP)
	$(BIN)/python -m expectations.refresh_docs_assets

up down status: $(STAMP)
	$(BIN)/mdw $@

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs
