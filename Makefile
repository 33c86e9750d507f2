# The two commands: `make run [APP=pyforge|modelhub|aquaculture|shop]` (embedded defaults, no server needed)
# and `make test` (every package's suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APP ?= pyforge
PACKAGES := forgekit pyforge modelhub aquaculture shop
PYFORGE_HOST ?= 127.0.0.1
PYFORGE_PORT ?= 8000
PYFORGE_DATA_DIR ?= ./.pyforge-data
export PYFORGE_HOST PYFORGE_PORT PYFORGE_DATA_DIR

.PHONY: run test lint bench venv migrate clean browser tools reliability

$(STAMP): $(foreach p,$(PACKAGES),packages/$(p)/pyproject.toml) requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(foreach p,$(PACKAGES),-e packages/$(p)) -r requirements-dev.txt
	# Aquaculture's training test needs its `train` extra (torch==2.13.0: the CPU wheel on disk).
	$(BIN)/python -m pip install -q -e 'packages/aquaculture[train]'
	# Shop's ML services (statsmodels, vaderSentiment, py3langid, scikit-learn, skl2onnx).
	$(BIN)/python -m pip install -q -e 'packages/shop[ml]'
	touch $(STAMP)

venv: $(STAMP)

migrate: $(STAMP)
	$(BIN)/$(APP) migrate

run: $(STAMP)
	$(BIN)/$(APP) migrate
	$(BIN)/$(APP) serve

# The dashboard's tests drive Debian's Chromium through Playwright (never a downloaded browser).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# Aquaculture's deploy tests run promtool (Debian's `prometheus` package; its service is not
# wanted here, so it is stopped and disabled if the install started it). Manifests are checked
# by kubernetes-validate (requirements-dev.txt), whose schemas ship in the wheel: no network.
tools:
	@command -v promtool >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
		prometheus >/dev/null; \
		{ $(SUDO) systemctl disable --now prometheus || $(SUDO) service prometheus stop; } \
		>/dev/null 2>&1 || true; }

# One pytest process per product: a process imports one product's tables, as in production.
# Two lanes on the machine's two cores, each a chain of one pytest process per product, balanced
# by their measured durations (kit + PyForge, then Aquaculture | Modelhub, then Shop). Each
# lane's output is prefixed with its name and kept in .test-logs/; the target fails when either
# lane fails, and then repeats the failing tests' summary lines last, where a CI log's tail
# shows them.
PYTEST_ARGS ?=
PYTEST := $(BIN)/python -m pytest
test: $(STAMP) browser tools
	@mkdir -p .test-logs; \
	( set -o pipefail; \
	  ( $(PYTEST) packages/forgekit/tests packages/pyforge/tests $(PYTEST_ARGS) && \
	    $(PYTEST) packages/aquaculture/tests $(PYTEST_ARGS) ) 2>&1 \
	  | tee .test-logs/lane1.log | sed -u 's/^/[kit+pyforge+aquaculture] /' ) & one=$$!; \
	( set -o pipefail; \
	  ( $(PYTEST) packages/modelhub/tests $(PYTEST_ARGS) && \
	    $(PYTEST) packages/shop/tests $(PYTEST_ARGS) ) 2>&1 \
	  | tee .test-logs/lane2.log | sed -u 's/^/[modelhub+shop] /' ) & two=$$!; \
	wait $$one; a=$$?; wait $$two; b=$$?; \
	if [ $$a -ne 0 -o $$b -ne 0 ]; then \
	  echo "make test: failures and errors:"; \
	  grep -h -E '^(FAILED|ERROR) |^E   |[0-9]+ (passed|failed)' .test-logs/lane*.log | tail -60; \
	fi; \
	echo "make test: kit+pyforge+aquaculture lane exit $$a, modelhub+shop lane exit $$b"; \
	test $$a -eq 0 -a $$b -eq 0

# We use what we sell: PyForge analyses every package's source and must pass its own gate.
lint: $(STAMP)
	$(BIN)/ruff check packages bench
	$(BIN)/mypy $(foreach p,$(PACKAGES),packages/$(p)/src)
	mkdir -p .pyforge-cache
	$(BIN)/pyforge analyze $(foreach p,$(PACKAGES),packages/$(p)/src) --format markdown \
		--output .pyforge-cache/self-gate.md; status=$$?; head -8 .pyforge-cache/self-gate.md; \
		exit $$status

bench: $(STAMP)
	$(BIN)/python bench/analysis.py
	$(BIN)/python bench/events.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/service.py
	$(BIN)/python bench/dashboard.py

# Faults, hostile input and load for every product; regenerates docs/reliability.md.
# The full soak is `make reliability SOAK_MINUTES=30` (SOAK_MINUTES=0 skips soak and stress).
SOAK_MINUTES ?= 2
SOAK_USERS ?= 1000
FUZZ_SECONDS ?= 60
reliability: $(STAMP)
	$(BIN)/python scripts/reliability.py --soak-minutes $(SOAK_MINUTES) --soak-users $(SOAK_USERS) --fuzz-seconds $(FUZZ_SECONDS)

clean:
	rm -rf $(VENV) .pyforge-data .modelhub-data .aquaculture-data .shop-data .pytest_cache .mypy_cache .ruff_cache
