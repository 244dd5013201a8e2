"""Deciding when the articles do not hold the answer: a calibrated gate in front of a reader.

    from qa.no_answer import GatedAnswerer, NoAnswerGate
    answerer = GatedAnswerer(SpanReader(null_threshold=-1e9), NoAnswerGate.load())

A reader alone judges a span against its passage; it cannot tell that the passage is about something
else than the question. The gate is a logistic regression over the reader's confidence, the cosine
similarity between the question and the passage the span comes from, how many of the question's
words the answer's sentence holds (all independent of the corpus's size, unlike BM25 scores, whose
scale follows the corpus's statistics) and whether the answer is an evidence sentence
(:mod:`qa.answer_types`). It is fitted (``python -m training.calibrate_gate``, stored in
``qa/calibration.json``) on questions of the SQuAD training articles, each asked with its article
indexed and with that article taken out, to predict whether the answer shown is *right* (a span:
token F1 >= 0.5 against a reference; an evidence sentence: it holds a reference; nothing is right
when the article is out), so its probability is a confidence that means what it says; below the
calibrated threshold the answer is "not in the articles". A gate stored with fewer weights than
:data:`FEATURES` uses the first ones.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from qa.answer_types import EVIDENCE
from qa.answering import Answerer, no_answer, passages_to_read
from qa.config import CALIBRATION_FILE
from qa.stats import sigmoid
from qa.types import Answer, Passage

KEY = "reader_gate"


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


FEATURES = ("reader confidence logit", "question-passage cosine", "question terms in the answer's sentence",
            "evidence sentence")


def features(answer: Answer) -> list[float]:
    """:data:`FEATURES` of an answer: the reader's confidence (as a logit), the question-passage cosine
    of the passage the answer comes from, the share of the question's content terms (stemmed, no
    stop words) that the sentence around the answer holds, and whether the answer is an evidence
    sentence rather than a span (for which "right" means "holds the answer")."""
    if not answer.citations:
        return [_logit(answer.score), 0.0, 0.0, 0.0]
    c = answer.citations[0]
    p = next((p for p in answer.passages if p.article_id == c.article_id and p.start == c.passage_start), None)
    dense = p.dense_score if p is not None and p.dense_score is not None else 0.0
    return [_logit(answer.score), dense, question_overlap(answer.question, answer.context or c.passage),
            float(answer.kind == EVIDENCE)]


def question_overlap(question: str, sentence: str) -> float:
    """Share of the question's content terms found in ``sentence`` (0 when the question has none)."""
    from qa.lexical import content_terms

    q = content_terms(question)
    return len(q & content_terms(sentence)) / len(q) if q else 0.0


@dataclass
class NoAnswerGate:
    """``p = sigmoid(w . features + bias)``; answers with ``p < threshold`` are refused."""

    weights: list[float]
    bias: float
    threshold: float

    def probability(self, answer: Answer) -> float:
        z = sum(w * x for w, x in zip(self.weights, features(answer))) + self.bias
        return sigmoid(z)

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> NoAnswerGate | None:
        try:
            d = json.loads(path.read_text())[KEY]
            return cls(weights=[float(w) for w in d["weights"]], bias=float(d["bias"]), threshold=float(d["threshold"]))
        except (OSError, KeyError, ValueError, TypeError):
            return None


class GatedAnswerer:
    """Wraps an answerer that always proposes a span; refuses when the gate says the span is unsupported."""

    def __init__(self, inner: Answerer, gate: NoAnswerGate) -> None:
        self.inner = inner
        self.gate = gate
        self.name = f"{inner.name}+gate"

    @property
    def read_depth(self) -> int:
        """Passages the wrapped answerer wants to read (0: just the k it is given)."""
        return passages_to_read(self.inner, 0)

    def _apply(self, answer: Answer) -> Answer:
        if answer.text is None:
            return answer
        p = self.gate.probability(answer)
        if p < self.gate.threshold:
            return no_answer(answer.question, answer.passages, round(p, 6))
        answer.score = round(p, 6)
        answer.citations = [replace(c, score=answer.score) for c in answer.citations]
        return answer

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        return self._apply(self.inner.answer(question, passages))

    def answer_many(self, questions: Sequence[str], passages_per_question: Sequence[Sequence[Passage]]) -> list[Answer]:
        many = getattr(self.inner, "answer_many", None)
        if many is None:
            return [self.answer(q, ps) for q, ps in zip(questions, passages_per_question)]
        return [self._apply(a) for a in many(questions, passages_per_question)]
