"""BM25 keyword search over chunks (bm25s, with English stop words and Snowball stemming).

    from qa.lexical import LexicalIndex
    lex = LexicalIndex(["Guaido slipped out of Venezuela", "Russia backs Maduro"])
    lex.search(["Who slipped out?"], k=1)    # -> [[(0, 1.23)]]: (row, BM25 score)
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np


class LexicalIndex:
    """A BM25 index over a list of texts; results are row numbers in that list with their scores."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        import bm25s
        import Stemmer
        from bm25s.tokenization import Tokenizer

        self.size = len(texts)
        self._tokenizer = Tokenizer(stemmer=Stemmer.Stemmer("english"), stopwords="en")
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        self._lock = threading.Lock()  # the stemmer and tokenizer are not thread-safe
        if self.size:
            ids = self._tokenizer.tokenize(list(texts), update_vocab=True, return_as="ids", show_progress=False)
            self._bm25.index(ids, show_progress=False)

    def search(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        """For each query, up to ``k`` ``(row, score)`` pairs with a positive score, best first."""
        k = min(k, self.size)
        if k <= 0:
            return [[] for _ in queries]
        with self._lock:
            ids = self._tokenizer.tokenize(list(queries), update_vocab=False, return_as="ids", show_progress=False)
            rows, scores = self._bm25.retrieve(ids, k=k, show_progress=False, n_threads=1)
        out: list[list[tuple[int, float]]] = []
        for r, s in zip(np.asarray(rows), np.asarray(scores)):
            out.append([(int(i), float(v)) for i, v in zip(r, s) if v > 0])
        return out
