"""Hybrid retrieval: dense (FAISS) and lexical (BM25) search, fused.

    from qa.retrieval import HybridRetriever
    retriever = HybridRetriever(snapshot, embedder, settings)
    passages = retriever.search("Who is Venezuela's opposition leader?", k=5)

Fusion ``zscore`` (default) standardises each list's scores over its candidates and adds them with
weights ``dense_weight`` and ``1 - dense_weight`` (a chunk missing from one list gets that list's lowest
candidate score); ``rrf`` adds ``weight / (rrf_k + rank)``. Passages keep both raw scores (cosine
similarity and BM25) so answerers can judge how well they match.

A query is searched on one OpenMP thread (FAISS) and without a thread pool (BM25): on a shared 2-core
machine FAISS's two OpenMP threads made a flat search over 9k chunks 24 ms instead of 0.5 ms
(``bench/RESULTS.md``, answer latency). Pass ``timings={}`` to :meth:`HybridRetriever.search_many` to
get the seconds spent per stage (``embed_s``, ``dense_s``, ``lexical_s``, ``fuse_s``).

Time (:class:`qa.timecues.TimeCue`, one per question): a ``since``/``until`` range restricts both searches to
the chunks of articles dated in it (inclusive; an article without a date is left out) before fusion, so ``k``
passages come back whenever the range holds that many. Passages with equal fused scores are ordered newer
article first. With ``prefer_recent`` ("latest", "most recent"), the candidates whose fused score is within
:data:`RECENT_MARGIN` of the best (in standard deviations of the candidates' scores, so it means the
same under both fusions) are put in date order, newest first, and each takes the score of the
place it moves to: the scores of the list stay as fused, and a reader that weighs them (the span reader's
re-ranking) sees the newer article as the better match.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import date

import numpy as np

from qa.config import Settings
from qa.embedders import Embedder
from qa.runtime.threads import SMALL_CALL, faiss_threads, query_threads
from qa.store import IndexSnapshot
from qa.types import NO_CUE, Passage, TimeCue

#: how close to the best fused score a candidate must be for "latest" to move it up by date, in standard
#: deviations of the candidates' scores: close calls are decided by date, clear ones are not
RECENT_MARGIN = 0.5
#: date ranges whose chunk selection is kept per snapshot (each holds a mask over all chunks)
RANGES_KEPT = 16


class HybridRetriever:
    """Ranks the chunks of one index snapshot for a question."""

    def __init__(self, snapshot: IndexSnapshot, embedder: Embedder, settings: Settings) -> None:
        self.snapshot = snapshot
        self.embedder = embedder
        self.settings = settings
        self._row_ids = np.array([c.id for c in snapshot.chunks], dtype=np.int64)
        self.lexical = snapshot.lexical
        self._in_range: dict[tuple[str | None, str | None], tuple[np.ndarray, np.ndarray]] = {}

    def search(self, question: str, k: int | None = None, cue: TimeCue | None = None) -> list[Passage]:
        """The ``k`` best passages for ``question``, best first, within ``cue``'s date range."""
        return self.search_many([question], k, times=[cue or NO_CUE])[0]

    def search_many(self, questions: Sequence[str], k: int | None = None,
                    vectors: np.ndarray | None = None, timings: dict[str, float] | None = None,
                    times: Sequence[TimeCue] | None = None) -> list[list[Passage]]:
        """Batched :meth:`search`: one embedding call and one FAISS call for all questions (plus one per
        question with a date range, which FAISS searches with its own ID selector).

        ``timings``, when given, receives the seconds spent embedding, in FAISS, in BM25 and fusing; ``times``
        gives each question's date range and recency preference (default: none).
        """
        k = k or self.settings.k
        n = len(self.snapshot.chunks)
        if n == 0 or not questions:
            return [[] for _ in questions]
        times = list(times) if times is not None else [NO_CUE] * len(questions)
        if len(times) != len(questions):
            raise ValueError("times must give one TimeCue per question")
        depth = min(max(self.settings.candidates, k), n)
        t0 = time.perf_counter()
        if vectors is None:
            vectors = self.embedder.embed(list(questions))
        t1 = time.perf_counter()
        plain = [i for i, t in enumerate(times) if not t.filters]
        dense: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        with faiss_threads(query_threads()) if len(questions) < SMALL_CALL else nullcontext():
            if plain:
                scores, ids = self.snapshot.vectors.search(np.ascontiguousarray(vectors[plain]), depth)
                dense.update({i: (ids[j], scores[j]) for j, i in enumerate(plain)})
            for i, t in enumerate(times):
                if t.filters:
                    chunk_ids, _rows = self._range(t)
                    d = min(depth, len(chunk_ids))
                    if d:
                        scores, ids = self.snapshot.vectors.search(vectors[i:i + 1], d, ids=chunk_ids)
                        dense[i] = (ids[0], scores[0])
                    else:
                        dense[i] = (np.empty(0, np.int64), np.empty(0, np.float32))
        t2 = time.perf_counter()
        lexical: dict[int, list[tuple[int, float]]] = {}
        if plain:
            lexical.update(zip(plain, self.lexical.search([questions[i] for i in plain], depth), strict=True))
        for i, t in enumerate(times):
            if t.filters:
                lexical[i] = self.lexical.search([questions[i]], depth, rows=self._range(t)[1])[0]
        t3 = time.perf_counter()
        out = [self._fuse(dense[i][0], dense[i][1], lexical[i], k, times[i].prefer_recent)
               for i in range(len(questions))]
        if timings is not None:
            t4 = time.perf_counter()
            timings.update({"embed_s": t1 - t0, "dense_s": t2 - t1, "lexical_s": t3 - t2, "fuse_s": t4 - t3})
        return out

    def _range(self, cue: TimeCue) -> tuple[np.ndarray, np.ndarray]:
        """The chunk ids of the articles dated within ``cue``'s range, and the same chunks as a mask over the
        BM25 rows; computed once per range for this snapshot."""
        key = (cue.since, cue.until)
        found = self._in_range.get(key)
        if found is None:
            arts = self.snapshot.articles
            dated = {a.id for a in arts.values() if in_range(a.date, cue.since, cue.until)}
            rows = np.fromiter((c.article_id in dated for c in self.snapshot.chunks), dtype=bool,
                               count=len(self.snapshot.chunks))
            found = (self._row_ids[rows], rows)
            if len(self._in_range) >= RANGES_KEPT:  # a long-running chat asks for many ranges: forget the oldest
                self._in_range.pop(next(iter(self._in_range)), None)
            self._in_range[key] = found
        return found

    @functools.cached_property
    def newest_date(self) -> date | None:
        """The newest article date of the snapshot: the "today" from which a question's "last week" is counted
        (read once per snapshot: every question needs it)."""
        newest = max((a.date for a in self.snapshot.articles.values() if a.date), default=None)
        return date.fromisoformat(newest) if newest else None

    def count_in_range(self, cue: TimeCue) -> int:
        """How many chunks lie in articles dated within ``cue``'s range (all of them when it has none)."""
        return len(self._range(cue)[0]) if cue.filters else len(self.snapshot.chunks)

    def _fuse(self, dense_ids, dense_scores, lexical, k: int, prefer_recent: bool = False) -> list[Passage]:
        dense = {int(c): float(v) for c, v in zip(dense_ids, dense_scores, strict=True) if c >= 0}
        lex = {int(self._row_ids[row]): v for row, v in lexical}
        if self.settings.fusion == "rrf":
            fused = rrf_fusion(dense, lex, self.settings.dense_weight, self.settings.rrf_k)
        else:
            fused = zscore_fusion(dense, lex, self.settings.dense_weight)
        best = rank_fused(fused, {cid: self._date_key(cid) for cid in fused}, prefer_recent)[:k]
        out = []
        for rank, (cid, score) in enumerate(best):
            chunk = self.snapshot.chunk_by_id[cid]
            art = self.snapshot.articles[chunk.article_id]
            out.append(Passage(
                chunk_id=cid, article_id=art.id, title=art.title, source=art.source,
                start=chunk.start, end=chunk.end, text=chunk.text, score=score, rank=rank,
                dense_score=dense.get(cid), lexical_score=lex.get(cid), date=art.date, date_source=art.date_source,
            ))
        return out

    def _date_key(self, chunk_id: int) -> int:
        """The chunk's article date as a number that sorts by date (0 for an undated article: oldest)."""
        return _day(self.snapshot.articles[self.snapshot.chunk_by_id[chunk_id].article_id].date)


def in_range(day: str | None, since: str | None, until: str | None) -> bool:
    """Whether the ISO date ``day`` lies in ``[since, until]`` (either open when ``None``); an undated article
    (``day`` is ``None``) lies in no range but the unbounded one. ISO dates compare as text."""
    if since is None and until is None:
        return True
    if not day:
        return False
    return (since is None or day >= since) and (until is None or day <= until)


def rank_fused(fused: dict[int, float], dates: dict[int, int], prefer_recent: bool = False) -> list[tuple[int, float]]:
    """``(chunk id, score)`` best first; equal scores put the newer article first (then the lower chunk id), and
    ``prefer_recent`` orders the close candidates by date (:func:`newest_within_margin`). ``dates`` are sortable
    numbers (``YYYYMMDD``, 0 for an undated article)."""
    ranked = sorted(fused.items(), key=lambda kv: (-kv[1], -dates[kv[0]], kv[0]))
    return newest_within_margin(ranked, dates, RECENT_MARGIN) if prefer_recent else ranked


def close_candidates(passages: Sequence[Passage], margin: float = RECENT_MARGIN) -> list[Passage]:
    """The passages whose retrieval score is within ``margin`` standard deviations (of the scores of
    ``passages``) of the best, newest article first (undated last): the ones a "latest" question chooses
    among by date."""
    if not passages:
        return []
    scores = [p.score for p in passages]
    floor = max(scores) - margin * float(np.std(scores))
    return sorted((p for p in passages if p.score >= floor), key=lambda p: (-_day(p.date), -p.score))


def _day(iso: str | None) -> int:
    return int(iso.replace("-", "")) if iso else 0


def newest_within_margin(ranked: list[tuple[int, float]], dates: dict[int, int],
                         margin: float) -> list[tuple[int, float]]:
    """``ranked`` (chunk id, score; best first) with the candidates within ``margin`` standard deviations (of
    all the scores in ``ranked``) of the best put newest first; each takes the score of its new place, so the
    scores still fall down the list."""
    if len(ranked) < 2:
        return ranked
    scores = [s for _, s in ranked]
    spread = float(np.std(scores))
    close = [c for c, s in ranked if s >= scores[0] - margin * spread]
    moved = sorted(close, key=lambda c: -dates[c])  # stable: equal dates keep their score order
    return [(c, scores[i]) for i, c in enumerate(moved)] + ranked[len(close):]


def _zscores(scores: dict[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    v = np.fromiter(scores.values(), dtype=np.float64)
    mu, sd = v.mean(), v.std()
    sd = sd if sd > 1e-9 else 1.0
    return {c: (x - mu) / sd for c, x in scores.items()}


def zscore_fusion(dense: dict[int, float], lexical: dict[int, float], dense_weight: float) -> dict[int, float]:
    """Weighted sum of standardised scores; a chunk absent from a list gets that list's minimum."""
    dz, lz = _zscores(dense), _zscores(lexical)
    dmin = min(dz.values(), default=0.0)
    lmin = min(lz.values(), default=0.0)
    return {c: dense_weight * dz.get(c, dmin) + (1 - dense_weight) * lz.get(c, lmin) for c in dz.keys() | lz.keys()}


def rrf_fusion(dense: dict[int, float], lexical: dict[int, float], dense_weight: float, rrf_k: int) -> dict[int, float]:
    """Weighted reciprocal rank fusion of the two ranked lists (dicts keep their ranking order)."""
    fused: dict[int, float] = {}
    for weight, ranked in ((dense_weight, dense), (1 - dense_weight, lexical)):
        for rank, c in enumerate(ranked):
            fused[c] = fused.get(c, 0.0) + weight / (rrf_k + rank + 1)
    return fused
