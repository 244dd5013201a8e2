# Article QA: `make chat` serves the chat over seeds/, `make ask Q="..."` answers one question,
# `make test` runs the tests.
# Each target installs what it needs into .venv on first use.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install ask chat index test test-fast reader clean

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

# Retrain the span reader as shipped (see qa/reader/MODEL_CARD.md): stage 1 on SQuAD's training
# articles, stage 2 continues it on SQuAD + synthetic Reuters questions; the result (calibrated, fp16)
# replaces qa/reader/weights/. About 2 hours on 2 CPU cores.
READER_WORK ?= /tmp/qa-reader-train
reader: $(STAMP)
	$(PY) -m qa.reader.train --out $(READER_WORK)/stage1 --export-dir $(READER_WORK)/stage1/export --no-epoch-eval
	$(PY) -m qa.reader.train --base $(READER_WORK)/stage1/export --augment reuters --epochs 1 --lr 5e-5 \
		--warmup 0.05 --out $(READER_WORK)/stage2 --no-epoch-eval

clean:
	rm -rf $(VENV) vectors bench/.cache .pytest_cache
