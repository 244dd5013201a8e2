"""Hybrid retrieval: dense (FAISS) and lexical (BM25) search fused by weighted reciprocal rank fusion.

    from qa.retrieval import HybridRetriever
    retriever = HybridRetriever(snapshot, embedder, settings)
    passages = retriever.search("Who is Venezuela's opposition leader?", k=5)

Each list contributes ``weight / (rrf_k + rank)`` for the chunks it found; passages keep both raw
scores (cosine similarity and BM25) so answerers can judge how well they match.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa.config import Settings
from qa.embedding import Embedder
from qa.index import IndexSnapshot, embed_text
from qa.lexical import LexicalIndex
from qa.types import Passage


class HybridRetriever:
    """Ranks the chunks of one index snapshot for a question."""

    def __init__(self, snapshot: IndexSnapshot, embedder: Embedder, settings: Settings) -> None:
        self.snapshot = snapshot
        self.embedder = embedder
        self.settings = settings
        arts = snapshot.articles
        self._row_ids = np.array([c.id for c in snapshot.chunks], dtype=np.int64)
        self.lexical = LexicalIndex([embed_text(arts[c.article_id], c) for c in snapshot.chunks])

    def search(self, question: str, k: int | None = None) -> list[Passage]:
        """The ``k`` best passages for ``question``, best first."""
        return self.search_many([question], k)[0]

    def search_many(self, questions: Sequence[str], k: int | None = None,
                    vectors: np.ndarray | None = None) -> list[list[Passage]]:
        """Batched :meth:`search`: one embedding call and one FAISS call for all questions."""
        k = k or self.settings.k
        n = len(self.snapshot.chunks)
        if n == 0 or not questions:
            return [[] for _ in questions]
        depth = min(max(self.settings.candidates, k), n)
        if vectors is None:
            vectors = self.embedder.embed(list(questions))
        dense_scores, dense_ids = self.snapshot.faiss_index.search(vectors, depth)
        lexical = self.lexical.search(questions, depth)
        return [
            self._fuse(dense_ids[i], dense_scores[i], lexical[i], k) for i in range(len(questions))
        ]

    def _fuse(self, dense_ids, dense_scores, lexical, k: int) -> list[Passage]:
        s = self.settings
        fused: dict[int, float] = {}
        dense: dict[int, float] = {}
        lex: dict[int, float] = {}
        for rank, (cid, score) in enumerate(zip(dense_ids, dense_scores)):
            if cid < 0:
                continue
            cid = int(cid)
            dense[cid] = float(score)
            fused[cid] = fused.get(cid, 0.0) + s.dense_weight / (s.rrf_k + rank + 1)
        for rank, (row, score) in enumerate(lexical):
            cid = int(self._row_ids[row])
            lex[cid] = score
            fused[cid] = fused.get(cid, 0.0) + s.lexical_weight / (s.rrf_k + rank + 1)
        best = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        out = []
        for rank, (cid, score) in enumerate(best):
            chunk = self.snapshot.chunk_by_id[cid]
            art = self.snapshot.articles[chunk.article_id]
            out.append(Passage(
                chunk_id=cid, article_id=art.id, title=art.title, source=art.source,
                start=chunk.start, end=chunk.end, text=chunk.text, score=score, rank=rank,
                dense_score=dense.get(cid), lexical_score=lex.get(cid),
            ))
        return out
