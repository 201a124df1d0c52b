# Two commands for people: `make demo` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck unit later lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[sandbox]'
	touch $@

$(DEV_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@ $(RUNTIME_STAMP)

demo: $(RUNTIME_STAMP)
	$(BIN)/seerbridge demo

test: $(DEV_STAMP) lint typecheck unit later

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

unit: $(DEV_STAMP)
	$(BIN)/pytest -q

# The tests that involve dates (scenarios, backoff, upgrades, the demo, kill -9 restarts) once more with the wall
# clock a year ahead: a test that leans on today's date fails here.
DATED_TESTS := tests/test_clock.py tests/cli/test_cli.py tests/e2e/test_upgrade.py tests/e2e/test_backoff.py \
	tests/e2e/test_follow.py tests/e2e/test_cleanup.py tests/e2e/test_stats.py tests/e2e/test_crash.py
later: $(DEV_STAMP)
	SEERBRIDGE_TEST_DAYS_AHEAD=365 $(BIN)/pytest -q $(DATED_TESTS)

# Re-resolve the pinned set after changing dependencies in pyproject.toml.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade -e '.[dev]'
	$(BIN)/python -m pip freeze --exclude-editable --exclude seerbridge | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
