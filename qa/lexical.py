"""BM25 keyword search over chunks (bm25s, with English stop words and Snowball stemming).

    from qa.lexical import LexicalIndex, tokenize
    lex = LexicalIndex(["Guaido slipped out of Venezuela", "Russia backs Maduro"])
    lex.search(["Who slipped out?"], k=1)    # -> [[(0, 1.23)]]: (row, BM25 score)
    terms = tokenize(texts)                   # the stemmed terms of each text, as term ids into terms.vocab
    LexicalIndex.from_terms(terms)            # the same index as LexicalIndex(texts), without stemming again
    LexicalIndex.from_arrays(lex.arrays(), lex.vocab, lex.size, k1, b)   # a saved index, as it was

Texts are tokenised by bm25s's tokenizer; the score matrix is bm25s's (Lucene BM25), computed by
:func:`score_arrays` a corpus at a time, and searched by bm25s. Tokenising and stemming is the largest
cost of building an index: the store (:mod:`qa.store.bm25`)
keeps each chunk's term ids with its segment, assembles an index generation's BM25 from them, and
saves the result with the generation, so readers load it instead of building it.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version

import numpy as np

log = logging.getLogger(__name__)

#: the arrays of a built index (bm25s's sparse score matrix, by term)
ARRAYS = ("data", "indices", "indptr")


@functools.lru_cache(maxsize=1)
def tokenizer_id() -> str:
    """What the term ids depend on: saved terms made by another tokenizer or stemmer are not reused."""
    return f"bm25s {version('bm25s')}, PyStemmer {version('PyStemmer')}, english stemmer, stop words en"


def _tokenizer():
    import Stemmer
    from bm25s.tokenization import Tokenizer

    # bm25s sets its own logger to DEBUG when imported, which would print its progress notes
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return Tokenizer(stemmer=Stemmer.Stemmer("english"), stopwords="en")


@dataclass(frozen=True)
class Terms:
    """Tokenised texts: ``docs[i]`` are the term ids of text ``i`` into ``vocab`` (the stemmed terms).

    Ids are numbered as bm25s's tokenizer numbers them over the texts in order: ``""`` (the term of a
    text without any) first, then each term where it first occurs. The same numbering gives the same
    index, so :meth:`LexicalIndex.from_terms` equals :class:`LexicalIndex` of the texts.
    """

    vocab: list[str]
    docs: list[list[int]]


def tokenize(texts: Sequence[str]) -> Terms:
    """The :class:`Terms` of ``texts``."""
    tok = _tokenizer()
    docs = tok.tokenize(list(texts), update_vocab=True, return_as="ids", show_progress=False)
    vocab = [""] * len(tok.stem_to_sid)
    for term, sid in tok.stem_to_sid.items():
        vocab[sid] = term
    return Terms(vocab, docs)


class LexicalIndex:
    """A BM25 index over a list of texts; results are row numbers in that list with their scores."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        terms = tokenize(texts)
        self._load(score_arrays(terms.docs, k1, b), terms.vocab, len(terms.docs), k1, b)

    @classmethod
    def from_terms(cls, terms: Terms, k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        """The index of the texts ``terms`` were made from."""
        return cls.from_arrays(score_arrays(terms.docs, k1, b), terms.vocab, len(terms.docs), k1, b)

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], vocab: list[str], size: int, k1: float,
                    b: float) -> LexicalIndex:
        """A built index from its :meth:`arrays` (which may be memory-mapped), term list and size."""
        index = cls.__new__(cls)
        index._load(arrays, vocab, size, k1, b)
        return index

    def _load(self, arrays: Mapping[str, np.ndarray], vocab: list[str], size: int, k1: float, b: float) -> None:
        import bm25s

        self._set_vocab(vocab)
        bm25 = bm25s.BM25(k1=k1, b=b)
        bm25.scores = {"data": arrays["data"], "indices": arrays["indices"], "indptr": arrays["indptr"],
                       "num_docs": int(size)}
        bm25.unique_token_ids_set = set(range(len(arrays["indptr"]) - 1))
        bm25.nonoccurrence_array = None  # as index() leaves it for the default (Lucene) BM25
        self._bm25, self.size = bm25, int(size)

    def _set_vocab(self, vocab: list[str]) -> None:
        """Questions are tokenised against ``vocab``: words found in no text are dropped."""
        self.vocab = list(vocab)
        self._tokenizer = _tokenizer()
        self._tokenizer.stem_to_sid = {term: i for i, term in enumerate(self.vocab)}
        self._tokenizer.word_to_id = {"": 0} if self.vocab[:1] == [""] else {}
        self._lock = threading.Lock()  # the stemmer and tokenizer are not thread-safe

    def arrays(self) -> dict[str, np.ndarray]:
        """The built index's arrays, to save and give back to :meth:`from_arrays`."""
        return {name: np.asarray(self._bm25.scores[name]) for name in ARRAYS}

    @property
    def k1(self) -> float:
        return float(self._bm25.k1)

    @property
    def b(self) -> float:
        return float(self._bm25.b)

    def search(self, queries: Sequence[str], k: int, rows: np.ndarray | None = None) -> list[list[tuple[int, float]]]:
        """For each query, up to ``k`` ``(row, score)`` pairs with a positive score, best first (ties:
        lower row first). ``rows``, a boolean mask over the rows, keeps the search to the rows it marks."""
        k = min(k, self.size)
        if k <= 0:
            return [[] for _ in queries]
        with self._lock:
            tokenized = self._tokenizer.tokenize(list(queries), update_vocab=False, return_as="ids",
                                                 show_progress=False)
        known = self._bm25.unique_token_ids_set
        out: list[list[tuple[int, float]]] = []
        for ids in tokenized:
            ids = [t for t in ids if t in known]
            if not ids:
                out.append([])
                continue
            scores = self._bm25.get_scores_from_ids(ids)
            if rows is not None:
                scores = np.where(rows, scores, 0)
            out.append(top_k(scores, k))
        return out


def score_arrays(docs: Sequence[Sequence[int]], k1: float, b: float) -> dict[str, np.ndarray]:
    """bm25s's score matrix (default Lucene BM25, float32, CSC by term) for the term ids ``docs``.

    The same arithmetic as ``bm25s.BM25(k1, b).index(docs)``, step by step and in the same types (the
    per-document length factor in float64, products rounded to float32 once, the inverse document
    frequency with :func:`math.log`), so the arrays are bit for bit the same; it works on all documents
    at once where bm25s loops over them in Python, which made every update's BM25 cost seconds.
    """
    n_docs = len(docs)
    lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=n_docs)
    flat = np.fromiter((t for d in docs for t in d), dtype=np.int64, count=int(lengths.sum()))
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    present = np.unique(flat)
    # bm25s adds the empty term's id to the ids it saw: 0, or one past the largest when 0 is used
    n_vocab = len(present) + 1 if len(present) else 1
    if len(present) and int(present[-1]) + 1 != n_vocab and not (present[0] == 0 and int(present[-1]) + 2 == n_vocab):
        raise ValueError("term ids must be numbered from 0 or 1 without gaps")
    pairs, tf = np.unique(doc_of * n_vocab + flat, return_counts=True)  # (document, term) and its frequency
    doc, term = pairs // n_vocab, pairs % n_vocab
    df = np.bincount(term, minlength=n_vocab)
    idf = np.zeros(n_vocab, dtype=np.float32)
    for t in np.flatnonzero(df):
        idf[t] = math.log(1 + (n_docs - int(df[t]) + 0.5) / (int(df[t]) + 0.5))
    avg = lengths.mean() if n_docs else np.float64(0.0)
    norm = k1 * ((1 - b) + b * lengths.astype(np.float64) / avg)
    tf64 = tf.astype(np.float32).astype(np.float64)
    scores = (idf[term].astype(np.float64) * (tf64 / (norm[doc] + tf64))).astype(np.float32)
    order = np.argsort((term << 32) | doc)  # by term, then document: bm25s's CSC layout
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(np.bincount(term, minlength=n_vocab), out=indptr[1:])
    return {"data": scores[order], "indices": doc[order].astype(np.int32), "indptr": indptr}


def top_k(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best positive scores as ``(row, score)``, best first, ties broken by the lower row.

    bm25s's own selection runs ``argpartition`` over every row; most rows score 0, and with that many
    equal values it is slow on large indexes. Selecting among the positive scores only gives the same
    rows and scores, and a defined order for ties.
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


def term_share(terms: set[str], text: str) -> float:
    """Share of ``terms`` (a question's :func:`content_terms`) that ``text`` holds (0 when there are none)."""
    return len(terms & content_terms(text)) / len(terms) if terms else 0.0
