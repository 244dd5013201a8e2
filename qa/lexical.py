"""BM25 keyword search over chunks (bm25s, with English stop words and Snowball stemming).

    from qa.lexical import LexicalIndex
    lex = LexicalIndex(["Guaido slipped out of Venezuela", "Russia backs Maduro"])
    lex.search(["Who slipped out?"], k=1)    # -> [[(0, 1.23)]]: (row, BM25 score)
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence

import numpy as np


class LexicalIndex:
    """A BM25 index over a list of texts; results are row numbers in that list with their scores."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        import bm25s
        import Stemmer
        from bm25s.tokenization import Tokenizer

        # bm25s sets its own logger to DEBUG when imported, which would print its progress notes
        logging.getLogger("bm25s").setLevel(logging.WARNING)

        self.size = len(texts)
        self._tokenizer = Tokenizer(stemmer=Stemmer.Stemmer("english"), stopwords="en")
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        self._lock = threading.Lock()  # the stemmer and tokenizer are not thread-safe
        if self.size:
            ids = self._tokenizer.tokenize(list(texts), update_vocab=True, return_as="ids", show_progress=False)
            self._bm25.index(ids, show_progress=False)

    def search(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        """For each query, up to ``k`` ``(row, score)`` pairs with a positive score, best first (ties:
        lower row first)."""
        k = min(k, self.size)
        if k <= 0:
            return [[] for _ in queries]
        with self._lock:
            tokenized = self._tokenizer.tokenize(list(queries), update_vocab=False, return_as="ids", show_progress=False)
        known = self._bm25.unique_token_ids_set
        out: list[list[tuple[int, float]]] = []
        for ids in tokenized:
            ids = [t for t in ids if t in known]
            out.append(top_k(self._bm25.get_scores_from_ids(ids), k) if ids else [])
        return out


def top_k(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best positive scores as ``(row, score)``, best first, ties broken by the lower row.

    bm25s's own selection runs ``argpartition`` over every row; most rows score 0 and with that many
    equal values it took 42 ms per query at 100k chunks. Selecting among the positive scores only gives
    the same rows and scores (and a defined order for ties) in well under a millisecond.
    """
    rows = np.flatnonzero(scores > 0)
    vals = scores[rows]
    if len(rows) > k:
        kth = np.partition(vals, len(vals) - k)[len(vals) - k]  # the k-th largest score
        above = vals > kth
        tied = np.flatnonzero(vals == kth)[: k - int(above.sum())]  # lowest rows among the tied
        keep = np.concatenate([np.flatnonzero(above), tied])
        rows, vals = rows[keep], vals[keep]
    order = np.lexsort((rows, -vals))
    return [(int(rows[i]), float(vals[i])) for i in order]


_TERMS_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def content_terms(text: str) -> set[str]:
    """The stemmed words of ``text`` without English stop words, as the BM25 index sees them (bm25s's
    own tokenizer, stop words and Snowball stemmer).

    >>> sorted(content_terms("Who recognized the leaders?"))
    ['leader', 'recogn', 'who']
    """
    import bm25s

    with _TERMS_LOCK:  # PyStemmer objects are not thread-safe
        (terms,) = bm25s.tokenize(text, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)
    return set(terms)
