"""Evaluate the span reader on the validation articles (gold paragraphs) and calibrate it.

    python -m training.evaluate                      # shipped weights, prints the metrics
    python -m training.evaluate --weights DIR --json out.json
    python -m training.evaluate --calibrate          # also rewrite reader_config.json (threshold, confidence)

Metrics (SquAD normalisation, max over references, percent):
* SQuAD v1.1 validation questions, gold paragraph, always answering: ``v11_exact``/``v11_f1``.
* SQuAD v2.0 validation questions with the calibrated null threshold (``null_threshold`` in
  ``reader_config.json``): ``v20_f1`` overall, ``v20_has_ans_f1``, ``v20_no_ans_acc``; and at the
  threshold that is best on these same questions (``v20_best_*``, the official "best_f1").
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from qa.fileio import atomic_write
from qa.metrics import best_threshold, score_one, squad_scores
from qa.reader import SpanReader
from qa.reader.shipped import READER_CONFIG
from training.augment import news_examples
from training.calibration import fit_logistic
from training.datasets import load_examples, news_path


def _predict_examples(reader, examples, cache: dict | None = None) -> list[tuple[str | None, float]]:
    """(best span text regardless of the null score, margin) per example."""
    cache = {} if cache is None else cache
    todo = [ex for ex in examples if (ex.question, ex.context) not in cache]
    if todo:
        res = reader.predict_pairs([ex.question for ex in todo], [ex.context for ex in todo])
        for ex, (_null, cands) in zip(todo, res):
            if cands:
                c = cands[0]
                cache[(ex.question, ex.context)] = (ex.context[c.start_char : c.end_char], c.margin)
            else:
                cache[(ex.question, ex.context)] = (None, -math.inf)
    return [cache[(ex.question, ex.context)] for ex in examples]


def fit_confidence(margins, correct, iters: int = 2000) -> tuple[float, float]:
    """``(a, b)`` of p(correct) = sigmoid(a * margin + b) (:func:`training.calibration.fit_logistic`),
    over the finite margins; ``(0.5, 0.0)`` when there are too few or all of one class."""
    x = np.asarray(list(margins), dtype=np.float64)
    y = np.asarray(list(correct), dtype=np.float64)
    ok = np.isfinite(x)
    x, y = x[ok], y[ok]
    if len(x) < 10 or y.min() == y.max():
        return 0.5, 0.0
    w, b = fit_logistic(x, y, iters=iters, lr=1.0)
    a = float(w[0])
    if not (math.isfinite(a) and math.isfinite(b)):
        return 0.5, 0.0
    return a, b


def threshold_for_no_ans_acc(margins, answerable, target: float) -> float:
    """The smallest null threshold at which at least ``target`` percent of the unanswerable questions
    are abstained on (a question is answered when ``margin >= threshold``)."""
    neg = sorted(m for m, a in zip(margins, answerable) if not a)
    if not neg:
        return 0.0
    k = math.ceil(len(neg) * target / 100.0)  # abstain on the k lowest margins
    if k <= 0:
        return neg[0]
    if k >= len(neg):
        return neg[-1] + 1e-6
    return (neg[k - 1] + neg[k]) / 2 if neg[k] > neg[k - 1] else neg[k] + 1e-6


def evaluate(
    reader,
    squad_path: str | None = None,
    limit: int | None = None,
    threshold: float | None = None,
    versions: tuple[str, ...] = ("squad11", "squad20"),
    min_no_ans_acc: float = 70.0,
) -> dict[str, Any]:
    """Metrics of ``reader`` on the validation articles (see module docstring); ``limit`` caps questions
    per version (for smoke runs). Also returns ``calibration`` (threshold and confidence fit)."""
    out: dict[str, Any] = {}
    cache: dict = {}
    t0 = time.perf_counter()
    if "squad11" in versions:
        ex11 = load_examples("squad11", "validation", squad_path)[:limit]
        preds = _predict_examples(reader, ex11, cache)
        s = squad_scores([p for p, _ in preds], [ex.answer_texts for ex in ex11])
        out.update({"v11_exact": s["exact"], "v11_f1": s["f1"], "v11_total": s["total"]})
    if "squad20" in versions:
        ex20 = load_examples("squad20", "validation", squad_path)[:limit]
        preds = _predict_examples(reader, ex20, cache)
        margins = [m for _, m in preds]
        answerable = [not ex.is_impossible for ex in ex20]
        span_f1 = [score_one(p, ex.answer_texts)[1] if a else 0.0 for (p, _), ex, a in zip(preds, ex20, answerable)]
        best_t, best_f1 = best_threshold(margins, span_f1, answerable)
        t = reader.null_threshold if threshold is None else threshold

        def at(th: float) -> dict[str, float]:
            return squad_scores([p if m >= th else None for p, m in preds], [ex.answer_texts for ex in ex20])

        s = at(t)
        sb = at(best_t)
        out.update(
            {
                "v20_threshold": t,
                "v20_exact": s["exact"],
                "v20_f1": s["f1"],
                "v20_has_ans_f1": s["has_ans_f1"],
                "v20_no_ans_acc": s["no_ans_acc"],
                "v20_total": s["total"],
                "v20_has_ans_total": s["has_ans_total"],
                "v20_no_ans_total": s["no_ans_total"],
                "v20_best_threshold": best_t,
                "v20_best_f1": sb["f1"],
                "v20_best_has_ans_f1": sb["has_ans_f1"],
                "v20_best_no_ans_acc": sb["no_ans_acc"],
            }
        )
        table = []
        for th in (-2.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0):
            st = at(th)
            table.append({"threshold": th, "f1": st["f1"], "has_ans_f1": st["has_ans_f1"],
                          "no_ans_acc": st["no_ans_acc"]})
        out["v20_threshold_table"] = table
        out["v20_predictions"] = [
            {"id": ex.id, "margin": m, "answerable": a, "span_f1": f}
            for ex, m, a, f in zip(ex20, margins, answerable, span_f1)
        ]
        correct = [a and f >= 0.5 for a, f in zip(answerable, span_f1)]
        a, b = fit_confidence(margins, correct)
        cal_t = best_t
        if min_no_ans_acc > 0:
            cal_t = threshold_for_no_ans_acc(margins, answerable, min_no_ans_acc)
        sc = at(cal_t)
        out.update({"v20_cal_threshold": cal_t, "v20_cal_f1": sc["f1"], "v20_cal_has_ans_f1": sc["has_ans_f1"],
                    "v20_cal_no_ans_acc": sc["no_ans_acc"]})
        out["calibration"] = {"null_threshold": cal_t, "confidence_scale": a, "confidence_bias": b}
    out["seconds"] = time.perf_counter() - t0
    return out


def evaluate_news(reader, path: str | os.PathLike, limit: int = 600) -> dict[str, Any]:
    """Held-out news check: synthetic questions (:mod:`training.augment`) over a news corpus the reader
    was not trained on (the BBC corpus). ``news_f1``/``news_exact`` always answering; refused at the
    reader's null threshold: ``news_no_ans_acc`` for questions over another article's passage,
    ``news_cut_acc`` for questions over their own passage with the answer deleted (every question
    that allows it)."""
    examples = news_examples(path, limit=limit, deleted_share=1.0)
    preds = _predict_examples(reader, examples)
    pos = [(p, ex) for p, ex in zip(preds, examples) if not ex.is_impossible]
    s = squad_scores([p for (p, _), _ in pos], [ex.answer_texts for _, ex in pos])
    out = {"news_f1": s["f1"], "news_exact": s["exact"], "news_total": len(pos)}
    for key, suffix in (("news_no_ans", ":neg"), ("news_cut", ":cut")):
        neg = [m for (_, m), ex in zip(preds, examples) if ex.is_impossible and ex.id.endswith(suffix)]
        out[f"{key}_acc"] = 100.0 * sum(m < reader.null_threshold for m in neg) / max(1, len(neg))
        out[f"{key}_total"] = len(neg)
    return out


def format_metrics(m: dict[str, Any]) -> str:
    lines = []
    if "v11_f1" in m:
        lines.append(f"SQuAD v1.1 validation (gold paragraph, n={m['v11_total']}): F1 {m['v11_f1']:.2f}  "
                     f"EM {m['v11_exact']:.2f}")
    if "v20_f1" in m:
        lines.append(
            f"SQuAD v2.0 validation (n={m['v20_total']}: {m['v20_has_ans_total']} answerable, "
            f"{m['v20_no_ans_total']} not) "
            f"at threshold {m['v20_threshold']:.3f}: F1 {m['v20_f1']:.2f}  EM {m['v20_exact']:.2f}  "
            f"has-answer F1 {m['v20_has_ans_f1']:.2f}  no-answer acc {m['v20_no_ans_acc']:.2f}"
        )
        lines.append(
            f"  (best threshold on these questions {m['v20_best_threshold']:.3f}: F1 {m['v20_best_f1']:.2f}  "
            f"has-answer F1 {m['v20_best_has_ans_f1']:.2f}  no-answer acc {m['v20_best_no_ans_acc']:.2f})"
        )
    for row in m.get("v20_threshold_table", []):
        lines.append(
            f"  threshold {row['threshold']:+.1f}: F1 {row['f1']:.2f}  has-answer F1 {row['has_ans_f1']:.2f}  "
            f"no-answer acc {row['no_ans_acc']:.2f}"
        )
    if "news_f1" in m:
        lines.append(
            f"News held out (synthetic questions over BBC articles, n={m['news_total']}): F1 {m['news_f1']:.2f}  "
            f"EM {m['news_exact']:.2f}; unanswerable refused: other article {m['news_no_ans_acc']:.2f}% "
            f"(n={m['news_no_ans_total']}), "
            f"answer deleted {m['news_cut_acc']:.2f}% (n={m['news_cut_total']})"
        )
    lines.append(f"({m.get('seconds', 0):.0f} s)")
    return "\n".join(lines)


def write_calibration(weights_dir: Path, calibration: dict[str, float], extra: dict[str, Any] | None = None) -> dict:
    """Merge ``calibration`` (and ``extra``) into the reader's ``reader_config.json`` (written atomically)."""
    path = Path(weights_dir) / READER_CONFIG
    cfg = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    cfg.update({k: round(float(v), 6) for k, v in calibration.items()})
    if extra:
        cfg.update(extra)
    atomic_write(path, json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    return cfg


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=None, help="weights folder (default: the shipped qa/reader/weights)")
    ap.add_argument("--squad-dir", default=None, help="SQuAD folder (default: $QA_SQUAD_DIR or ../shared/data/squad)")
    ap.add_argument("--limit", type=int, default=None, help="at most this many questions per version")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--calibrate", action="store_true",
                    help="write the fitted threshold/confidence to reader_config.json")
    ap.add_argument(
        "--min-no-ans-acc",
        type=float,
        default=70.0,
        help="--calibrate picks the smallest null threshold that abstains on this percentage of the "
        "unanswerable validation questions (0: the threshold with the best overall F1)",
    )
    ap.add_argument("--news", action="store_true", help="also score synthetic questions over the BBC corpus (held out "
                    "from training; see training.augment)")
    ap.add_argument("--json", default=None, help="also write the metrics to this JSON file")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    reader = SpanReader(args.weights, batch_size=args.batch_size)
    m = evaluate(reader, args.squad_dir, args.limit, min_no_ans_acc=args.min_no_ans_acc)
    if args.news:
        m.update(evaluate_news(reader, news_path("bbc")))
    print(f"weights: {reader.weights_dir}")
    print(format_metrics(m))
    if args.calibrate and "calibration" in m:
        cfg = write_calibration(reader.weights_dir, m["calibration"])
        print("calibration written:", json.dumps(cfg, sort_keys=True))
    if args.json:
        Path(args.json).write_text(json.dumps(m, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
