PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint demo clean container-check reliability bench

$(STAMP): requirements.lock requirements-scale.lock requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.lock
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -e .
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Two workers (pytest-xdist): the machine has two cores and the season-long suites are CPU-bound.
test: lint
	$(BIN)/pytest -n 2

demo: $(STAMP)
	$(BIN)/bot demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

container-check:
	bash scripts/container-check.sh

# The reliability suite with a heavier crash schedule than `make test` runs (figures in the README).
reliability: $(STAMP)
	CRASH_KILLS=60 CRASH_EXCHANGE_RESTARTS=5 $(BIN)/pytest -v -p no:randomly \
		tests/test_crash_safety.py tests/test_live_resilience.py tests/test_real_venue.py tests/test_policy.py \
		tests/test_exchange_paper.py tests/test_cli_venue.py tests/test_hostile_answers.py tests/test_bounded_requests.py tests/test_clock_guard.py \
		tests/test_bad_inputs.py tests/test_backtest_engine.py tests/test_backtest_quiet.py \
		tests/test_config.py tests/test_market_data.py tests/test_secrets.py tests/test_adapter.py

# Side-by-side benchmarks against backtrader and vectorbt (installed from the bench lock); writes BENCHMARKS.md.
bench: $(STAMP)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-bench.lock
	$(BIN)/python -m bench.run
