# Two commands set everything up on a fresh machine:
#   make run    run Coachbot on its embedded defaults (SQLite, offline drafter, Slack sandbox)
#   make test   run the whole test suite (SQLite, then PostgreSQL if COACHBOT_TEST_POSTGRES_URL is set)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Suites that never open a database (the pure matcher, the LLM layer against its HTTP
# stand-in, Block Kit and the Slack stand-in): the PostgreSQL pass skips them.
NO_DATABASE_TESTS := --ignore=tests/circles --ignore=tests/llm --ignore=tests/bot
# Test processes (pytest-xdist): one per CPU core; each opens its own database.
TEST_WORKERS ?= auto

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/coachbot migrate
	$(BIN)/coachbot demo
	$(BIN)/coachbot serve

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy bot services
	COACHBOT_TEST_DATABASE=sqlite $(BIN)/pytest -q -n $(TEST_WORKERS)
	@if [ -n "$$COACHBOT_TEST_POSTGRES_URL" ]; then \
		echo "== again on PostgreSQL =="; \
		COACHBOT_TEST_DATABASE=postgres $(BIN)/pytest -q -n $(TEST_WORKERS) $(NO_DATABASE_TESTS); \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy bot services

clean:
	rm -rf $(VENV) coachbot.db coachbot.db-wal coachbot.db-shm
