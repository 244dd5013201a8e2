"""The sentence answerer: the sentence of the retrieved passages that best answers the question.

    from qa.answerers.sentence import SentenceAnswerer
    answerer = SentenceAnswerer(embedder)
    answer = answerer.answer("Who slipped out of Venezuela?", passages)

Each sentence is scored by its embedding similarity to the question and by how many of the question's
content words it holds. Below a threshold calibrated on SQuAD questions whose article is indexed and
questions whose article is not (``python -m training.calibrate_sentence``, stored in ``qa/calibration.json``)
the answer is "not in the articles". It is the fallback when no trained span reader is available.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from qa.answerers.calibration import calibration_section
from qa.answerers.protocol import cite, no_answer
from qa.embedders import Embedder
from qa.sentences import split_sentences
from qa.stats import sigmoid
from qa.types import Answer, Passage
from qa.words import content_words


def load_threshold(key: str, default: float) -> float:
    """The calibrated threshold of section ``key`` of ``qa/calibration.json`` (``default`` without one)."""
    try:
        return float(calibration_section(key)["threshold"])  # type: ignore[index]
    except (KeyError, ValueError, TypeError):
        return default


class SentenceAnswerer:
    """Scores every sentence of the top passages; answers with the best one or says there is none."""

    name = "sentence"
    read_depth = 0  # reads the k passages it is given

    def describe(self) -> dict[str, Any]:
        return {"threshold": self.threshold}

    def __init__(self, embedder: Embedder, threshold: float | None = None, overlap_weight: float = 0.5,
                 max_passages: int = 5) -> None:
        self.embedder = embedder
        self.threshold = load_threshold("sentence", 0.5) if threshold is None else threshold
        self.overlap_weight = overlap_weight
        self.max_passages = max_passages

    def _sentences(self, passages: Sequence[Passage]) -> list[tuple[Passage, int, int]]:
        """Each distinct sentence of the top passages as ``(passage, start, end)`` (offsets local to it)."""
        seen: set[tuple[str, int]] = set()
        cands: list[tuple[Passage, int, int]] = []
        for p in passages[: self.max_passages]:
            for s, e in split_sentences(p.text):
                key = (p.article_id, p.start + s)
                if key not in seen:
                    seen.add(key)
                    cands.append((p, s, e))
        return cands

    def _score(self, question: str, qvec: np.ndarray, cands: list[tuple[Passage, int, int]],
               vecs: np.ndarray) -> list[tuple[float, Passage, int, int]]:
        sims = vecs @ qvec
        qwords = content_words(question)
        scored = []
        for (p, s, e), sim in zip(cands, sims, strict=False):
            overlap = len(qwords & content_words(p.text[s:e])) / len(qwords) if qwords else 0.0
            scored.append((float(sim) + self.overlap_weight * overlap, p, s, e))
        scored.sort(key=lambda t: -t[0])
        return scored

    def candidates(self, question: str, passages: Sequence[Passage]) -> list[tuple[float, Passage, int, int]]:
        """``(score, passage, start, end)`` per distinct sentence, best first (offsets local to the passage)."""
        cands = self._sentences(passages)
        if not cands:
            return []
        vecs = self.embedder.embed([question] + [p.text[s:e] for p, s, e in cands])
        return self._score(question, vecs[0], cands, vecs[1:])

    def confidence(self, score: float) -> float:
        return sigmoid(12.0 * (score - self.threshold))

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        return self._decide(question, passages, self.candidates(question, passages))

    def answer_many(self, questions: Sequence[str], passages_per_question: Sequence[Sequence[Passage]]) -> list[Answer]:
        """Batched :meth:`answer`: one embedding call for the questions and their distinct sentences
        (questions about the same articles share most sentences, so each is embedded once)."""
        cand_lists = [self._sentences(ps) for ps in passages_per_question]
        rows: dict[str, int] = {}
        for q in questions:
            rows.setdefault(q, len(rows))
        for cands in cand_lists:
            for p, s, e in cands:
                rows.setdefault(p.text[s:e], len(rows))
        vecs = self.embedder.embed(list(rows)) if rows else None
        answers = []
        for q, ps, cands in zip(questions, passages_per_question, cand_lists, strict=False):
            scored = []
            if cands:
                idx = [rows[p.text[s:e]] for p, s, e in cands]
                assert vecs is not None  # cands is not empty, so neither is rows
                scored = self._score(q, vecs[rows[q]], cands, vecs[idx])
            answers.append(self._decide(q, ps, scored))
        return answers

    def _decide(self, question: str, passages: Sequence[Passage],
                scored: list[tuple[float, Passage, int, int]]) -> Answer:
        if not scored or scored[0][0] < self.threshold:
            return no_answer(question, passages, self.confidence(scored[0][0]) if scored else 0.0)
        score, p, s, e = scored[0]
        conf = self.confidence(score)
        text = p.text[s:e]
        return Answer(question=question, text=text, score=conf, citations=(cite(p, s, e, conf),),
                      passages=tuple(passages), context=text, context_offset=p.start + s, message="")


def best_score(answerer: SentenceAnswerer, question: str, passages: Sequence[Passage]) -> float:
    """The best sentence score (for calibration); ``-inf`` when there is no sentence."""
    scored = answerer.candidates(question, passages)
    return scored[0][0] if scored else -np.inf
