"""BM25 in the store: term ids kept with the segments, the assembled index saved with the generation.

Each segment written since BM25 moved into the store holds ``NAME.terms.npz``: the term ids of the
chunks of the articles it holds (:class:`ChunkTerms`, with the segment's own term list). An update
tokenises and stems only the chunks it writes; the generation's BM25 is assembled from the segments'
term ids (:func:`assemble`; the global statistics are recomputed, which is cheap) and saved as
``bm25.*`` files recorded under ``lexical`` in the manifest. A reader loads those (memory-mapped).

Segments and generations written before have no such files: their chunks are tokenised from the texts
when needed (the next update saves the result). The saved index is derived data: one that is missing,
damaged or built with other parameters is built again, from the term ids, never a reason to refuse a
generation.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.encoding import EMBED_TEXT_VERSION, embed_text
from qa.errors import IndexUnusableError
from qa.lexical import ARRAYS, LexicalIndex, Terms, tokenize, tokenizer_id
from qa.store.files import READ_ERRORS, verify_checksums
from qa.store.records import ArticleEntry, ChunkRow, FileEntry, LexicalRecord, Segment
from qa.types import Article

log = logging.getLogger(__name__)

SEGMENT_PART = "terms.npz"
VOCAB_FILE = "bm25.vocab.json"


def array_file(name: str) -> str:
    return f"bm25.{name}.npy"


@dataclass(frozen=True)
class ChunkTerms:
    """The term ids of some chunks: chunk ``chunk_ids[i]`` holds ``tokens[offsets[i]:offsets[i + 1]]``,
    ids into ``vocab``."""

    chunk_ids: np.ndarray
    offsets: np.ndarray
    tokens: np.ndarray
    vocab: list[str]

    @classmethod
    def of(cls, chunk_ids: Sequence[int], terms: Terms) -> ChunkTerms:
        lengths = np.fromiter((len(d) for d in terms.docs), dtype=np.int64, count=len(terms.docs))
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        tokens = np.fromiter((t for d in terms.docs for t in d), dtype=np.int32, count=int(offsets[-1]))
        return cls(np.asarray(chunk_ids, dtype=np.int64), offsets, tokens, list(terms.vocab))

    def select(self, mask: np.ndarray) -> ChunkTerms:
        """The chunks where ``mask`` is true (the term list is kept as it is)."""
        rows = np.flatnonzero(mask)
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        lengths = ends - starts
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return ChunkTerms(self.chunk_ids[rows], offsets, self.tokens[_ranges(starts, lengths)], self.vocab)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, chunk_ids=self.chunk_ids, offsets=self.offsets, tokens=self.tokens,
                 vocab=np.array(self.vocab, dtype=str), tokenizer=np.array(tokenizer_id()),
                 text_version=np.array(EMBED_TEXT_VERSION))
        return buf.getvalue()

    @classmethod
    def read(cls, path: Path) -> ChunkTerms | None:
        """The terms saved in ``path``; ``None`` when they were made by another tokenizer or for other texts."""
        with np.load(path, allow_pickle=False) as z:
            if str(z["tokenizer"]) != tokenizer_id() or int(z["text_version"]) != EMBED_TEXT_VERSION:
                return None
            terms = cls(z["chunk_ids"], z["offsets"], z["tokens"], [str(t) for t in z["vocab"]])
        if len(terms.offsets) != len(terms.chunk_ids) + 1 or int(terms.offsets[-1]) != len(terms.tokens):
            raise ValueError(f"{path} is inconsistent")
        return terms


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenation of ``range(s, s + n)`` for each start ``s`` and length ``n``."""
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, np.int64)
    ends = np.cumsum(lengths)
    firsts = np.repeat(starts - (ends - lengths), lengths)
    return firsts + np.arange(total)


def tokenize_chunks(articles: Mapping[str, Article], rows: Sequence[ChunkRow]) -> ChunkTerms:
    """Tokenise and stem what is indexed for each chunk (:func:`qa.encoding.embed_text`)."""
    texts = [embed_text(articles[r.article_id].title, articles[r.article_id].text[r.start:r.end], r.start)
             for r in rows]
    return ChunkTerms.of([r.id for r in rows], tokenize(texts))


def combine(parts: Sequence[ChunkTerms]) -> ChunkTerms:
    """One :class:`ChunkTerms` holding the chunks of all ``parts`` (for a merged segment)."""
    index: dict[str, int] = {}  # term -> id, in order of first appearance
    ids, offsets, tokens = [], [np.zeros(1, np.int64)], []
    at = 0
    for p in parts:
        lookup = np.array([index.setdefault(t, len(index)) for t in p.vocab], dtype=np.int32)
        ids.append(p.chunk_ids)
        offsets.append(p.offsets[1:] + at)
        tokens.append(lookup[p.tokens] if len(p.tokens) else np.zeros(0, np.int32))
        at += int(p.offsets[-1])
    return ChunkTerms(np.concatenate(ids) if ids else np.zeros(0, np.int64), np.concatenate(offsets),
                      np.concatenate(tokens) if tokens else np.zeros(0, np.int32), list(index))


def assemble(order: np.ndarray, parts: Sequence[ChunkTerms]) -> Terms:
    """The :class:`~qa.lexical.Terms` of the chunks ``order`` (chunk ids, in the index's row order), from
    ``parts`` that hold them all, numbered as tokenising their texts in that order would number them."""
    both = combine(parts)
    sort = np.argsort(both.chunk_ids, kind="stable")
    at = np.searchsorted(both.chunk_ids[sort], order)
    found = both.chunk_ids[sort[np.minimum(at, len(sort) - 1)]] if len(sort) else np.zeros(0, np.int64)
    if len(order) and not np.array_equal(found, order):
        raise ValueError("the segments' terms do not cover every chunk")
    rows = sort[at]
    starts, lengths = both.offsets[rows], both.offsets[rows + 1] - both.offsets[rows]
    keys = both.tokens[_ranges(starts, lengths)].astype(np.int64)
    # "" is the tokenizer's first term; the others are numbered where they first occur
    empty = both.vocab.index("") if "" in both.vocab else -1
    uniq, first = np.unique(keys, return_index=True)
    seen = uniq[np.argsort(first, kind="stable")]
    seen = seen[seen != empty]
    number = np.zeros(len(both.vocab), dtype=np.int64)
    number[seen] = np.arange(1, len(seen) + 1)
    vocab = [""] + [both.vocab[k] for k in seen]
    ids = number[keys]
    bounds = np.cumsum(lengths)[:-1]
    return Terms(vocab, [d.tolist() for d in np.split(ids, bounds)] if len(order) else [])


def segment_terms(gdir: Path, seg: Segment, entries: Mapping[str, ArticleEntry],
                  rows_of: Mapping[str, list[ChunkRow]],
                  articles: Callable[[], Iterable[Article]]) -> tuple[ChunkTerms, bool]:
    """The terms of the live chunks of the articles ``entries`` place in ``seg``: those it saved, else
    tokenised from ``articles()`` (which yields at least those articles); and whether they were tokenised
    (then worth saving with the segment)."""
    placed = [aid for aid, e in entries.items() if e.segment == seg.name]
    want = np.array(sorted(r.id for aid in placed for r in rows_of.get(aid, ())), dtype=np.int64)
    saved = None
    name = seg.file(SEGMENT_PART)
    if name in seg.files:
        try:
            saved = ChunkTerms.read(gdir / name)
        except READ_ERRORS as e:
            log.debug("BM25 terms of %s unusable (%s); tokenising them again", seg.name, e)
    if saved is not None:
        have = np.isin(want, saved.chunk_ids)
        if have.all():
            return saved.select(np.isin(saved.chunk_ids, want)), False
    by_id = {a.id: a for a in articles() if a.id in entries and entries[a.id].segment == seg.name}
    return tokenize_chunks(by_id, [r for aid in placed for r in rows_of.get(aid, ())]), True


def rows_by_article(rows: Iterable[ChunkRow]) -> dict[str, list[ChunkRow]]:
    out: dict[str, list[ChunkRow]] = {}
    for r in rows:
        out.setdefault(r.article_id, []).append(r)
    return out


def encode(index: LexicalIndex) -> tuple[LexicalRecord, dict[str, bytes]]:
    """The files that save ``index`` with a generation, and their manifest record."""
    files: dict[str, bytes] = {}
    for name, array in index.arrays().items():
        buf = io.BytesIO()
        np.save(buf, np.asarray(array), allow_pickle=False)
        files[array_file(name)] = buf.getvalue()
    files[VOCAB_FILE] = json.dumps(index.vocab, ensure_ascii=False).encode()
    record = LexicalRecord(tokenizer_id(), EMBED_TEXT_VERSION, index.k1, index.b, index.size,
                           {name: FileEntry.of(data) for name, data in files.items()})
    return record, files


def load_saved(gdir: Path, record: LexicalRecord | None, n_docs: int, k1: float, b: float,
         verify: bool) -> LexicalIndex | None:
    """The BM25 index saved with a generation, when it is there, intact and built as asked; else ``None``."""
    if record is None or (record.tokenizer, record.text_version, record.k1, record.b, record.n_docs) != \
            (tokenizer_id(), EMBED_TEXT_VERSION, float(k1), float(b), n_docs):
        return None
    try:
        if verify:
            verify_checksums(gdir, record.files)
        arrays = {name: np.load(gdir / array_file(name), mmap_mode="r", allow_pickle=False) for name in ARRAYS}
        vocab = json.loads((gdir / VOCAB_FILE).read_text(encoding="utf-8"))
        if len(arrays["indptr"]) - 1 > len(vocab) + 1:
            raise ValueError("more terms than the term list holds")
    except (IndexUnusableError, *READ_ERRORS) as e:  # derived data: damage means building it again
        log.warning("The saved BM25 index in %s is unusable (%s); building it again", gdir, e)
        return None
    return LexicalIndex.from_arrays(arrays, vocab, n_docs, k1, b)
