"""SQuAD metrics (official v1.1/v2.0 normalisation): exact match and token F1, max over references.

``normalize_answer``: lowercase, drop punctuation, drop the articles a/an/the, collapse whitespace.
An empty reference list means "no answer": a prediction scores 1 only when it is also empty/None.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

_PUNCT = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(s: str | None) -> str:
    if not s:
        return ""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCT)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def _tokens(s: str | None) -> list[str]:
    return normalize_answer(s).split()


def exact_match(prediction: str | None, reference: str | None) -> float:
    return float(normalize_answer(prediction) == normalize_answer(reference))


def f1(prediction: str | None, reference: str | None) -> float:
    p, r = _tokens(prediction), _tokens(reference)
    if not p or not r:  # no-answer on either side: 1 only when both are empty
        return float(p == r)
    common = Counter(p) & Counter(r)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(r)
    return 2 * precision * recall / (precision + recall)


def max_over_references(metric, prediction: str | None, references: Sequence[str]) -> float:
    refs = [r for r in references if normalize_answer(r)] or [""]
    return max(metric(prediction, r) for r in refs)


def score_one(prediction: str | None, references: Sequence[str]) -> tuple[float, float]:
    """(EM, F1) of one prediction against its references (empty references = unanswerable)."""
    return max_over_references(exact_match, prediction, references), max_over_references(f1, prediction, references)


def squad_scores(predictions: Iterable[str | None], references: Iterable[Sequence[str]]) -> dict[str, float]:
    """Aggregate SQuAD metrics in percent.

    Returns ``exact``/``f1`` overall, ``has_ans_exact``/``has_ans_f1`` over answerable questions,
    ``no_ans_acc`` (share of unanswerable questions predicted as no-answer) and counts.
    """
    em_all, f1_all, em_has, f1_has, na = [], [], [], [], []
    for pred, refs in zip(predictions, references):
        em, f = score_one(pred, refs)
        em_all.append(em)
        f1_all.append(f)
        if any(normalize_answer(r) for r in refs):
            em_has.append(em)
            f1_has.append(f)
        else:
            na.append(em)

    def pct(xs: list[float]) -> float:
        return 100.0 * sum(xs) / len(xs) if xs else float("nan")

    return {
        "exact": pct(em_all),
        "f1": pct(f1_all),
        "has_ans_exact": pct(em_has),
        "has_ans_f1": pct(f1_has),
        "no_ans_acc": pct(na),
        "total": len(em_all),
        "has_ans_total": len(em_has),
        "no_ans_total": len(na),
    }


def best_threshold(
    margins: Sequence[float], span_f1: Sequence[float], answerable: Sequence[bool]
) -> tuple[float, float]:
    """The null threshold maximising overall F1 (in percent), as in the official SQuAD 2.0 script.

    ``margins``: best span score minus null score per question; ``span_f1``: F1 (0..1) of the best span;
    ``answerable``: whether the question has references. Predict the span when ``margin >= threshold``.
    Returns (threshold, overall F1 at it).
    """
    n = len(margins)
    if n == 0:
        return 0.0, float("nan")
    # start with everything abstained: score = number of unanswerable questions
    cur = sum(1.0 for a in answerable if not a)
    best, best_t = cur, max(margins) + 1e-6
    order = sorted(range(n), key=lambda k: -margins[k])
    for k in order:
        cur += span_f1[k] if answerable[k] else -1.0
        if cur > best:
            best, best_t = cur, margins[k]
    return float(best_t), 100.0 * best / n
