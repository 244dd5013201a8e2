"""Typed records that flow between the pipeline stages.

articles -> :class:`Article` -> chunking -> :class:`Chunk` -> retrieval -> :class:`Passage`
-> answering -> :class:`Answer` (with :class:`Citation` s).

Every offset is a character offset into :attr:`Article.text`, so that
``article.text[citation.start:citation.end] == citation.text`` always holds, and ``citation.text ==
answer.text`` for the article the answer was copied from and for every article that words it identically
(an article that agrees in other words, "fifty" for "50", is cited with its own wording). The records are frozen: a
stage that changes one returns a new one (``dataclasses.replace``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

#: :attr:`Answer.kind` of a short answer copied from an article
SPAN = "span"
#: :attr:`Answer.kind` of the sentence that speaks to a question no short span can answer
EVIDENCE = "evidence"

#: lower bounds of the "High" and "Medium" confidence levels, read off the end-to-end reliability
#: table (``bench/end_to_end.py``, ``bench/RESULTS.md`` "Trustworthy answers"): High answers were
#: nearly always right there, Medium ones more often right than wrong, Low ones more often wrong
HIGH = 0.8
MEDIUM = 0.5

#: :attr:`Article.date_source` values (:mod:`qa.dates` finds the dates): from the article's metadata, from
#: a dateline at the top of its text, or only the file's modification time
DATE_METADATA = "metadata"
DATE_DATELINE = "dateline"
DATE_FILE_TIME = "file time"


@dataclass(frozen=True)
class TimeCue:
    """The publication dates a question is answered from (:mod:`qa.timecues` reads them off its words).

    ``since``/``until`` bound the range (ISO dates, inclusive, either may be ``None``); ``prefer_recent``
    prefers newer articles; ``phrase`` is the words that said it (``"since/until"`` when the caller gave the
    range). ``dropped`` marks a range of the question's own words that no article lies in, so that every
    article was read instead (the year a question names may be when something happened, not when it was
    reported).
    """

    since: str | None = None
    until: str | None = None
    prefer_recent: bool = False
    phrase: str | None = None
    dropped: bool = False

    @property
    def filters(self) -> bool:
        """Whether the range keeps articles out (a dropped range does not)."""
        return not self.dropped and (self.since is not None or self.until is not None)

    @property
    def applies(self) -> bool:
        """Whether the cue says anything worth telling a person about the answer."""
        return self.since is not None or self.until is not None or self.prefer_recent

    def describe(self) -> str:
        """One sentence for a person: which articles were read, and which words of the question said so."""
        said = "" if self.phrase in (None, CALLER_RANGE) else f' ("{self.phrase}")'
        parts = []
        if self.since is not None or self.until is not None:
            span = (f"from {self.since} to {self.until}" if self.since and self.until
                    else f"on or after {self.since}" if self.since else f"on or before {self.until}")
            parts.append(f"No article is dated {span}{said}, so all articles were read." if self.dropped
                         else f"Only articles published {span} were read{said}.")
            said = ""  # the words are named once
        if self.prefer_recent:
            parts.append(f"Newer articles were preferred{said}.")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TimeCue:
        return cls(**_known(cls, d))


#: :attr:`TimeCue.phrase` of a range the caller gave (``since``/``until``), not the question's words
CALLER_RANGE = "since/until"
NO_CUE = TimeCue()


def confidence_level(score: float) -> str:
    """``"High"``, ``"Medium"`` or ``"Low"`` for a calibrated confidence in [0, 1]."""
    if score >= HIGH:
        return "High"
    if score >= MEDIUM:
        return "Medium"
    return "Low"


@dataclass(frozen=True)
class Article:
    """One article as loaded from disk.

    ``text`` is the article's full text (for HTML: the extracted text); all offsets point into it.
    (An article from the web has its URL as ``source`` and its file first in ``duplicates``:
    :func:`qa.articles.article_file`.)
    ``source`` is the path the article was read from, relative to the articles folder
    (``file.jsonl#3`` for the 4th record of a JSONL file); ``duplicates`` lists other sources with the
    same title and text, which are indexed once. ``date`` is the publication date (``YYYY-MM-DD``) and
    ``date_source`` where it came from (``"metadata"``, ``"dateline"`` or ``"file time"``, :mod:`qa.dates`);
    both ``None`` for an article read before dates were recorded.
    """

    id: str
    title: str
    text: str
    source: str
    content_hash: str
    duplicates: tuple[str, ...] = ()
    date: str | None = None
    date_source: str | None = None

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

    ``score`` is the fused retrieval score (higher is better) and ``rank`` the passage's place in the
    retriever's list (0 = best); ``dense_score`` is the cosine similarity between question and chunk
    embeddings (``None`` when the chunk was found by BM25 alone) and ``lexical_score`` the BM25 score
    (``None`` when found by the dense search alone). ``rerank_score`` is set by a reader that re-ranks
    what it read (:mod:`qa.answerers.rerank`): the order of an answer's passages is then by it, while
    ``score`` and ``rank`` still say what retrieval found. ``date``/``date_source`` are the article's
    (:class:`Article`).
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
    rerank_score: float | None = None
    date: str | None = None
    date_source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Passage:
        return cls(**_known(cls, d))


@dataclass(frozen=True)
class Citation:
    """Where an answer comes from.

    ``start``/``end`` are offsets of the answer in the article text; ``passage`` is the retrieved
    passage that holds it, at ``passage_start``/``passage_end`` in the article text, and
    ``passage_dense_score`` that passage's question-passage cosine (:attr:`Passage.dense_score`), and
    ``span_score`` the reader's raw score of the span it quotes (start + end logit; for an evidence
    sentence, of the span the sentence was chosen around; ``None`` when no span reader chose it): how
    strongly the reader points at the span, apart from how strongly it points at "no answer". Both are
    signals for the no-answer gate (:mod:`qa.answerers.gate`).
    ``date``/``date_source`` are the article's publication date and where it came from (:class:`Article`).
    ``text`` is what the citation quotes, ``article.text[start:end]``: the answer as this article words it
    (empty in a citation made without it: an :class:`Answer` fills in its own text, which is what every
    citation quoted before agreeing articles could word an answer differently).
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
    passage_dense_score: float | None = None
    span_score: float | None = None
    date: str | None = None
    date_source: str | None = None
    text: str = ""

    @property
    def date_label(self) -> str | None:
        """The date as shown beside a citation: ``2024-03-12``, or ``2024-03-12 (file date)`` when it is only
        the file's modification time."""
        return date_label(self.date, self.date_source)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Citation:
        return cls(**_known(cls, d))


@dataclass(frozen=True)
class Alternative:
    """Another answer that other articles give to the same question, when it differs from the one shown
    (another figure, date or person: :mod:`qa.answerers.agreement`): its text as the first of its
    ``citations`` words it, ``score`` the confidence in it (the reader's own; the gate's for the answer a
    "latest" question put behind a newer one), and one citation per article that gives it."""

    text: str
    score: float
    citations: tuple[Citation, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "citations", _quoting(tuple(self.citations), self.text))

    @property
    def newest_date(self) -> str | None:
        """The newest publication date among the articles that give it (``None`` when none has one)."""
        return newest_date(self.citations)

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.text, "score": self.score, "citations": [c.to_dict() for c in self.citations]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Alternative:
        return cls(text=d["answer"], score=float(d["score"]),
                   citations=tuple(Citation.from_dict(c) for c in d.get("citations", ())))


@dataclass(frozen=True)
class Answer:
    """The result of a question.

    ``text`` is the extracted answer span, or ``None`` when the articles do not hold the answer;
    ``message`` is what to tell a person either way; ``passages`` are the closest passages retrieved
    (also kept on a no-answer, so a person can read them). ``context`` is the sentence around the
    answer, when known, and ``context_offset`` where it starts in the article of the first citation,
    so that the answer is ``context[c.start - context_offset : c.end - context_offset]``. ``score`` is a
    confidence in [0, 1] (with the no-answer gate: the calibrated probability that the answer is right;
    :attr:`confidence_level` names its band).

    ``kind`` says what ``text`` is: :data:`SPAN`, a short answer copied from an article, or
    :data:`EVIDENCE`, the sentence of an article that speaks to a question no short span can answer
    (why, how, yes/no, or when no span of the asked-for type was found); either way every citation
    reproduces its own :attr:`Citation.text` exactly, and the first one ``text`` itself.

    ``citations`` holds one citation per article that gives this answer, the one it was copied from first;
    an article may word it differently (:attr:`Citation.text`). ``alternatives`` are the different answers
    other articles give (:class:`Alternative`), best first; :attr:`message` names them with their dates.
    ``time_cue`` is the publication-date range or recency preference the answer was read under
    (:data:`NO_CUE` for none), so that a person is told when some articles were left out.

    Frozen: each stage (reader, gate, engine) returns a new answer. ``citations``, ``passages`` and
    ``alternatives`` are kept as tuples (lists given are converted).
    """

    question: str
    text: str | None
    score: float
    citations: tuple[Citation, ...] = ()
    passages: tuple[Passage, ...] = ()
    context: str | None = None
    message: str = ""
    timings: Mapping[str, float] = field(default_factory=dict)
    kind: str = SPAN
    context_offset: int | None = None
    alternatives: tuple[Alternative, ...] = ()
    time_cue: TimeCue = NO_CUE

    def __post_init__(self) -> None:
        # frozen: the conversions go through object.__setattr__, once, at construction
        object.__setattr__(self, "citations", _quoting(tuple(self.citations), self.text))
        object.__setattr__(self, "alternatives", tuple(self.alternatives))
        object.__setattr__(self, "passages", tuple(self.passages))
        object.__setattr__(self, "timings", dict(self.timings))

    @property
    def found(self) -> bool:
        return self.text is not None

    @property
    def confidence_level(self) -> str | None:
        """:func:`confidence_level` of the score; ``None`` on a no-answer."""
        return confidence_level(self.score) if self.found else None

    @property
    def label(self) -> str:
        """What the answer is called where it is shown: "From the article" for an evidence sentence,
        "Possible answer" for a span of Low confidence (more often wrong than right: a lead to check
        against its sentence, not an answer), else "Answer"."""
        if self.kind == EVIDENCE:
            return "From the article"
        return "Possible answer" if self.found and self.score < MEDIUM else "Answer"

    @property
    def span_in_context(self) -> tuple[int, int] | None:
        """``(start, end)`` of the answer inside :attr:`context`, from the offsets (``None`` when the
        answer has no context, no offset or no citation)."""
        if self.text is None or self.context is None or self.context_offset is None or not self.citations:
            return None
        c = self.citations[0]
        start, end = c.start - self.context_offset, c.end - self.context_offset
        if not (0 <= start < end <= len(self.context)) or self.context[start:end] != self.text:
            return None
        return start, end

    def to_dict(self) -> dict[str, Any]:
        """The one JSON form of an answer (``found`` and ``confidence_level`` derived, for readers of it);
        :meth:`from_dict` reads it back."""
        return {
            "question": self.question,
            "answer": self.text,
            "found": self.found,
            "kind": self.kind,
            "score": self.score,
            "confidence_level": self.confidence_level,
            "message": self.message,
            "context": self.context,
            "context_offset": self.context_offset,
            "citations": [c.to_dict() for c in self.citations],
            "alternatives": [a.to_dict() for a in self.alternatives],
            "passages": [p.to_dict() for p in self.passages],
            "timings": dict(self.timings),
            "time_cue": self.time_cue.to_dict() if self.time_cue.applies else None,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Answer:
        """The answer :meth:`to_dict` wrote (derived keys are ignored; missing optional keys default)."""
        return cls(
            question=d["question"],
            text=d["answer"],
            score=float(d["score"]),
            citations=tuple(Citation.from_dict(c) for c in d.get("citations", ())),
            passages=tuple(Passage.from_dict(p) for p in d.get("passages", ())),
            context=d.get("context"),
            message=d.get("message", ""),
            timings={k: float(v) for k, v in (d.get("timings") or {}).items()},
            kind=d.get("kind", SPAN),
            context_offset=d.get("context_offset"),
            alternatives=tuple(Alternative.from_dict(a) for a in d.get("alternatives") or ()),
            time_cue=TimeCue.from_dict(d["time_cue"]) if d.get("time_cue") else NO_CUE,
        )


def date_label(date: str | None, date_source: str | None) -> str | None:
    """``date`` as shown to a person: as it is, with "(file date)" when it is only when the file was saved."""
    if not date:
        return None
    return f"{date} (file date)" if date_source == DATE_FILE_TIME else date


def newest_date(citations: Sequence[Citation]) -> str | None:
    """The newest date among ``citations`` (ISO dates compare as text), ``None`` when none has one."""
    return max((c.date for c in citations if c.date), default=None)


def _quoting(citations: tuple[Citation, ...], text: str | None) -> tuple[Citation, ...]:
    """``citations`` with an empty :attr:`Citation.text` filled in with ``text`` (a citation read from JSON
    written before citations carried their text quotes the answer)."""
    if text is None or all(c.text for c in citations):
        return citations
    return tuple(c if c.text else replace(c, text=text) for c in citations)


def _known(cls: type, d: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``d`` that are fields of the dataclass ``cls``."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in d.items() if k in names}

