# FediFlow: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
export FEDIFLOW_DATA_DIR ?= var

.PHONY: run test lint install bench bench-sync bench-api bench-webhooks clean schemas

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PIP) install --quiet -e '.[test,redis,sftp]'
	touch $(STAMP)

install: $(STAMP)

## make run: create .venv, install, initialise embedded SQLite, load demo data, start the hub
run: $(STAMP)
	$(VENV)/bin/fediflow init
	$(VENV)/bin/fediflow demo
	$(VENV)/bin/fediflow serve

## make lint: ruff (pyflakes, pycodestyle, isort, bugbear, pyupgrade) and the import contracts of
## docs/architecture.md (layers; connectors only on hub.sdk and schemas)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

## make test: install, then run the whole suite (SQLite and PostgreSQL)
test: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

schemas: $(STAMP)
	$(PY) -m schemas.export

bench: bench-sync bench-api bench-webhooks

## figures for docs/performance.md (100k users, ~580k enrollments)
bench-sync: $(STAMP)
	$(PY) -m bench.sync_bench --users 100000

clean:
	rm -rf $(VENV) var bench/out .pytest_cache

bench-api: $(STAMP)
	$(PY) -m bench.api_bench --users 100000 --requests 3000 --concurrency 32

bench-webhooks: $(STAMP)
	$(PY) -m bench.webhook_bench --events 10000 --receivers 10

.PHONY: bench-resume
## a crashed sync resumed on PostgreSQL, with and without the writer's statistics refresh
## (needs the server of FEDIFLOW_TEST_PG, default postgresql://postgres@127.0.0.1:5432/test)
bench-resume: $(STAMP)
	$(PY) -m bench.resume_bench --users 30000
