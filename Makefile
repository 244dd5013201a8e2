# Article QA: `make chat` serves the chat over seeds/, `make ask Q="..."` answers one question,
# `make test` runs the tests, `make lint` runs ruff and mypy.
# Each target installs what it needs into .venv on first use.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install prepare ask chat index test test-fast lint reader calibrate clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,ray]'
	# export the embedder and the reader to ONNX now (torch's only job outside training), so that no
	# question waits for it; idempotent
	$(VENV)/bin/qa prepare
	touch $(STAMP)

install: $(STAMP)

prepare: $(STAMP)
	$(VENV)/bin/qa prepare

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

# ruff and mypy, configured in pyproject.toml
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Retrain the span reader as shipped (see qa/reader/MODEL_CARD.md; the code is in training/, which is not
# installed): stage 1 on SQuAD's training articles; stage 2 continues it for one epoch on SQuAD + synthetic
# Reuters questions, half of those also asked with the answer deleted and a fifth of the answerable SQuAD
# questions asked again without the answer's sentence; then calibrated, fp16, written to qa/reader/weights/.
# About 2.5 hours on 2 CPU cores (bf16 autocast only where the CPU has bf16 arithmetic).
READER_WORK ?= /tmp/qa-reader-train
reader: $(STAMP)
	$(PY) -m training.train --out $(READER_WORK)/stage1 --export-dir $(READER_WORK)/stage1/export --threads 2 --no-epoch-eval
	$(PY) -m training.train --base $(READER_WORK)/stage1/export --augment reuters --augment-deleted 0.5 \
		--squad-deleted 0.2 --epochs 1 --lr 5e-5 --warmup 0.05 --threads 2 --no-epoch-eval \
		--out $(READER_WORK)/stage2 --export-dir qa/reader/weights
	$(PY) -m training.evaluate --calibrate --news
	$(VENV)/bin/qa prepare

# Refit the no-answer calibrations of qa/calibration.json (after retraining the reader): the reader's
# gate and the sentence answerer's threshold, on the SQuAD training articles + BBC (see training/).
calibrate: $(STAMP)
	$(PY) -m training.calibrate_gate
	$(PY) -m training.calibrate_sentence

clean:
	rm -rf $(VENV) vectors bench/.cache .pytest_cache
