"""The one logistic fit (training.calibration): both calibrations' shapes, and the calibration file writer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qa.stats import sigmoid
from training.calibration import fit_gate, fit_logistic, write_calibration_entry
from training.evaluate import fit_confidence


def test_fit_logistic_recovers_a_known_model_in_the_units_of_the_features():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 2)) * [3.0, 0.5] + [10.0, -2.0]
    p = np.array([sigmoid(v) for v in x @ [0.8, -2.0] - 12.0])
    y = (rng.random(len(p)) < p).astype(float)
    w, b = fit_logistic(x, y, iters=1500, lr=1.0, l2=0.0)
    assert w == pytest.approx([0.8, -2.0], rel=0.15) and b == pytest.approx(-12.0, rel=0.15)


def test_a_constant_feature_gets_no_weight_and_separable_data_stays_finite():
    x = np.c_[np.r_[np.zeros(20), np.ones(20)], np.full(40, 3.0)]
    w, b = fit_logistic(x, [0] * 20 + [1] * 20, iters=2000, lr=1.0)
    assert np.isfinite(w).all() and np.isfinite(b) and w[0] > 0 and w[1] == 0.0


def test_both_calibrations_use_it():
    margins = list(np.linspace(-5, 5, 40))
    a, b = fit_confidence(margins + [float("-inf")], [m > 0 for m in margins] + [False])
    assert a > 0 and sigmoid(a * 4 + b) > 0.9 > 0.1 > sigmoid(a * -4 + b)
    assert fit_confidence([1.0] * 5, [True] * 5) == (0.5, 0.0)  # too few to fit
    w, bias = fit_gate([[m, 0.0] for m in margins], [int(m > 0) for m in margins])
    assert isinstance(w, list) and w[0] > 0 and isinstance(bias, float)


def test_write_calibration_entry_keeps_the_other_entries(tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"sentence": {"threshold": 0.3}}))
    write_calibration_entry("reader_gate", {"weights": [1.0], "bias": 0.0, "threshold": 0.5}, path)
    assert json.loads(path.read_text()) == {"sentence": {"threshold": 0.3},
                                            "reader_gate": {"weights": [1.0], "bias": 0.0, "threshold": 0.5}}
    assert [p.name for p in tmp_path.iterdir()] == ["calibration.json"]  # no temporary left behind


def test_the_gate_read_cache_key_follows_the_weights_not_their_folder(tmp_path):
    # bench/.cache is copied between clones and worktrees: a key holding the checkout's absolute path
    # missed every cached read there (and a full end-to-end re-read takes most of an hour on 2 cores);
    # a key holding the folder's name served the old reads to new weights written over the shipped ones
    import shutil
    from dataclasses import dataclass

    from qa.config import WEIGHTS_DIR
    from qa.types import Passage
    from training.calibrate_gate import ReadCache

    @dataclass
    class Reader:
        weights_dir: object
        backend: str = "onnx-int8"
        n_best: int = 5
        max_seq_len: int = 192

    copy = tmp_path / "clone" / "weights"
    shutil.copytree(WEIGHTS_DIR, copy)
    p = Passage(chunk_id=0, article_id="a", title="t", source="s", start=0, end=4, text="text", score=0.5, rank=0)
    key = ReadCache.key("Who?", [p], Reader(WEIGHTS_DIR))
    assert key == ReadCache.key("Who?", [p], Reader(copy))
    assert key != ReadCache.key("Who?", [p], Reader(WEIGHTS_DIR, n_best=20))
    assert key != ReadCache.key("Why?", [p], Reader(WEIGHTS_DIR))
    blob = bytearray((copy / "model.safetensors").read_bytes())
    blob[-1] ^= 1  # other weights in the same place
    (copy / "model.safetensors").write_bytes(bytes(blob))
    assert key != ReadCache.key("Who?", [p], Reader(copy))
