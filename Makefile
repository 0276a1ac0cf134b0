# Two commands do everything: `make run` (demo server) and `make test` (whole suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
FLASK := $(BIN)/flask --app webapp
# Databases the suite runs against: SQLite always, PostgreSQL when a server answers.
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: run test test-sqlite test-postgres setup clean

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/activate

setup: $(BIN)/activate
	$(FLASK) setup

# DEMO=1: the demo is served over plain HTTP, so its session cookie cannot be marked Secure.
run: setup
	DEMO=1 $(FLASK) run --host $(HOST) --port $(PORT)

test: $(BIN)/activate
	$(MAKE) test-sqlite
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
		$(MAKE) test-postgres; \
	else \
		echo "PostgreSQL ne répond pas sur 127.0.0.1:5432 : suite PostgreSQL non lancée."; \
		if [ -n "$$CI" ]; then exit 1; fi; \
	fi

test-sqlite: $(BIN)/activate
	$(BIN)/pytest -q

test-postgres: $(BIN)/activate
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q

clean:
	rm -rf $(VENV) instance .pytest_cache
