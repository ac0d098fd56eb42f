# GNU make. `make run` serves the embedded demo; `make test` lints and runs the test suite.
# Needs only python3 and make (and PyPI) on a fresh clone; see README.md.

PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
# Extra pytest arguments, e.g. make test PYTEST_ARGS="-k seed -x"
PYTEST_ARGS ?=

BIN := $(VENV)/bin
# Re-install only when requirements.txt changes (it pins the full transitive set).
VENV_STAMP := $(VENV)/.requirements.stamp
NPM_STAMP := $(if $(wildcard package.json),node_modules/.package.stamp)

.DEFAULT_GOAL := help
.PHONY: help deps venv run test lint format

help:
	@echo "make run    install, migrate, seed the demo data and serve it on http://$(HOST):$(PORT)/"
	@echo "make test   install, lint, then run the test suite (pytest; PYTEST_ARGS=... adds options)"
	@echo "make lint   ruff check, ruff format --check, mypy"
	@echo "make format ruff format and ruff check --fix"

$(VENV_STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.version_info[:2] == (3, 11) or print("warning: pyproject.toml asks for Python 3.11; set PYTHON=python3.11 if you have it", file=sys.stderr)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -r requirements.txt
	touch $@

venv: $(VENV_STAMP)

# Browser libraries come from npm at set-up, and only once the project has a package.json.
ifneq ($(NPM_STAMP),)
$(NPM_STAMP): package.json $(wildcard package-lock.json)
	npm install
	touch $@
endif

deps: venv $(NPM_STAMP)

# The embedded default: SQLite in DATA_DIR (./var), the in-memory channel layer, no second factor.
run: export EVAL_DEMO = 1
run: deps
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	exec $(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application

# mypy's Django plugin loads the settings, which need a SECRET_KEY: a throwaway one unless set.
lint test: export SECRET_KEY := $(or $(SECRET_KEY),make-test-only-secret-key)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Lint first, so a lint error fails the run before the slower suite starts.
test: deps lint
	$(BIN)/pytest $(PYTEST_ARGS)
