# The two set-up commands of the README. Both create .venv and install on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-slow test-all install lock clean

LOCK   := requirements.lock

$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required (TensorFlow 2.14); set PYTHON=python3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]" --constraint $(LOCK)
	@TF_CPP_MIN_LOG_LEVEL=3 $(BIN)/python -c 'import keras, sys; v = keras.__version__; sys.exit(0 if v.startswith("2.") else f"Keras {v} found: Keras 3 breaks QKeras/hls4ml here")'
	touch $(STAMP)

install: $(STAMP)

## make run: the main job on built-in data, no vendor tools: fit the digits MLP to an Arty A7-35T
run: $(STAMP)
	$(BIN)/hcp-fpga optimize projects/digits-mlp --force

## make test: the default test run (slow tests excluded)
test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

test-all: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make lock: record the exact versions of the current environment (after a passing make test)
lock: $(STAMP)
	{ echo "# Exact versions 'make test' and .ci/run passed with (Python 3.11, linux x86_64)."; \
	  echo "# make installs with these as pip constraints; regenerate with 'make lock' after changing pyproject.toml."; \
	  $(BIN)/pip freeze --exclude-editable | grep -v -i '^ruff=='; } > $(LOCK)

clean:
	rm -rf outputs .pytest_cache
