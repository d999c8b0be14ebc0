# RoboClass: `make demo` runs the classroom on this computer, `make test` tests it.
# `make` builds .venv itself; nothing is installed globally but the Debian
# packages that scripts/system-deps.sh names.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-roboclass
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
# What `make demo` and `make test` need: the console, the embedded broker, the tools.
EXTRAS ?= console,demo,postgres,dev

.PHONY: all venv demo test test-unit lint bench system-deps lock clean firmware models face-model frontend

all: venv firmware

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "RoboClass needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -c constraints.txt -e '.[$(EXTRAS)]'
	touch $@

system-deps:
	./scripts/system-deps.sh

# The reference firmware, the echo firmware and the simavr harness (issue 11), into build/.
# Without gcc-avr/libsimavr it says so and the tests that need them skip (CI=true: fails).
firmware:
	@if command -v avr-gcc >/dev/null && [ -e /usr/include/simavr/sim_avr.h ]; then \
	  $(MAKE) --no-print-directory -C firmware_bridge BUILD=$(CURDIR)/build/firmware; \
	elif [ "$${CI:-}" = "true" ]; then \
	  echo "firmware: gcc-avr or libsimavr-dev missing (make system-deps)" >&2; exit 1; \
	else \
	  echo "firmware: gcc-avr or libsimavr-dev missing: skipped (make system-deps)"; \
	fi

# The shipped models (issue 5): trains them again from data the scripts render, with torch
# (CPU) and onnx from the `train` extra. Robots, `make test` and CI never need torch.
models: venv
	$(PIP) install -c constraints.txt -e '.[$(EXTRAS),train]'
	cd scripts/models && ../../$(BIN)/python train_signs.py
	cd scripts/models && ../../$(BIN)/python train_detector.py
	cd scripts/models && ../../$(BIN)/python train_features.py

face-model: venv
	$(BIN)/python scripts/models/extract_faces.py

# The student editor (issue 21): CodeMirror 6 from npm at the versions frontend/package-lock.json
# pins, bundled by esbuild into fleet/console/static/vendor/editor.js (committed: robots, `make
# demo` and `make test` never need node). Needs node >= 18 and npm; re-run after changing the lock.
frontend:
	cd frontend && npm ci --no-audit --no-fund --ignore-scripts
	node frontend/build.mjs

demo: venv
	$(BIN)/roboclass demo

test: venv system-deps firmware
	$(BIN)/pytest

test-unit: venv
	$(BIN)/pytest -m "not integration"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: venv system-deps firmware
	@set -e; for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b; done

# Refresh the pins after changing setup.cfg: uv resolves every extra at once, for every
# platform (robots on aarch64, PCs on x86-64) and Python >= 3.11, into exact pins. It keeps
# the pins that still fit; `make lock UPGRADE=1` takes the newest versions the ranges allow.
# uv comes from the dev extra (pinned in constraints.txt itself).
LOCK := $(BIN)/uv pip compile setup.cfg --all-extras --universal --python-version 3.11 \
	--custom-compile-command "make lock" --quiet -o constraints.txt $(if $(UPGRADE),--upgrade)

lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(PIP) install -c constraints.txt uv
	$(LOCK)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
