# Two commands do everything: `make run` (demo server) and `make test` (whole suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
FLASK := $(BIN)/flask --app webapp
# Databases the suite runs against: SQLite always, PostgreSQL when a server answers.
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
OIDC_PROVIDER := tests/oidc_provider/node_modules/.package-lock.json
# axe-core, which the browser tests (tests/browser/) inject into each page to check accessibility.
AXE_CORE := tests/browser/node_modules/.package-lock.json
# The bpmn-js diagram viewer the app serves (package.json at the root, pinned in package-lock.json).
NODE_VIEWER := node_modules/.package-lock.json

.PHONY: run test test-fast test-sqlite test-postgres lint lock prerequisites setup clean bench bench-quick serve-prod \
	validate scenarios screenshots

# The application installs from requirements.lock (exact versions and hashes); tests and checks add
# requirements-test.lock. Both are generated from pyproject.toml's ranges by `make lock`.
APP_INSTALLED := $(VENV)/.app-installed
TEST_INSTALLED := $(VENV)/.test-installed

$(APP_INSTALLED): requirements.lock pyproject.toml
	@bash scripts/prerequisites.sh run
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade 'pip>=24,<27'
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(TEST_INSTALLED): requirements-test.lock $(APP_INSTALLED)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements-test.lock
	touch $@

# Regenerate both lock files after a change of pyproject.toml's ranges (needs network access to PyPI).
lock:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet 'pip-tools>=7.4,<8'
	PIP_CONFIG_FILE=/dev/null $(BIN)/pip-compile --quiet --upgrade --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml
	PIP_CONFIG_FILE=/dev/null $(BIN)/pip-compile --quiet --upgrade --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --extra test -c requirements.lock -o requirements-test.lock \
		pyproject.toml

# Analysts: check every BPMN, DMN and form (exit 1 on errors), then play the scenarios of processes/scenarios/.
# `make test` runs both too (tests/test_validation.py, tests/test_scenarios.py).
validate: $(APP_INSTALLED)
	$(FLASK) processes validate

scenarios: $(APP_INSTALLED)
	$(FLASK) processes test

setup: $(APP_INSTALLED) $(NODE_VIEWER)
	$(FLASK) setup

# DEMO=1: the demo is served over plain HTTP, so its session cookie cannot be marked Secure.
run: setup
	DEMO=1 $(FLASK) run --host $(HOST) --port $(PORT)

# Production-like: migrations without demo data, then gunicorn.conf.py (WEB_CONCURRENCY workers, BIND)
# with DATABASE_URL, SECRET_KEY, STORAGE_DIR... from the environment (docs/production.md).
serve-prod: $(APP_INSTALLED) $(NODE_VIEWER)
	$(FLASK) setup --no-demo
	$(BIN)/gunicorn -c gunicorn.conf.py

prerequisites:
	@bash scripts/prerequisites.sh test

# Everything: lint and types, then the whole suite on SQLite, then on PostgreSQL when a server answers.
test: prerequisites $(TEST_INSTALLED)
	$(MAKE) lint
	$(MAKE) test-sqlite
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
		$(MAKE) test-postgres; \
	else \
		echo "PostgreSQL ne répond pas sur 127.0.0.1:5432 : suite PostgreSQL non lancée."; \
		if [ -n "$$CI" ]; then exit 1; fi; \
	fi

# The quick core for development (SQLite, no browser, nothing marked slow): a couple of minutes.
test-fast: $(TEST_INSTALLED) $(NODE_VIEWER)
	$(BIN)/pytest -q -m "not browser and not slow"

lint: $(TEST_INSTALLED)
	$(BIN)/ruff check engine handlers webapp tests bench scripts
	$(BIN)/mypy

test-sqlite: prerequisites $(TEST_INSTALLED) $(OIDC_PROVIDER) $(NODE_VIEWER) $(AXE_CORE)
	$(BIN)/pytest -q

test-postgres: prerequisites $(TEST_INSTALLED) $(OIDC_PROVIDER) $(NODE_VIEWER) $(AXE_CORE)
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q

# The OpenID Connect provider the single sign-on tests start (npm package oidc-provider, from its lock file).
$(OIDC_PROVIDER): tests/oidc_provider/package-lock.json
	npm ci --prefix tests/oidc_provider --no-audit --no-fund
	touch $(OIDC_PROVIDER)

$(AXE_CORE): tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund
	touch $(AXE_CORE)

$(NODE_VIEWER): package-lock.json
	npm ci --omit=dev --no-audit --no-fund
	touch $(NODE_VIEWER)

# Benchmarks (bench/): the full mode rewrites BENCHMARKS.md (about half an hour, by hand); the quick mode
# runs every figure small and writes instance/BENCHMARKS-rapide.md. PostgreSQL figures need PG_TEST_URL's server.
bench: $(TEST_INSTALLED)
	$(BIN)/python -m bench --postgres-url $(PG_TEST_URL)

bench-quick: $(TEST_INSTALLED)
	mkdir -p instance
	$(BIN)/python -m bench --quick --postgres-url $(PG_TEST_URL) --output instance/BENCHMARKS-rapide.md

# Screenshots of each role's main pages for the in-app guides and the README (docs/screenshots/, about 2 minutes):
# the demo on a throwaway database on loopback, captured by Debian's Chromium at 1280 and 360 px.
screenshots: prerequisites $(TEST_INSTALLED) $(NODE_VIEWER)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) instance .pytest_cache
