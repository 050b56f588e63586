# Two commands on a fresh machine with Python 3.11:  make demo  |  make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench bench-quick clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

$(BIN)/.installed-bench: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $@

demo: $(BIN)/.installed
	$(BIN)/causalmmm demo -o demo-output

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(BIN)/.installed-bench
	$(BIN)/python -m bench.run_all

bench-quick: $(BIN)/.installed-bench
	$(BIN)/python -m bench.run_all --quick

clean:
	rm -rf $(VENV) demo-output .pytest_cache
