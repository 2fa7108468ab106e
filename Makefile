# Everything runs from a local virtualenv that these targets create on first use.
# `make run` installs only what the bot needs; test, lint and bench add the dev tools.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
PIP    := $(BIN)/python -m pip install --disable-pip-version-check
# The project's own files: a scratch file elsewhere in the checkout is not linted.
LINT_PATHS := bot cogs curriculum tests bench localdiscord

.PHONY: run demo test lint check bench bench-full transcript clean

run: $(RUN_STAMP)
	$(BIN)/twopass run

# The real bot against a local Discord, no token needed: type /join, /done, :advance 1d, :help.
demo: $(DEV_STAMP)
	$(BIN)/twopass sandbox

test: $(DEV_STAMP)
	$(BIN)/python -m pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy
	$(BIN)/lint-imports

check: test lint

bench: $(DEV_STAMP)
	$(BIN)/python -m bench --quick

bench-full: $(DEV_STAMP)
	$(BIN)/python -m bench

# What the bot says over a three-week story with 34 members (deterministic: stepped clock, seed).
transcript: $(DEV_STAMP)
	$(BIN)/python -m tools.transcript docs/transcript.txt

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Runtime dependencies only (discord.py, aiosqlite, APScheduler, pydantic).
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	@echo "installing twopass into $(VENV) (first run only)..."
	$(PIP) -e .
	touch $@

# The dev extras include everything `run` needs, so they satisfy its stamp too; a venv made by
# `make run` gets the extras added here the first time `make test` or `make lint` runs.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	@echo "installing twopass and its dev tools into $(VENV) (first run only)..."
	$(PIP) -e '.[dev]'
	touch $@ $(RUN_STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
