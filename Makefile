# Box-office POS. `make run` starts the demo; `make test` runs every test (GUI offscreen).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench coverage openapi clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: embedded HTTPS server + demo catalog + paired terminal + POS window
run: $(STAMP)
	$(VENV)/bin/pos-app demo

## test: lint, then the whole suite (unit, integration, reliability, GUI offscreen), on two
## workers (pytest-xdist; each starts its own test servers): 6:45 here instead of 11:16
test: $(STAMP) lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider -n 2 tests

## lint: ruff on everything, strict mypy on the package
lint: $(STAMP)
	$(VENV)/bin/ruff check pos_app tests
	$(VENV)/bin/mypy

## bench: speed figures printed by the benchmark scripts (not timed tests)
bench: $(STAMP)
	@for f in tests/benchmarks/bench_*.py; do echo "== $$f"; QT_QPA_PLATFORM=offscreen $(PY) $$f || exit 1; done

## coverage: the whole suite under coverage (servers it starts included), by package
coverage: $(STAMP)
	rm -rf .coverage-data && mkdir .coverage-data
	QT_QPA_PLATFORM=offscreen $(PY) -m coverage run -m pytest -q -p no:cacheprovider tests
	$(PY) -m coverage combine -q
	$(PY) -m coverage json -q -o .coverage-data/by-file.json
	$(PY) tests/support/coverage_by_package.py .coverage-data/by-file.json

## openapi: write the server's OpenAPI document to docs/openapi.json (a test checks it)
openapi: $(STAMP)
	$(PY) -m pos_app.server.openapi_export docs/openapi.json

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache .coverage-data
