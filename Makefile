# Two commands for a newcomer: `make demo` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench install browser lowest lowest-core clean FORCE

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Strict editable install: the package folders are mapped into one import name, `driftscope`, through
# a tree of links, so it is reinstalled whenever a module is added or removed (.venv/.modules changes).
MODULES := $(sort $(wildcard src/driftscope/*.py src/driftscope/*/*.py storage/*.py storage/*/*.py collectors/*.py \
	monitors/*.py monitors/*/*.py alerting/*.py alerting/*/*.py dashboard/*.py dashboard/*/*.py \
	alembic/*.py alembic/versions/*.py))

$(VENV)/.modules: FORCE | $(BIN)/python
	@echo '$(MODULES)' | cmp -s - $@ || echo '$(MODULES)' > $@

$(STAMP): $(BIN)/python pyproject.toml $(VENV)/.modules
	rm -rf build/__editable__*
	$(BIN)/pip install --quiet -e '.[dev]' --config-settings editable_mode=strict
	touch $(STAMP)

# A local wheelhouse for tests/test_wheel.py, which builds the wheel and installs it into a fresh venv
# with `--no-index`: no test downloads anything. It holds the build backend and the dependencies of
# the core and of [postgres], fetched once here whenever pyproject.toml changes.
WHEELHOUSE := $(VENV)/wheelhouse
BUILD_REQUIRES = $$($(BIN)/python -c "import tomllib; print(' '.join(\
	tomllib.load(open('pyproject.toml', 'rb'))['build-system']['requires']))")

$(WHEELHOUSE)/.stamp: pyproject.toml | $(BIN)/python
	rm -rf $(WHEELHOUSE)
	$(BIN)/pip download --quiet --dest $(WHEELHOUSE) '.[postgres]' $(BUILD_REQUIRES)
	rm -f $(WHEELHOUSE)/driftscope-*
	touch $@

install: $(STAMP) $(WHEELHOUSE)/.stamp

# Debian's Chromium for the end-to-end dashboard test; installed when missing and we are root.
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

demo: $(STAMP)
	$(BIN)/driftscope demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# mypy runs beside pytest (a core each; the suite is mostly one process): CI has 20 minutes.
test: install browser
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	@$(BIN)/mypy & types=$$!; $(BIN)/pytest; tests=$$?; wait $$types; checked=$$?; \
		test $$tests -eq 0 -a $$checked -eq 0

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# Lower bounds: pyproject.toml's are the oldest releases the suite passes with (docs/lower-bounds.md has
# the last run). `make lowest` installs every direct dependency at its lowest allowed version (uv's
# lowest-direct resolution; transitive ones at their newest) into .venv-lowest, with the project
# installed as `make install` does (strict editable: the dashboard tests open the page scripts by their
# path in the work tree), and runs the tests there (LOWEST_TESTS, default the fast ones). The wheel test
# reads .venv/wheelhouse. `make lowest-core` resolves the core alone (no extras: pandas, scipy... at
# their own lowest, which the dev extras raise) into .venv-lowest-core and runs the wheel test's
# lifecycle there, then again on PostgreSQL with [postgres] at its lowest. Both download old releases
# from the package index, so they are run by hand when a bound changes, not in CI.
LOWEST := .venv-lowest
LOWEST_TESTS ?= tests -m "not slow and not browser" -p no:cacheprovider
lowest: $(STAMP) $(WHEELHOUSE)/.stamp
	$(BIN)/pip install --quiet uv
	rm -rf $(LOWEST)
	$(BIN)/uv venv --quiet --seed --python $(BIN)/python $(LOWEST)  # pip: the wheel test builds with it
	$(BIN)/uv pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct \
		-e '.[dev]' --config-settings editable_mode=strict
	ln -s ../$(VENV)/wheelhouse $(LOWEST)/wheelhouse
	$(BIN)/uv pip freeze --python $(LOWEST)/bin/python > $(LOWEST)/resolved.txt
	$(LOWEST)/bin/pytest $(LOWEST_TESTS)

LOWEST_CORE := .venv-lowest-core
lowest-core: $(STAMP)
	$(BIN)/pip install --quiet uv
	rm -rf $(LOWEST_CORE)
	$(BIN)/uv venv --quiet --python $(BIN)/python $(LOWEST_CORE)
	$(BIN)/uv pip install --quiet --python $(LOWEST_CORE)/bin/python --resolution lowest-direct .
	$(BIN)/uv pip freeze --python $(LOWEST_CORE)/bin/python > $(LOWEST_CORE)/resolved.txt
	DRIFTSCOPE_TEST_PG_URL= $(BIN)/python tests/lifecycle_in_venv.py $(LOWEST_CORE)/bin/python
	$(BIN)/uv pip install --quiet --python $(LOWEST_CORE)/bin/python --resolution lowest-direct '.[postgres]'
	$(BIN)/uv pip freeze --python $(LOWEST_CORE)/bin/python > $(LOWEST_CORE)/resolved-postgres.txt
	$(BIN)/python tests/lifecycle_in_venv.py $(LOWEST_CORE)/bin/python

clean:
	rm -rf $(VENV) $(LOWEST) $(LOWEST_CORE) build .pytest_cache .ruff_cache .mypy_cache tests/artifacts
