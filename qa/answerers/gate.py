"""Deciding when the articles do not hold the answer: a calibrated gate in front of a reader.

    from qa.answerers.gate import GatedAnswerer, NoAnswerGate
    answerer = GatedAnswerer(SpanReader(abstain=False), NoAnswerGate.load())

A reader alone judges a span against its passage; it cannot tell that the passage is about something
else than the question. The gate is a logistic regression over the reader's confidence, the cosine
similarity between the question and the passage the span comes from, how many of the question's
words the answer's sentence holds (all independent of the corpus's size, unlike BM25 scores, whose
scale follows the corpus's statistics), whether the answer is an evidence sentence
(:mod:`qa.answerers.answer_types`) and the reader's raw score of the span. The reader's confidence
comes from the span's score *against* its score for "no answer", and over a passage on the question's
topic that lacks the answer both can be low with a wide margin between them: the raw score tells
those apart (bench/RESULTS.md, "gate-ablation"). It is fitted (``python -m training.calibrate_gate``,
stored in ``qa/calibration.json``) on questions of the SQuAD training articles, each asked with its article
indexed and with that article taken out, to predict whether the answer shown is *right* (a span:
token F1 >= 0.5 against a reference; an evidence sentence: it holds a reference; nothing is right
when the article is out), so its probability is a confidence that means what it says; below the
calibrated threshold the answer is "not in the articles". A gate stored with fewer weights than
:data:`FEATURES` uses the first ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from qa.answerers.answer_types import defined_name, describes
from qa.answerers.calibration import calibration_section
from qa.answerers.protocol import Answerer, no_answer
from qa.config import CALIBRATION_FILE
from qa.lexical import content_terms, term_share
from qa.stats import sigmoid
from qa.types import DATE_FILE_TIME, EVIDENCE, Answer, Citation, Passage, newest_date

KEY = "reader_gate"
#: the highest confidence shown for a "Who is <name>?" sentence that does not say what the name is:
#: Low, so that it reads as "here is what the article says about it", not as an answer
UNDESCRIBED_CAP = 0.45
#: the highest confidence shown for an answer that a newer article contradicts (one of its
#: :attr:`~qa.types.Answer.alternatives` is dated later than every article it cites): Medium, since the
#: fact may have changed and the newer report, shown beside it, may be the one the person wants
CONTESTED_CAP = 0.75


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


FEATURES = ("reader confidence logit", "question-passage cosine", "question terms in the answer's sentence",
            "evidence sentence", "reader span score")


def features(answer: Answer) -> list[float]:
    """:data:`FEATURES` of an answer: the reader's confidence (as a logit), the question-passage cosine
    of the passage the answer comes from, the share of the question's content terms (stemmed, no
    stop words) that the sentence around the answer holds, whether the answer is an evidence
    sentence rather than a span (for which "right" means "holds the answer"), and the reader's raw score
    of the span (:attr:`~qa.types.Citation.span_score`). A signal the citation lacks counts as 0."""
    if not answer.citations:
        return [_logit(answer.score), 0.0, 0.0, 0.0, 0.0]
    c = answer.citations[0]
    dense = c.passage_dense_score if c.passage_dense_score is not None else 0.0
    span = c.span_score if c.span_score is not None else 0.0
    return [_logit(answer.score), dense, question_overlap(answer.question, answer.context or c.passage),
            float(answer.kind == EVIDENCE), span]


def question_overlap(question: str, sentence: str) -> float:
    """Share of the question's content terms found in ``sentence`` (0 when the question has none)."""
    return term_share(content_terms(question), sentence)


def newer_disagrees(answer: Answer) -> bool:
    """Whether another article published later than every article ``answer`` cites gives a different answer
    (publication dates only: a file's modification time says nothing of when its news was new)."""
    cited = newest_date(_published(answer.citations))
    return cited is not None and any((newest_date(_published(alt.citations)) or "") > cited
                                     for alt in answer.alternatives)


def _published(citations: Sequence[Citation]) -> list[Citation]:
    return [c for c in citations if c.date_source != DATE_FILE_TIME]


@dataclass(frozen=True)
class NoAnswerGate:
    """``p = sigmoid(w . features + bias)``; answers with ``p < threshold`` are refused."""

    weights: Sequence[float]
    bias: float
    threshold: float

    def probability(self, answer: Answer) -> float:
        z = sum(w * x for w, x in zip(self.weights, features(answer), strict=False)) + self.bias
        return sigmoid(z)

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> NoAnswerGate | None:
        try:
            d = calibration_section(KEY, path)
            if d is None:
                return None
            return cls(weights=[float(w) for w in d["weights"]], bias=float(d["bias"]), threshold=float(d["threshold"]))
        except (KeyError, ValueError, TypeError):
            return None


class GatedAnswerer:
    """Wraps an answerer that always proposes a span; refuses when the gate says the span is unsupported."""

    def __init__(self, inner: Answerer, gate: NoAnswerGate) -> None:
        self.inner = inner
        self.gate = gate
        self.name = f"{inner.name}+gate"

    @property
    def read_depth(self) -> int:
        """Passages the wrapped answerer reads (0: just the k it is given)."""
        return self.inner.read_depth

    def _apply(self, answer: Answer) -> Answer:
        """The gate's answer to the wrapped answerer's: refused, or with the gate's probability as its
        confidence (and its citations')."""
        if answer.text is None:
            return answer
        p = self.gate.probability(answer)
        if p < self.gate.threshold:
            return no_answer(answer.question, answer.passages, round(p, 6))
        name = defined_name(answer.question) if answer.kind == EVIDENCE else None
        if name and not describes(name, answer.context or ""):
            # "Who is <name>?" answered by a sentence that only mentions the name: the gate learnt its
            # evidence rate from why/how questions, where a sentence that speaks to the question is the
            # answer; here it may not say who or what the name is at all
            p = min(p, UNDESCRIBED_CAP)
        if newer_disagrees(answer):
            p = min(p, CONTESTED_CAP)
        score = round(p, 6)
        return replace(answer, score=score, citations=tuple(replace(c, score=score) for c in answer.citations))

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        return self._apply(self.inner.answer(question, passages))

    def describe(self) -> dict[str, Any]:
        return {**self.inner.describe(), "gate": {"weights": list(self.gate.weights), "bias": self.gate.bias,
                                                  "threshold": self.gate.threshold}}

    def answer_many(self, questions: Sequence[str], passages_per_question: Sequence[Sequence[Passage]]) -> list[Answer]:
        return [self._apply(a) for a in self.inner.answer_many(questions, passages_per_question)]
