# Article QA: `make chat` serves the chat over seeds/, `make ask Q="..."` answers one question,
# `make test` runs the tests.
# Each target installs what it needs into .venv on first use.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install ask chat index test test-fast clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,ray]'
	touch $(STAMP)

install: $(STAMP)

ask: $(STAMP)
	@test -n "$(Q)" || { echo 'usage: make ask Q="your question"' >&2; exit 2; }
	$(VENV)/bin/qa ask "$(Q)"

chat: $(STAMP)
	$(VENV)/bin/qa chat $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

index: $(STAMP)
	$(VENV)/bin/qa index

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

clean:
	rm -rf $(VENV) vectors bench/.cache .pytest_cache
