# DiploHub: `make run` serves the demo hub, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DJANGO_SETTINGS_MODULE := diplohub.settings
# The Barcelona demo configuration; variables set in the environment win.
export DIPLOHUB_ENV_FILE ?= $(CURDIR)/demo.env
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install messages run demo test test-fast lint bench worker browser pdf-libs migrations-check clean

help:
	@echo "make run      set up and serve the demo hub on http://$(HOST):$(PORT)"
	@echo "make test     set up and run the whole test suite (SQLite unless DATABASE_URL is set)"
	@echo "make lint     ruff, mypy and the migrations check"
	@echo "make bench    run the benchmarks in bench/ (PostgreSQL for the web ones)"
	@echo "make worker   run a background task worker"
	@echo "make demo     rebuild the demo data in the database"

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e ".[dev]"
	@mkdir -p var/static var/media
	@touch $@

install: $(STAMP)

# Compiled translations are built from the .po files, never committed.
messages: $(STAMP)
	@command -v msgfmt >/dev/null || $(MAKE) --no-print-directory _apt PKG=gettext
	@if [ -d diplohub/locale ]; then cd diplohub && ../$(BIN)/diplohub compilemessages -v0; fi

run: messages pdf-libs
	@$(BIN)/diplohub migrate --no-input -v0
	@$(BIN)/diplohub demo --if-empty
	@$(BIN)/diplohub demo_events --if-empty
	@$(BIN)/diplohub demo_mailing --if-empty
	@$(BIN)/diplohub demo_knowledge --if-empty
	@$(BIN)/diplohub search_reindex --if-empty
	@$(BIN)/diplohub demo_login
	@echo "Serving the demo hub on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	@DIPLOHUB_TASK_BACKEND=django_tasks.backends.immediate.ImmediateBackend \
		$(BIN)/diplohub runserver --noreload $(HOST):$(PORT)

demo: messages
	@$(BIN)/diplohub migrate --no-input -v0
	$(BIN)/diplohub demo --reset

worker: $(STAMP)
	$(BIN)/diplohub worker

browser:
	@if [ ! -x /usr/bin/chromium ]; then $(MAKE) --no-print-directory _apt PKG="chromium fonts-dejavu-core"; fi

# WeasyPrint (badges, the order of precedence as PDF) lays out text with Pango, in DejaVu.
pdf-libs:
	@if ! { ldconfig -p 2>/dev/null || /sbin/ldconfig -p; } | grep -q libpangoft2 \
		|| [ ! -d /usr/share/fonts/truetype/dejavu ]; then \
		$(MAKE) --no-print-directory _apt PKG="libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core"; fi

# Install a Debian package when we may (root, or password-less sudo); otherwise say so.
_apt:
	@if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo"; \
	else echo "Cannot install $(PKG): run 'sudo apt-get install $(PKG)' yourself."; exit 0; fi; \
	echo "Installing $(PKG) from Debian's packages..."; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(PKG) >/dev/null

test: messages browser pdf-libs
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check diplohub tests bench conftest.py
	$(BIN)/ruff format --check diplohub tests bench conftest.py
	$(BIN)/mypy diplohub
	$(BIN)/diplohub makemigrations --check --dry-run -v1

bench: messages
	@command -v wrk >/dev/null || $(MAKE) --no-print-directory _apt PKG=wrk
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/1} $(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var
