"""A tiny real training run of training.train: SQuAD + synthetic news questions, then continued from
its own checkpoint with --base (the two stages of `make reader`, a few steps each)."""

from __future__ import annotations

import json
import re

import pytest

from qa.reader.reader import DEFAULT_READ_DEPTH, DEFAULT_RERANK_WEIGHT, SpanReader
from training import datasets
from training.datasets import news_path
from training.train import main, native_bf16

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
    assert main(["--base", str(ckpt), "--out", str(stage2), "--squad-deleted", "0.5", *common]) == 0
    cut = re.search(r"SQuAD questions with the answer's sentence deleted: (\d+)", capsys.readouterr().out)
    assert cut and int(cut.group(1)) > 1000  # about half of the 7,613 answerable ones, less those left answerable
    reader = SpanReader(stage2 / "epoch1", backend="torch")
    (null, cands), = reader.predict_pairs(["Who slipped out of Venezuela?"],
                                          ["Juan Guaido slipped out of Venezuela last week."])
    assert cands and all(0 <= c.start_char < c.end_char <= 47 for c in cands)


def test_bf16_autocast_only_where_the_cpu_has_bf16_arithmetic(tmp_path):
    # emulated bf16 made a stage-2 run take many hours on an AVX2-only CPU instead of under one in fp32
    info = tmp_path / "cpuinfo"
    info.write_text("processor : 0\nflags : fpu sse avx avx2 fma f16c\n")
    assert not native_bf16(str(info))
    info.write_text("processor : 0\nflags : fpu avx2 avx512f avx512_bf16 amx_tile\n")
    assert native_bf16(str(info))
    assert not native_bf16(str(tmp_path / "missing"))
