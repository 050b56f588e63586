# Two commands on a fresh machine with Python 3.11, 3.12 or 3.13:  make demo  |  make test
# Other Python:   make test PYTHON=python3.13        (a .venv made with another Python is rebuilt)
# Keep both:      make test PYTHON=python3.13 VENV=.venv-py3.13
# Test subset:    make test PYTEST_ARGS='-m "not slow"'
# Pinned versions come from requirements/lock.txt (one lock for 3.11-3.13); `make lock` rewrites it.
SUPPORTED   := 3.11 3.12 3.13
,           := ,
VENV        ?= .venv
BIN         := $(VENV)/bin
LOCK        := requirements/lock.txt
PYTEST_ARGS ?=
UV_VERSION  ?= 0.13.9

# The interpreter: PYTHON if given, else the first of python3.11, python3.12, python3.13 that runs
# and can make a venv, looked up on PATH, then in pyenv's installs (a pyenv shim for a version
# that is not active fails to run and is skipped). Evaluated once, and only when needed.
PYTHON ?=
define find_python
for name in $(or $(PYTHON),$(SUPPORTED:%=python%)); do \
  for c in $$name $$HOME/.pyenv/versions/*/bin/$$name; do \
    $$c -c 'import sys, venv, ensurepip; print(sys.executable)' 2>/dev/null && exit 0; \
  done; \
done
endef
PY    = $(eval PY := $(shell $(find_python)))$(PY)
PYVER = $(eval PYVER := $(if $(PY),$(shell $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')))$(PYVER)
STAMP   = $(VENV)/.installed-py$(or $(PYVER),-unknown)

.PHONY: demo test install python lock bench bench-quick clean

# Stops with one line when no supported Python is found (expanded only by recipes that need one).
check_python = $(if $(PY),,$(error $(if $(PYTHON),PYTHON=$(PYTHON) does not run (nor under ~/.pyenv/versions): pass a working interpreter or install it,causalmmm needs Python 3.11$(,) 3.12 or 3.13 and found none on PATH or in ~/.pyenv/versions: install one (e.g. apt-get install python3.11 python3.11-venv) or pass PYTHON=/path/to/python3.11)))$\
  $(if $(filter $(PYVER),$(SUPPORTED)),,$(error PYTHON=$(PY) is Python $(PYVER): causalmmm needs Python 3.11$(,) 3.12 or 3.13, e.g. make test PYTHON=python3.11))

install: $(STAMP)

# Prints the interpreter the venv is made with (or the one-line error).
python:
	$(check_python)
	@echo "$(PY) (Python $(PYVER))"

# The venv is rebuilt when it was made with another Python; pins come from the lock, then the
# package itself goes in without resolving anything.
$(VENV)/.installed-py%: pyproject.toml $(LOCK)
	$(check_python)
	@if [ -x $(BIN)/python ] && [ "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$(PYVER)" ]; then \
	  echo "$(VENV) was made with another Python: rebuilding it with Python $(PYVER)"; rm -rf $(VENV); fi
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-py*
	@touch $@

$(VENV)/.installed-bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[dev,bench]'
	@touch $@

demo: install
	$(BIN)/causalmmm demo -o demo-output

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# The slow tests (seeded NUTS / Laplace) once per test-seed offset, in the venv `test` uses; fails if any run fails.
# Other offsets: make test-seeds SEED_OFFSETS='3 4'
SEED_OFFSETS ?= 0 1 2
.PHONY: test-seeds
test-seeds: install
	@failed=""; for s in $(SEED_OFFSETS); do \
	  echo "== pytest -m slow with CAUSALMMM_TEST_SEED=$$s"; \
	  CAUSALMMM_TEST_SEED=$$s $(BIN)/python -m pytest -p no:cacheprovider -m slow $(PYTEST_ARGS) || failed="$$failed $$s"; \
	done; \
	if [ -n "$$failed" ]; then echo "test-seeds: the slow tests failed under CAUSALMMM_TEST_SEED in:$$failed"; exit 1; fi; \
	echo "test-seeds: the slow tests passed under CAUSALMMM_TEST_SEED in: $(SEED_OFFSETS)"

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench.run_all

bench-quick: $(VENV)/.installed-bench
	$(BIN)/python -m bench.run_all --quick

# Re-resolve every pin for 3.11-3.13 after changing dependencies in pyproject.toml (--upgrade:
# resolve from scratch; uv otherwise starts from the old pins and can settle elsewhere).
lock:
	$(check_python)
	$(PY) -m venv .venv-uv
	.venv-uv/bin/python -m pip install --quiet 'uv==$(UV_VERSION)'
	.venv-uv/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --upgrade -o $(LOCK)

clean:
	rm -rf $(VENV) .venv-uv demo-output .pytest_cache
