"""Typed records that flow between the pipeline stages.

articles -> :class:`Article` -> chunking -> :class:`Chunk` -> retrieval -> :class:`Passage`
-> answering -> :class:`Answer` (with :class:`Citation` s).

Every offset is a character offset into :attr:`Article.text`, so that
``article.text[citation.start:citation.end] == answer.text`` always holds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Article:
    """One article as loaded from disk.

    ``text`` is the article's full text (for HTML: the extracted text); all offsets point into it.
    ``source`` is the path the article was read from, relative to the articles folder
    (``file.jsonl#3`` for the 4th record of a JSONL file); ``duplicates`` lists other sources with the
    same title and text, which are indexed once.
    """

    id: str
    title: str
    text: str
    source: str
    content_hash: str
    duplicates: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["duplicates"] = list(self.duplicates)
        return d


@dataclass(frozen=True)
class Chunk:
    """A contiguous piece of an article: ``article_text[start:end] == text``."""

    id: int
    article_id: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its article's metadata and retrieval scores.

    ``score`` is the fused retrieval score (higher is better; in an answer from the span reader, the
    score it re-ranked the passages by: fused score + weight x best span margin); ``dense_score`` is the cosine similarity
    between question and chunk embeddings (``None`` when the chunk was found by BM25 alone) and
    ``lexical_score`` the BM25 score (``None`` when found by the dense search alone).
    """

    chunk_id: int
    article_id: str
    title: str
    source: str
    start: int
    end: int
    text: str
    score: float
    rank: int
    dense_score: float | None = None
    lexical_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Citation:
    """Where an answer comes from.

    ``start``/``end`` are offsets of the answer in the article text; ``passage`` is the retrieved
    passage that holds it, at ``passage_start``/``passage_end`` in the article text.
    """

    article_id: str
    title: str
    source: str
    start: int
    end: int
    passage: str
    passage_start: int
    passage_end: int
    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """The result of a question.

    ``text`` is the extracted answer span, or ``None`` when the articles do not hold the answer;
    ``message`` is what to tell a person either way; ``passages`` are the closest passages retrieved
    (also kept on a no-answer, so a person can read them). ``context`` is the sentence around the
    answer, when known. ``score`` is a confidence in [0, 1] (with the no-answer gate: the calibrated
    probability that the answer is right; ``to_dict`` adds its ``confidence_level``).

    ``kind`` says what ``text`` is: ``"span"``, a short answer copied from an article, or
    ``"evidence"``, the sentence of an article that speaks to a question no short span can answer
    (why, how, yes/no, or when no span of the asked-for type was found); either way every citation
    reproduces ``text`` exactly.
    """

    question: str
    text: str | None
    score: float
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    context: str | None = None
    message: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    kind: str = "span"

    @property
    def found(self) -> bool:
        return self.text is not None

    def to_dict(self) -> dict[str, Any]:
        from qa.answer_types import confidence_level

        return {
            "question": self.question,
            "answer": self.text,
            "found": self.found,
            "kind": self.kind,
            "score": self.score,
            "confidence_level": confidence_level(self.score) if self.found else None,
            "message": self.message,
            "context": self.context,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "timings": dict(self.timings),
        }
