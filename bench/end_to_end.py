"""End-to-end answer quality: retrieval over SQuAD + BBC, then the answerer, against SQuAD references.

    python bench/end_to_end.py [--n 200] [--calibrate] [--rerank W] [--weights DIR]

Corpus: the retrieval benchmark's index (40 SQuAD v1.1 articles + 2,225 BBC articles). For each
question the answerer reads the top-k passages (answerable case) and, for calibration, the top-k
passages with the question's own article taken out (unanswerable case: the article is not in the
folder). ``--calibrate`` fits the no-answer gate (``qa/no_answer.py``) on the *training* articles and
picks its threshold to maximise the sum of: mean F1 on answerable questions (0 when refused) and the
share of unanswerable ones refused, or (default) as the lowest threshold that still refuses 85% of
the unanswerable ones (``--min-refusal``); it is written to ``qa/calibration.json``. Figures are always reported on the held-out
validation articles.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CACHE, DATA, machine, read_jsonl, squad_bbc_corpus, today, with_and_without_own_article  # noqa: E402
from qa import QA, Settings  # noqa: E402
from qa.answering import passages_to_read  # noqa: E402
from qa.reader.data import VALIDATION_ARTICLES, article_name  # noqa: E402
from qa.no_answer import FEATURES, NoAnswerGate, features, fit_gate  # noqa: E402
from qa.reader.metrics import score_one  # noqa: E402


def read_all(qa: QA, reader, qs: list[dict], k: int, batch: int = 16):
    """(answerable answers, unanswerable answers) with the reader forced to always answer."""
    pos, neg = [], []
    for i in range(0, len(qs), batch):
        part = qs[i:i + batch]
        pairs = with_and_without_own_article(qa, part, k)
        pos += reader.answer_many([q["question"] for q in part], [full for full, _ in pairs])
        neg += reader.answer_many([q["question"] for q in part], [removed for _, removed in pairs])
    return pos, neg


def objective(probs_pos, probs_neg, pos, refs, t):
    """(mean F1 on answerable questions, 0 when refused; share of unanswerable ones refused) at threshold t."""
    f_pos = [score_one(a.text, r)[1] if p >= t else 0.0 for p, a, r in zip(probs_pos, pos, refs)]
    f_neg = [1.0 if p < t else 0.0 for p in probs_neg]
    return float(np.mean(f_pos)), float(np.mean(f_neg))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=200, help="questions per split")
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("--rerank", type=float, default=None,
                    help="the reader's re-ranking weight (default: the shipped one; 0 = read only the top k in "
                         "retrieval order); when on, the reader reads its read_depth passages")
    ap.add_argument("--weights", default=None, help="reader weights folder (default: the shipped ones)")
    ap.add_argument("--calibrate", action="store_true")
    ap.add_argument("--min-refusal", type=float, default=0.85,
                    help="with --calibrate: the lowest threshold that refuses at least this share of the "
                         "unanswerable training questions (0 = maximise F1 + refusals instead)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    from qa.reader.model import SpanReader

    qa = QA(settings=Settings(articles_dir=squad_bbc_corpus(), index_dir=CACHE / "index-squad-bbc-1000-200"))
    qa.refresh()
    reader = SpanReader(args.weights, null_threshold=-1e9, rerank_weight=args.rerank)
    depth = passages_to_read(reader, args.k)
    questions = read_jsonl(DATA / "squad" / "squad11" / "qa.jsonl")
    rng = random.Random(0)
    tune = rng.sample([q for q in questions if article_name(q["doc_id"]) not in VALIDATION_ARTICLES], args.n)
    test = rng.sample([q for q in questions if article_name(q["doc_id"]) in VALIDATION_ARTICLES], args.n)
    result = {"date": today(), "machine": machine(), "n": args.n, "k": args.k,
              "rerank_weight": reader.rerank_weight, "passages_read": depth}

    if args.calibrate:
        t0 = time.perf_counter()
        pos, neg = read_all(qa, reader, tune, depth)
        refs = [q["answers"] for q in tune]
        weights, bias = fit_gate([features(a) for a in pos + neg], [1] * len(pos) + [0] * len(neg))
        gate = NoAnswerGate(weights, bias, 0.5)
        probs_pos = [gate.probability(a) for a in pos]
        probs_neg = [gate.probability(a) for a in neg]
        grid = sorted(set(probs_pos + probs_neg))
        if args.min_refusal:
            best = next(t for t in grid if np.mean([p < t for p in probs_neg]) >= args.min_refusal)
        else:
            best = max(grid, key=lambda t: sum(objective(probs_pos, probs_neg, pos, refs, t)))
        gate.threshold = float(best)
        fp, fn = objective(probs_pos, probs_neg, pos, refs, best)
        result["calibration"] = {"weights": weights, "bias": bias, "threshold": best, "tune_answerable_f1": fp,
                                 "tune_refused_unanswerable": fn, "seconds": time.perf_counter() - t0}
        gate.save({"features": list(FEATURES),
                   "method": f"bench/end_to_end.py --calibrate --min-refusal {args.min_refusal}: SQuAD v1.1 + BBC, "
                             "training articles; unanswerable = own article removed", "n": len(pos), "date": today()})
        print("calibrated:", result["calibration"], flush=True)

    gate = NoAnswerGate.load()
    t0 = time.perf_counter()
    pos, neg = read_all(qa, reader, test, depth)
    refs = [q["answers"] for q in test]
    em_all = [score_one(a.text, r)[0] for a, r in zip(pos, refs)]
    f1_all = [score_one(a.text, r)[1] for a, r in zip(pos, refs)]
    probs_pos = [gate.probability(a) for a in pos]
    probs_neg = [gate.probability(a) for a in neg]
    fp, fn = objective(probs_pos, probs_neg, pos, refs, gate.threshold)
    result["test"] = {
        "f1_always_answer": float(np.mean(f1_all)), "em_always_answer": float(np.mean(em_all)),
        "f1_with_no_answer": fp, "answered_when_answerable": float(np.mean([p >= gate.threshold for p in probs_pos])),
        "refused_when_unanswerable": fn, "overall_f1_50_50_mix": (fp + fn) / 2,
        "seconds_per_question": (time.perf_counter() - t0) / (2 * len(test)),
    }
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
