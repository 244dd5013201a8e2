"""A tiny real training run of training.train: SQuAD + synthetic news questions, then continued from
its own checkpoint with --base (the two stages of `make reader`, a few steps each)."""

from __future__ import annotations

import json
import re

import pytest

from qa.reader.reader import DEFAULT_READ_DEPTH, DEFAULT_RERANK_WEIGHT, SpanReader
from training import datasets
from training.datasets import news_path
from training.train import main

HAVE_DATA = (datasets.squad_dir() / "squad11" / "docs.jsonl").exists() and news_path("reuters").exists()


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_DATA,
                    reason="SQuAD or news data not found (../shared/data; set QA_SQUAD_DIR / QA_DATA_DIR)")
def test_two_stage_training_smoke(tmp_path, capsys):
    stage1 = tmp_path / "stage1"
    common = ["--limit", "24", "--batch-size", "8", "--epochs", "1", "--export-dir", "", "--no-epoch-eval",
              "--log-every", "1"]
    augment = ["--augment", "reuters", "--augment-limit", "20", "--augment-deleted", "1"]
    assert main(["--out", str(stage1), *augment, *common]) == 0
    log = capsys.readouterr().out
    found = re.search(r"augmentation from reuters: (\d+) questions \((\d+) unanswerable\)", log)
    n, unanswerable = map(int, found.groups())
    assert n - unanswerable == 20 and unanswerable > 10  # every question that allows it, asked again without its answer
    done = json.loads((stage1 / "done.json").read_text())
    assert done["steps"] >= 3 and done["epochs"] == pytest.approx(1.0)  # >= 24 windows in batches of 8
    ckpt = stage1 / "epoch1"
    cfg = json.loads((ckpt / "reader_config.json").read_text())
    assert cfg["rerank_weight"] == DEFAULT_RERANK_WEIGHT and cfg["read_depth"] == DEFAULT_READ_DEPTH

    stage2 = tmp_path / "stage2"
    assert main(["--base", str(ckpt), "--out", str(stage2), *common]) == 0
    reader = SpanReader(stage2 / "epoch1", backend="torch")
    (null, cands), = reader.predict_pairs(["Who slipped out of Venezuela?"],
                                          ["Juan Guaido slipped out of Venezuela last week."])
    assert cands and all(0 <= c.start_char < c.end_char <= 47 for c in cands)
