"""The one logistic fit behind every calibrated confidence, and the writer of ``qa/calibration.json``.

    from training.calibration import fit_logistic, fit_gate, write_calibration_entry
    weights, bias = fit_logistic(x, y, iters=3000, lr=0.1)   # p(y=1 | x) = sigmoid(x . weights + bias)

Used by the reader's confidence (:func:`training.evaluate.fit_confidence`: one feature, the span margin,
written to ``reader_config.json``) and by the no-answer gate (:func:`fit_gate`, :mod:`training.calibrate_gate`,
written to ``qa/calibration.json`` beside the sentence answerer's threshold, :mod:`training.calibrate_sentence`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import CALIBRATION_FILE
from qa.fileio import atomic_write
from qa.stats import sigmoid

#: L2 penalty on the standardised weights, so that separable data cannot blow the fit up.
L2 = 1e-3


def fit_logistic(xs: Any, ys: Sequence[float] | np.ndarray, iters: int, lr: float,
                 l2: float = L2) -> tuple[np.ndarray, float]:
    """Logistic regression ``p = sigmoid(x . weights + bias)`` by full-batch gradient descent on
    standardised features (a constant feature is left unscaled), with an L2 penalty on the weights.
    ``xs``: one row of features per example (or one value per example for a single feature).
    Returns ``(weights, bias)`` in the units of ``xs``."""
    x = np.asarray(xs, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    y = np.asarray(ys, dtype=np.float64)
    mu = x.mean(0)
    sd = x.std(0)
    sd = np.where(sd > 0, sd, 1.0)
    z = (x - mu) / sd
    w = np.zeros(z.shape[1])
    b = 0.0
    for _ in range(iters):
        p = np.fromiter(map(sigmoid, z @ w + b), dtype=np.float64, count=len(y))
        g = p - y
        w = w - lr * (z.T @ g / len(y) + l2 * w)
        b = b - lr * float(g.mean())
    return w / sd, float(b - (w * mu / sd).sum())


def fit_gate(xs: list[list[float]], ys: list[int], iters: int = 3000, lr: float = 0.1) -> tuple[list[float], float]:
    """The no-answer gate's weights and bias (:class:`qa.answerers.gate.NoAnswerGate`) for rows of
    :func:`qa.answerers.gate.features` and labels "the answer shown is right"."""
    w, b = fit_logistic(xs, ys, iters=iters, lr=lr)
    return [float(v) for v in w], b


def write_calibration_entry(key: str, entry: dict[str, Any], path: Path = CALIBRATION_FILE) -> None:
    """Set ``key`` of the calibration file to ``entry``, keeping its other entries (written atomically:
    the shipped file is whole at every moment)."""
    data = json.loads(path.read_text()) if path.exists() else {}
    data[key] = entry
    atomic_write(path, (json.dumps(data, indent=1) + "\n").encode())
