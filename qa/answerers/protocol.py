"""The answerer interface: turn a question and retrieved passages into an :class:`Answer`.

An answerer implements every method of :class:`Answerer`; :class:`qa.engine.QA` takes one in its
constructor, so readers can be swapped freely::

    from qa import QA
    from qa.answerers.sentence import SentenceAnswerer
    qa = QA(answerer=SentenceAnswerer(embedder))

The helpers below build the parts every answerer needs: citations whose offsets reproduce the answer
exactly, and the "the articles do not say" response.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from qa.types import Answer, Citation, Passage

NO_ANSWER_MESSAGE = "The articles do not contain an answer to this question."
NO_PASSAGES_MESSAGE = "There are no indexed articles to answer from."


@runtime_checkable
class Answerer(Protocol):
    """Picks the answer for a question from retrieved passages.

    ``read_depth`` is how many retrieved passages it reads per question: more than the engine's ``k``
    when it re-ranks what it reads (the span reader), 0 when it reads just the ``k`` it is given. The
    answer's passages come best first; the engine keeps the first ``k`` of them.
    """

    name: str

    @property
    def read_depth(self) -> int:
        """Passages read per question (0: just the ``k`` it is given); an attribute or a property."""
        ...

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        """Return the answer (``text=None`` when the passages do not support one)."""
        ...

    def describe(self) -> dict[str, Any]:
        """The settings and calibrated values that decide its answers (JSON-ready), for reports."""
        ...

    def answer_many(self, questions: Sequence[str], passages_per_question: Sequence[Sequence[Passage]]
                    ) -> list[Answer]:
        """:meth:`answer` for each question with its passages, batched where the answerer can."""
        ...


def passages_to_read(answerer: Answerer, k: int) -> int:
    """How many passages to retrieve so that ``answerer`` can answer with ``k``."""
    return max(k, answerer.read_depth)


def cite(passage: Passage, start: int, end: int, score: float = 0.0, span_score: float | None = None) -> Citation:
    """Citation for the span ``passage.text[start:end]`` (offsets local to the passage); ``span_score`` is
    the reader's raw score of the span (:attr:`Citation.span_score`).

    The returned citation's ``start``/``end`` are offsets into the article text, and its ``text`` the span.
    """
    if not 0 <= start < end <= len(passage.text):
        raise ValueError(f"span {start}:{end} is outside the passage (length {len(passage.text)})")
    return Citation(
        article_id=passage.article_id,
        title=passage.title,
        source=passage.source,
        start=passage.start + start,
        end=passage.start + end,
        passage=passage.text,
        passage_start=passage.start,
        passage_end=passage.end,
        score=score,
        passage_dense_score=passage.dense_score,
        span_score=span_score,
        date=passage.date,
        date_source=passage.date_source,
        text=passage.text[start:end],
    )


def no_answer(question: str, passages: Sequence[Passage], score: float = 0.0) -> Answer:
    """The response when the passages do not hold the answer: no text, the closest passages kept."""
    message = NO_ANSWER_MESSAGE if passages else NO_PASSAGES_MESSAGE
    return Answer(question=question, text=None, score=score, passages=tuple(passages), message=message)
