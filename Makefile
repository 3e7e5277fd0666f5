# The README's two commands are the contract: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < requirements-dev.lock | cut -d' ' -f1)

.PHONY: install run test lint migrate clean bench lock screenshots

$(STAMP): requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (set PYTHON=/path/to/python3.11)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

# Web on http://127.0.0.1:8000, a Celery worker, Celery beat and (without REDIS_URL) an embedded Redis.
run: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py sandbox

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# PNGs of every page with demo data, in docs/screenshots/ (needs /usr/bin/chromium; a private temporary sandbox).
screenshots: install
	$(BIN)/python scripts/screenshots.py

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) data

# The benchmark (not part of `make test`): needs DATABASE_URL (PostgreSQL) and REDIS_URL. docs/benchmarks.md.
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Re-pin the dependencies after changing pyproject.toml: requirements.lock (runtime, the Docker image) and
# requirements-dev.lock (runtime + tests, what `make run` and `make test` install).
lock: install
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements-dev.lock
