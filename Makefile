# QualityBytes License Server. Two commands matter: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/qualitybytes
export DEBUG ?= 1

.PHONY: run staff test lint format install install-run venv migrate seed bench soak clean audit schemathesis

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

# Two stamps: running needs requirements.txt only; tests, lint and the CI checks need the tools too.
$(VENV)/.installed-run: requirements.txt | $(BIN)/python
	$(BIN)/pip install -r requirements.txt
	touch $@

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -r requirements-dev.txt
	touch $(VENV)/.installed-run $@

install-run: $(VENV)/.installed-run
install: $(VENV)/.installed

## make run: SQLite, console email, Stripe simulator; http://127.0.0.1:8000
run: install-run
	@$(BIN)/python manage.py migrate --noinput -v 0
	$(BIN)/python manage.py seed_plans
	@# With no Stripe key these talk to the built-in simulator; both are safe to run again.
	$(BIN)/python manage.py sync_plans
	$(BIN)/python manage.py create_webhook_endpoint
	@$(BIN)/python manage.py dev_welcome
	$(BIN)/python manage.py runserver 127.0.0.1:8000

## make staff: create a staff user (superuser) for the admin of `make run`; asks for email and password
staff: install-run
	@$(BIN)/python manage.py migrate --noinput -v 0
	$(BIN)/python manage.py createsuperuser

## make test: ruff, the migrations check, then the whole suite against PostgreSQL ($(DATABASE_URL))
test: install
	@$(BIN)/python -c "import psycopg,sys,os; \
	url=os.environ.get('DATABASE_URL','$(DATABASE_URL)').rsplit('/',1)[0]+'/postgres'; \
	psycopg.connect(url, connect_timeout=3).close()" 2>/dev/null || { \
	  echo ""; echo "No PostgreSQL answers at $(DATABASE_URL)."; \
	  echo "Start it (Debian: sudo pg_ctlcluster \$$(ls /etc/postgresql) main start)"; \
	  echo "or point DATABASE_URL at a server you can create databases on."; echo ""; exit 2; }
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# Models and migrations agree (no database needed for the check).
	DATABASE_URL=sqlite://:memory: $(BIN)/python manage.py makemigrations --check --dry-run
	@# pytest last: its summary is the closing line of the run.
	DATABASE_URL=$(DATABASE_URL) $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## make bench: validate vs a bare Django view under gunicorn + wrk, 100,000 licenses in PostgreSQL
## ($(BENCH_DATABASE_URL)); not a test. Needs wrk (apt-get install wrk). See docs/benchmark.md.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/qb_bench
bench: install
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk"; exit 2; }
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/run.py

## make soak: validate at half the peak rate for BENCH_SOAK_SECONDS (600) under the same gunicorn;
## fails on any error or a worker whose RSS grows more than BENCH_SOAK_MAX_GROWTH_MB (20) in the
## second half. BENCH_SOAK_RATE skips the peak measurement. Samples: bench/.data/soak.json.
soak: install
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m bench.soak

## make audit: pip-audit over requirements.txt (any known vulnerability fails; packages PyPI could
## not be asked about are named but do not fail without AUDIT_STRICT=1) and bandit (high severity fails).
audit: install
	$(BIN)/python .ci/audit.py
	$(BIN)/bandit -q -r accounts billing licensing teams qualitybytes stripe_simulator -x '*/tests/*' -lll

## make schemathesis: fuzz the live API (gunicorn + a fresh PostgreSQL database) against /api/schema/:
## no 5xx and every response as the schema says. SCHEMATHESIS_MAX_TIME (default 300 s) bounds it.
## The run creates a database of its own on that server, with a fresh name, and drops it after.
SCHEMATHESIS_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/qb_schemathesis
schemathesis: install
	SCHEMATHESIS_DATABASE_URL=$(SCHEMATHESIS_DATABASE_URL) $(BIN)/python .ci/schemathesis.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
