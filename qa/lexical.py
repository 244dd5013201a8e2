"""BM25 keyword search over chunks (bm25s, with English stop words and Snowball stemming).

    from qa.lexical import LexicalIndex
    lex = LexicalIndex(["Guaido slipped out of Venezuela", "Russia backs Maduro"])
    lex.search(["Who slipped out?"], k=1)    # -> [[(0, 1.23)]]: (row, BM25 score)
    LexicalIndex(texts, cache_key="...")     # saved once, then loaded instead of rebuilt

Building the index tokenises and stems every text: seconds for ten thousand chunks, the largest cost of
opening an index. With a ``cache_key`` naming the texts' content (the retriever uses the index
generation's checksums) it is built once, saved under ``bm25/`` of :func:`qa.config.cache_dir` and
loaded by later processes; the newest :data:`KEEP` are kept.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

CACHE_FORMAT = 1  # bump when what is saved changes
#: Saved indexes kept in the cache (least recently used ones are deleted beyond this)
KEEP = 8


class LexicalIndex:
    """A BM25 index over a list of texts; results are row numbers in that list with their scores.

    ``texts`` may be a function returning them, so that a cached index never computes them.
    """

    def __init__(self, texts: Sequence[str] | Callable[[], Sequence[str]], k1: float = 1.2, b: float = 0.75,
                 cache_key: str | None = None) -> None:
        import bm25s
        import Stemmer
        from bm25s.tokenization import Tokenizer

        # bm25s sets its own logger to DEBUG when imported, which would print its progress notes
        logging.getLogger("bm25s").setLevel(logging.WARNING)

        self._tokenizer = Tokenizer(stemmer=Stemmer.Stemmer("english"), stopwords="en")
        self._lock = threading.Lock()  # the stemmer and tokenizer are not thread-safe
        folder = _cache_folder(cache_key, k1, b) if cache_key else None
        if folder is not None and self._load(folder):
            return
        texts = list(texts() if callable(texts) else texts)
        self.size = len(texts)
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        if self.size:
            ids = self._tokenizer.tokenize(texts, update_vocab=True, return_as="ids", show_progress=False)
            self._bm25.index(ids, show_progress=False)
            if folder is not None and self._bm25.nonoccurrence_array is None:  # the default BM25 has none
                self._save(folder)

    def _load(self, folder: Path) -> bool:
        import bm25s

        try:
            meta = json.loads((folder / META).read_text())
            arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in ARRAYS}
            self._tokenizer.load_vocab(str(folder))
        except (OSError, ValueError, KeyError, EOFError) as e:  # missing, half-deleted or damaged: build instead
            if folder.exists():  # damaged: removed, so that the rebuilt index can take its place
                log.debug("BM25 cache %s unusable (%s); rebuilding it", folder, e)
                shutil.rmtree(folder, ignore_errors=True)
            return False
        bm25 = bm25s.BM25(k1=meta["k1"], b=meta["b"])
        bm25.scores = {"data": arrays["data"], "indices": arrays["indices"], "indptr": arrays["indptr"],
                       "num_docs": int(meta["num_docs"])}
        bm25.unique_token_ids_set = set(arrays["token_ids"].tolist())
        bm25.nonoccurrence_array = None  # as index() leaves it for the default (Lucene) BM25
        self._bm25, self.size = bm25, int(meta["size"])
        try:
            os.utime(folder)  # recently used: kept by the pruning below
        except OSError:
            pass
        return True

    def _save(self, folder: Path) -> None:
        """Write the index next to its final place and rename it there; an unwritable cache only costs
        the next process a rebuild."""
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
            try:
                scores = self._bm25.scores
                arrays = {"data": scores["data"], "indices": scores["indices"], "indptr": scores["indptr"],
                          "token_ids": np.array(sorted(self._bm25.unique_token_ids_set), dtype=np.int64)}
                for name in ARRAYS:
                    np.save(tmp / f"{name}.npy", np.asarray(arrays[name]), allow_pickle=False)
                self._tokenizer.save_vocab(str(tmp))
                (tmp / META).write_text(json.dumps({"size": self.size, "num_docs": int(scores["num_docs"]),
                                                    "k1": self._bm25.k1, "b": self._bm25.b}))
                tmp.chmod(0o755)
                os.replace(tmp, folder)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            _prune(folder.parent)
        except OSError as e:
            if not folder.exists():  # another process renaming the same index first is fine
                log.debug("BM25 cache not written (%s)", e)

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


META = "lexical.json"
ARRAYS = ("data", "indices", "indptr", "token_ids")


def _cache_folder(key: str, k1: float, b: float) -> Path:
    from importlib.metadata import version

    from qa.config import cache_dir

    parts = [key, k1, b, CACHE_FORMAT, version("bm25s"), version("PyStemmer")]
    return cache_dir() / "bm25" / hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:20]


def _prune(root: Path) -> None:
    """Delete all but the :data:`KEEP` most recently used saved indexes (a process reading one that is
    deleted keeps its open files)."""
    try:
        entries = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                         key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in entries[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)


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
