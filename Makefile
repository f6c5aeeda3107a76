# The Grokking Book: `make book` builds the site (executing every chapter), `make test` runs the tests.
# Both create or reuse the virtual environment $(VENV); nothing is installed outside it except
# Debian's chromium for the browser check (apt-get, when missing).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export GROKKIT_RUNS ?= $(CURDIR)/runs
PIP := $(PY) -m pip --disable-pip-version-check -q

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install chromium test test-fast book benchmark reproduce scorecard assignments clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -r requirements.txt 2>&1 | { grep -v "is ignored: it is neither" || true; }
	$(PIP) install --no-deps -e . 2>&1 | { grep -v "is ignored: it is neither" || true; }
	$(PY) -c "import grokkit, torch, papermill, jupyter_book"
	touch $@

install: $(STAMP)

# Debian's Chromium for the real-browser check of the built site (never `playwright install`).
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

test: $(STAMP) chromium
	$(PY) -m pytest -q

book: $(STAMP)
	$(PY) tools/build_book.py --profile $(or $(PROFILE),default)

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

# every implemented reproduction target at $(PROFILE) (default: default) into results/, then the scorecard page
reproduce: $(STAMP)
	$(PY) -m grokkit reproduce all --profile $(or $(PROFILE),default)

scorecard: $(STAMP)
	$(PY) -m grokkit scorecard

# the course kit: student (no solutions) and instructor copies of every chapter, outputs cleared
assignments: $(STAMP)
	$(PY) -m grokkit assignments --out $(or $(OUT),_build/assignments)

benchmark: $(STAMP)
	$(PY) benchmarks/train_speed.py
	$(PY) benchmarks/sweep_speed.py

clean:
	rm -rf _build .pytest_cache
