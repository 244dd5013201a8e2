"""Segments: reading their vectors and articles, and the policy that keeps their number logarithmic.

A segment's files never change once written; a later generation hard-links them. Vectors of removed
or changed articles stay in their segment until a merge drops them. :func:`merge_start` decides which
segments to merge (a pure function of their sizes); :func:`merge` reads them and returns the one
segment that replaces them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from qa.store.bm25 import ChunkTerms, combine, rows_by_article, segment_terms
from qa.store.files import verify_checksums
from qa.store.records import ArticleEntry, ChunkRow, Segment
from qa.types import Article

log = logging.getLogger(__name__)

#: merge everything once there are more segments than this, whatever their sizes
MAX_SEGMENTS = 48
#: rows of vectors read at a time while loading
LOAD_BATCH = 65_536


@dataclass(frozen=True)
class NewSegment:
    """A segment about to be written: its vectors (with chunk ids), article records and their chunks' terms."""

    name: str
    ids: np.ndarray
    vectors: np.ndarray
    articles: tuple[Article, ...]
    terms: ChunkTerms | None = None

    @property
    def size(self) -> int:
        return max(len(self.ids), len(self.articles))


def segment_name(number: int) -> str:
    return f"seg-{number:06d}"


def merge_start(sizes: list[int], n_new: int, stored: int, live: int) -> int | None:
    """Where the merged tail of the segments starts, or ``None`` when nothing is merged.

    ``sizes`` are the segments' sizes, oldest first, the last ``n_new`` of them about to be written;
    ``stored`` vectors are held by all of them, ``live`` of those belong to live chunks. The newest
    segments are merged while the last is at least as large as the one before it (so sizes halve going
    back and there are O(log n) segments); all are merged when dead vectors outnumber live ones or
    there are more than :data:`MAX_SEGMENTS`. A merge always takes at least one old segment.
    """
    n_old = len(sizes) - n_new
    if stored > 2 * live + 1024 or len(sizes) > MAX_SEGMENTS:
        cut = 0
    else:
        sizes = list(sizes)
        cut = len(sizes)
        while cut >= 2 and sizes[cut - 1] >= sizes[cut - 2]:
            sizes[cut - 2] += sizes[cut - 1]
            cut -= 1
        cut -= 1  # index of the first part of the merged tail
        if n_new and cut == n_old:
            return None
        if not n_new and cut >= n_old - 1:
            return None
    return cut if cut < n_old else None


def merge(gdir: Path, old: list[Segment], new: list[NewSegment], rows: list[ChunkRow],
          entries: Mapping[str, ArticleEntry], name: str, dim: int) -> NewSegment:
    """One segment ``name`` holding the live vectors, current articles and their terms of ``old``
    (segments of the generation in ``gdir``, checksums verified) and ``new``; ``rows`` are the live chunks."""
    log.info("Merging %d index segments", len(old) + len(new))
    live = np.fromiter((r.id for r in rows), dtype=np.int64, count=len(rows))
    by_article = rows_by_article(rows)
    ids_parts, vec_parts, arts, terms = [], [], [], []
    for seg in old:
        verify_checksums(gdir, seg.files)
        ids, vecs = read_vectors(gdir, seg)
        mask = np.isin(ids, live)
        ids_parts.append(ids[mask])
        vec_parts.append(np.asarray(vecs[mask], dtype=np.float32))
        held = list(read_articles(gdir, seg, entries))
        arts.extend(held)
        terms.append(segment_terms(gdir, seg, entries, by_article, partial(list, held))[0])
    for n in new:
        ids_parts.append(n.ids)
        vec_parts.append(n.vectors)
        arts.extend(n.articles)
        if n.terms is not None:
            terms.append(n.terms)
    return NewSegment(name, np.concatenate(ids_parts) if ids_parts else np.zeros(0, np.int64),
                      np.concatenate(vec_parts) if vec_parts else np.zeros((0, dim), np.float32),
                      tuple(sorted(arts, key=lambda a: a.id)), combine(terms))


def read_vectors(gdir: Path, seg: Segment) -> tuple[np.ndarray, np.ndarray]:
    """A segment's chunk ids and (memory-mapped) vectors."""
    ids = np.load(gdir / seg.file("ids.npy"), allow_pickle=False)
    vectors = np.load(gdir / seg.file("vectors.npy"), allow_pickle=False, mmap_mode="r")
    if len(ids) != len(vectors) or len(ids) != seg.n_vectors:
        raise ValueError(
            f"segment {seg.name} holds {len(ids)} ids and {len(vectors)} vectors, expected {seg.n_vectors}")
    return ids, vectors


def live_batches(gdir: Path, segments: list[Segment], live: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The (ids, vectors) of ``segments`` whose ids are in ``live``, in batches of at most ``LOAD_BATCH`` rows."""
    for seg in segments:
        ids, vectors = read_vectors(gdir, seg)
        for lo in range(0, len(ids), LOAD_BATCH):
            part = ids[lo:lo + LOAD_BATCH]
            mask = np.isin(part, live)
            if mask.any():
                yield part[mask], np.asarray(vectors[lo:lo + LOAD_BATCH][mask], dtype=np.float32)


def read_articles(gdir: Path, seg: Segment, entries: Mapping[str, ArticleEntry]) -> Iterator[Article]:
    """The articles stored in ``seg`` that the manifest ``entries`` still place there."""
    with open(gdir / seg.file("articles.jsonl"), encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            e = entries.get(d["id"])
            if e is not None and e.segment == seg.name:
                yield article_from_record(d)


def article_from_record(d: dict) -> Article:
    """An article as a segment's ``articles.jsonl`` holds it; a record written before dates were recorded has
    none (``date`` ``None``)."""
    return Article(id=d["id"], title=d["title"], text=d["text"], source=d["source"], content_hash=d["content_hash"],
                   duplicates=tuple(d.get("duplicates", ())), date=d.get("date"), date_source=d.get("date_source"))


def sample_vectors(gdir: Path | None, segments: list[Segment], new: list[NewSegment], live: np.ndarray,
                   size: int, dim: int) -> np.ndarray:
    """``size`` live vectors drawn at random from the segments (to train an approximate structure on)."""
    rng = np.random.default_rng(len(live))
    pick = np.sort(rng.choice(live, size=min(size, len(live)), replace=False)) if len(live) else live
    parts = []
    for seg in segments:
        assert gdir is not None
        ids, vecs = read_vectors(gdir, seg)
        parts.append(np.asarray(vecs[np.isin(ids, pick)], dtype=np.float32))
    for n in new:
        parts.append(n.vectors[np.isin(n.ids, pick)])
    return np.concatenate(parts) if parts else np.zeros((0, dim), np.float32)
