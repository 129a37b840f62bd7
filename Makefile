# One way to run everything. `make demo` and `make test` work on a fresh machine:
# they create the virtual environment from uv.lock (exact versions) before doing anything.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
UV := .tools/bin/uv
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup system-deps demo demo-exchange test test-fast check format bench fuzz clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-groups
	touch $@

setup: $(VENV)/.synced

system-deps:
	bash scripts/system-deps.sh

demo: setup
	$(PY) -m tantalio.demo

# Two agencies and a central exchange on 127.0.0.1 (README: "Across agencies").
demo-exchange: setup
	$(PY) -m tantalio.demo.exchange

test: setup system-deps
	$(PY) -m pytest -n 2 --dist loadgroup

test-fast: setup
	$(PY) -m pytest -x -q -m "not browser and not slow"

check: setup
	$(VENV)/bin/ruff format --check src tests bench fuzz
	$(VENV)/bin/ruff check src tests bench fuzz
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format src tests bench fuzz
	$(VENV)/bin/ruff check --fix src tests bench fuzz

# Each fuzz target (fuzz/targets.py) for FUZZ_SECONDS; `make fuzz FUZZ_TARGETS=disks` for one.
FUZZ_SECONDS ?= 60
fuzz: setup
	$(PY) -m fuzz.run --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

bench: setup
	@cat bench/README.md

clean:
	rm -rf $(VENV) .tools demo-output demo-exchange-output
