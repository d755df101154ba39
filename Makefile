# 售后服务管理系统 — developer commands. `make` alone lists them.
#
# Everything runs from the project's virtualenv (.venv), created by `make venv` with the first
# Python >= 3.12 found (Django 6.1 refuses older ones).

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.requirements-installed
# The demo and the single-process targets run with DEBUG on (no SECRET_KEY needed);
# `make web DEBUG=0` runs without it.
DEBUG ?= 1
RUN_ENV := DEBUG=$(DEBUG) PATH="$(CURDIR)/$(BIN):$$PATH"

# Finding Python >= 3.12: names on PATH first (pyenv shims answer only for the versions that
# .python-version selects, so each candidate is run, not just looked up), then pyenv's installs.
PY_OK := import sys; sys.exit(sys.version_info < (3, 12))
PYTHON_CANDIDATES = python3.13 python3.12 \
	$(sort $(wildcard $(HOME)/.pyenv/versions/3.1[23]*/bin/python)) python3
find_python = for p in $(PYTHON_CANDIDATES); do \
	  if "$$p" -c '$(PY_OK)' >/dev/null 2>&1; then \
	    "$$p" -c 'import sys; print(sys.executable)'; break; \
	  fi; \
	done

.PHONY: help venv demo web worker beat test system-deps lint fmt messages check-deploy clean bench-import \
	bench-tickets bench-time bench-sla bench-report bench

help: ## List the commands
	@echo "售后服务管理系统 — make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-13s %s\n", $$1, $$2}'

venv: $(STAMP) ## Create .venv (Python >= 3.12) and install requirements.txt

$(STAMP): requirements.txt
	@if ! $(PY) -c '$(PY_OK)' >/dev/null 2>&1; then \
	  python="$$($(find_python))"; \
	  if [ -z "$$python" ]; then \
	    echo "ERROR: Django 6.1 needs Python >= 3.12, and none was found. Tried:" >&2; \
	    for p in $(PYTHON_CANDIDATES); do \
	      v="$$("$$p" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || echo 'not found')"; \
	      echo "  $$p: $$v" >&2; \
	    done; \
	    echo "Install Python 3.12 or 3.13 (e.g. 'pyenv install 3.12'), or name one:" >&2; \
	    echo "  make venv PYTHON_CANDIDATES=/path/to/python3.12" >&2; \
	    exit 1; \
	  fi; \
	  echo "Creating $(VENV) with $$python ($$("$$python" --version))"; \
	  rm -rf $(VENV) && "$$python" -m venv $(VENV); \
	fi
	@echo "Installing requirements.txt into $(VENV) (a few minutes the first time)"
	@# This machine's pip configuration names package folders that may not exist; pip warns
	@# about each of them for every package: those lines are dropped, any other output shown.
	@set -o pipefail; $(PY) -m pip install --disable-pip-version-check -q -r requirements.txt 2>&1 \
		| { grep -v "is ignored: it is neither a file nor a directory" || true; }
	@touch $@

var:
	@mkdir -p var

demo: venv var system-deps ## (README command 1) set up, load demo data, run web + worker with beat
	@echo "Preparing the database (var/)"
	@$(RUN_ENV) python manage.py migrate --no-input --verbosity 0
	@$(RUN_ENV) python manage.py seed_demo
	@$(RUN_ENV) python manage.py run_timers --daily
	@echo
	@echo "  Web: http://127.0.0.1:8000/  (logins in README.md, password demo12345)"
	@echo "  Ctrl-C stops the web server and the worker together."
	@echo
	@# Honcho's clock in the app's time zone; Ctrl-C (exit 130) is how the demo ends, not an error.
	@$(RUN_ENV) TZ=Asia/Shanghai honcho start -f Procfile || [ $$? -eq 130 ]

web: venv var ## Run the web server only (runserver on 0.0.0.0:8000)
	$(RUN_ENV) python manage.py runserver 0.0.0.0:8000

worker: venv var ## Run a Celery worker only (no beat)
	$(RUN_ENV) celery -A aftersales worker -l info --concurrency 2

beat: venv var ## Run Celery beat only (exactly one per installation)
	$(RUN_ENV) celery -A aftersales beat -l info

test: venv system-deps ## (README command 2) run the whole test suite
	$(BIN)/pytest $(PYTEST_ARGS)

# Best effort: Debian packages the product and its tests need beyond Python's. WeasyPrint (the
# service report's PDF) needs Pango and the CJK fonts it embeds; the browser tests need Chromium
# and the same fonts. Without root or apt-get, or when the install fails, the missing ones are
# named instead (the browser tests are then skipped with a message; PDFs cannot be rendered).
SYSTEM_PACKAGES := chromium fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0
system-deps:
	@missing=""; \
	for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	[ -x /usr/bin/chromium ] || case "$$missing" in *chromium*) ;; *) missing="$$missing chromium";; esac; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt="apt-get -o DPkg::Lock::Timeout=300"; \
	  $$apt install -y -qq $$missing >/dev/null 2>&1 \
	    || { $$apt update -qq && $$apt install -y -qq $$missing >/dev/null; } \
	    || echo "WARNING: could not install$$missing; browser tests will be skipped." >&2; \
	else \
	  echo "NOTE: missing Debian packages (apt-get install$$missing): service report PDFs" \
	    "need Pango and fonts-noto-cjk; browser tests will be skipped without chromium." >&2; \
	fi

lint: venv ## ruff check, ruff format --check, djhtml --check, import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djhtml --check templates $(wildcard */templates)
	$(BIN)/lint-imports --no-cache

fmt: venv ## Fix what lint can fix: ruff --fix, ruff format, djhtml
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/djhtml templates $(wildcard */templates)

messages: venv ## Update and compile the zh_Hans translations (needs gettext)
	$(RUN_ENV) python manage.py makemessages -l zh_Hans --ignore .venv --ignore var --ignore static --no-obsolete
	$(RUN_ENV) python manage.py compilemessages -l zh_Hans --ignore .venv

# A production-like environment: the deploy checks must pass with no warning at all.
check-deploy: venv ## manage.py check --deploy with production-like settings
	DEBUG=0 \
	SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
	EMAIL_URL=smtp://localhost:25 \
	SECURE_HSTS_SECONDS=31536000 \
	SECURE_SSL_REDIRECT=1 \
	ALLOWED_HOSTS=example.com \
	SITE_URL=https://example.com \
	$(PY) manage.py check --deploy --fail-level WARNING

# PostgreSQL from DATABASE_URL (default below), created when missing. Its name must contain
# "bench": each run empties the customer tables. E.g. BENCH_ARGS="--rows 20000 --memory-rows"
bench-import: venv ## Time importing 100,000 customers + contacts against bulk_create
	DATABASE_URL="$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/aftersales_bench}" \
	$(PY) bench/import_customers.py $(BENCH_ARGS)

# The ticket pages at 100,000 and at 1,000,000 tickets, both served by gunicorn and measured in
# the same phase (rounds alternate sizes), at 1 and 8 clients with wrk; prints the figures and
# the targets, writes bench/out/tickets-<date>.json. Its databases (BENCH_DATABASE_URL + _100k,
# _1000k; default postgres://postgres@127.0.0.1:5432/aftersales_bench_tickets) are dropped and
# rebuilt each run; about 25 minutes. E.g. BENCH_TICKETS_ARGS="--sizes 100000 --rounds 1"
bench-tickets: venv ## Time the ticket pages at 100k and 1M tickets (gunicorn)
	@command -v wrk >/dev/null || apt-get -o DPkg::Lock::Timeout=300 install -y -qq wrk >/dev/null || \
		echo "wrk is not installed: measuring with bench.client's threads instead"
	$(PY) -m bench.tickets $(BENCH_TICKETS_ARGS)

# Business-time arithmetic (no database): a deadline 30 working days away, well under 1 ms.
bench-time: venv ## Time the business-calendar arithmetic
	$(PY) bench/business_time.py

# The every-minute SLA timer over 1,000,000 open tickets (its own database, generated when
# missing): nothing due < 200 ms, 100k newly breached within 3x one plain UPDATE of them.
bench-sla: venv ## Time the every-minute timer at 1M open tickets
	$(PY) bench/sla_timer.py $(BENCH_SLA_ARGS)

# The electronic service report with 6 photos rendered to PDF N times (median, p95; target < 2 s).
# Self-contained (a temporary SQLite database and media folder). E.g. BENCH_REPORT_ARGS="--runs 50"
bench-report: venv ## Time rendering a service report PDF with 6 photos
	$(PY) bench/report.py $(BENCH_REPORT_ARGS)

bench: bench-import bench-tickets bench-time bench-sla bench-report ## Run every benchmark (PostgreSQL)

clean: ## Remove caches (keeps .venv and var/)
	rm -rf .pytest_cache .ruff_cache test-results
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
