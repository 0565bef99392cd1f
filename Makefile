# Ritual Criteria: the commands the README shows.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
RC_PORT ?= 8000
export RC_PORT

.PHONY: run test test-e2e lint format bench install install-dev clean-data

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s); set PYTHON=/path/to/python3.11" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python requirements.txt
	$(PIP) install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

## run: install, migrate, create the HR admin and demo data once, then start web + Celery worker + beat.
## Demo e-mail goes to files in the data folder unless EMAIL_URL says otherwise; the logins are printed last.
run: export EMAIL_URL ?= file://$(abspath $(or $(RC_DATA_DIR),data))/mail
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_admin
	$(PY) manage.py seed_demo
	@$(PY) manage.py demo_logins
	@# Ctrl-C makes honcho stop the three processes and exit with 130: that is the normal way to stop, not an error.
	@$(VENV)/bin/honcho -f Procfile start || [ $$? -eq 130 ]

## test: lint (ruff, import contracts, mypy), migration check, then the test suite (DATABASE_URL / REDIS_URL select real services).
test: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run --settings=ritualcriteria.settings.test
	$(VENV)/bin/pytest

## test-e2e: only the browser tests (Playwright + /usr/bin/chromium; they skip when either is missing).
test-e2e: install-dev
	$(VENV)/bin/pytest -m e2e tests/e2e -rs

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## bench: the speed and memory scripts under bench/ (figures go to docs/benchmarks.md).
bench: install-dev
	$(PY) bench/engine.py

## clean-data: forget the embedded database, broker queue and demo logins.
clean-data:
	rm -rf data/
