"""Calibrate the sentence answerer's no-answer threshold on data, and write it to qa/calibration.json.

    python -m training.calibrate_sentence [--n 400]

Corpus: SQuAD v1.1 articles + the 2,225 BBC articles (the retrieval benchmark's index). Answerable
questions: SQuAD questions asked with every article indexed. Unanswerable: the same questions with
their own article's passages removed from the results, i.e. as if that article were not in the
folder (the case a user meets: the articles do not hold the answer). The threshold maximises balanced
accuracy on the training articles; accuracy is then reported on the held-out validation articles.
"""

from __future__ import annotations

import argparse
import json
import random
import time

import numpy as np

from qa.answerers.sentence import SentenceAnswerer, best_score
from qa.config import Settings
from qa.engine import QA
from training.calibration import write_calibration_entry
from training.datasets import (
    CACHE,
    VALIDATION_ARTICLES,
    article_name,
    read_jsonl,
    squad_bbc_corpus,
    squad_dir,
    with_and_without_own_article,
)


def scores(qa: QA, answerer: SentenceAnswerer, qs: list[dict], k: int) -> tuple[list[float], list[float]]:
    pairs = with_and_without_own_article(qa, qs, k)
    pos = [best_score(answerer, q["question"], full) for q, (full, _) in zip(qs, pairs)]
    neg = [best_score(answerer, q["question"], removed) for q, (_, removed) in zip(qs, pairs)]
    return pos, neg


def balanced_accuracy(pos, neg, t) -> float:
    return 0.5 * (np.mean(np.asarray(pos) >= t) + np.mean(np.asarray(neg) < t))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=400, help="questions per split")
    ap.add_argument("-k", type=int, default=5)
    args = ap.parse_args()
    settings = Settings(articles_dir=squad_bbc_corpus(), index_dir=CACHE / "index-squad-bbc-1000-200")
    qa = QA(settings=settings)
    qa.refresh(progress=True)
    answerer = SentenceAnswerer(qa.embedder, threshold=0.0)
    questions = read_jsonl(squad_dir() / "squad11" / "qa.jsonl")
    rng = random.Random(0)
    tune = [q for q in questions if article_name(q["doc_id"]) not in VALIDATION_ARTICLES]
    test = [q for q in questions if article_name(q["doc_id"]) in VALIDATION_ARTICLES]
    tune, test = rng.sample(tune, args.n), rng.sample(test, args.n)
    pos, neg = scores(qa, answerer, tune, args.k)
    grid = np.unique(np.concatenate([pos, neg]))
    best = max(grid, key=lambda t: balanced_accuracy(pos, neg, t))
    tpos, tneg = scores(qa, answerer, test, args.k)
    result = {
        "threshold": round(float(best), 4),
        "n_answerable": len(pos),
        "n_unanswerable": len(neg),
        "tune_balanced_accuracy": round(float(balanced_accuracy(pos, neg, best)), 4),
        "test_answered_when_answerable": round(float(np.mean(np.asarray(tpos) >= best)), 4),
        "test_refused_when_unanswerable": round(float(np.mean(np.asarray(tneg) < best)), 4),
        "test_balanced_accuracy": round(float(balanced_accuracy(tpos, tneg, best)), 4),
        "method": "python -m training.calibrate_sentence: SQuAD v1.1 + BBC; unanswerable = own article removed",
        "date": time.strftime("%Y-%m-%d"),
    }
    write_calibration_entry("sentence", result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
