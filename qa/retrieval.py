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
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from qa.config import Settings
from qa.embedders import Embedder
from qa.runtime.threads import SMALL_CALL, faiss_threads, query_threads
from qa.store import IndexSnapshot
from qa.types import Passage


class HybridRetriever:
    """Ranks the chunks of one index snapshot for a question."""

    def __init__(self, snapshot: IndexSnapshot, embedder: Embedder, settings: Settings) -> None:
        self.snapshot = snapshot
        self.embedder = embedder
        self.settings = settings
        self._row_ids = np.array([c.id for c in snapshot.chunks], dtype=np.int64)
        self.lexical = snapshot.lexical

    def search(self, question: str, k: int | None = None) -> list[Passage]:
        """The ``k`` best passages for ``question``, best first."""
        return self.search_many([question], k)[0]

    def search_many(self, questions: Sequence[str], k: int | None = None,
                    vectors: np.ndarray | None = None, timings: dict[str, float] | None = None) -> list[list[Passage]]:
        """Batched :meth:`search`: one embedding call and one FAISS call for all questions.

        ``timings``, when given, receives the seconds spent embedding, in FAISS, in BM25 and fusing.
        """
        k = k or self.settings.k
        n = len(self.snapshot.chunks)
        if n == 0 or not questions:
            return [[] for _ in questions]
        depth = min(max(self.settings.candidates, k), n)
        t0 = time.perf_counter()
        if vectors is None:
            vectors = self.embedder.embed(list(questions))
        t1 = time.perf_counter()
        if len(questions) < SMALL_CALL:  # FAISS's own OpenMP default otherwise
            with faiss_threads(query_threads()):
                dense_scores, dense_ids = self.snapshot.vectors.search(vectors, depth)
        else:
            dense_scores, dense_ids = self.snapshot.vectors.search(vectors, depth)
        t2 = time.perf_counter()
        lexical = self.lexical.search(questions, depth)
        t3 = time.perf_counter()
        out = [self._fuse(dense_ids[i], dense_scores[i], lexical[i], k) for i in range(len(questions))]
        if timings is not None:
            t4 = time.perf_counter()
            timings.update({"embed_s": t1 - t0, "dense_s": t2 - t1, "lexical_s": t3 - t2, "fuse_s": t4 - t3})
        return out

    def _fuse(self, dense_ids, dense_scores, lexical, k: int) -> list[Passage]:
        dense = {int(c): float(v) for c, v in zip(dense_ids, dense_scores, strict=True) if c >= 0}
        lex = {int(self._row_ids[row]): v for row, v in lexical}
        if self.settings.fusion == "rrf":
            fused = rrf_fusion(dense, lex, self.settings.dense_weight, self.settings.rrf_k)
        else:
            fused = zscore_fusion(dense, lex, self.settings.dense_weight)
        best = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
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
