"""Loading one generation into an :class:`IndexSnapshot`: what retrieval reads.

Every checksum is verified and the vector index built from the segments. When the previous snapshot
of the same index is given, what the two share is reused (articles, chunks, a copy of the vector
index) and only the new segments are read and verified, so a reload after an update costs time in
proportion to what the update added.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.encoding import chunk_texts
from qa.errors import IndexUnusableError
from qa.lexical import LexicalIndex
from qa.store.bm25 import assemble, load_saved, rows_by_article, segment_terms
from qa.store.files import (
    CHUNKS,
    READ_ERRORS,
    check_chunk_ids,
    read_manifest,
    unreadable,
    verify_checksums,
)
from qa.store.legacy import load_format_1
from qa.store.records import FORMAT_VERSION, ChunkRow, FileEntry, Manifest, Segment
from qa.store.segments import live_batches, read_articles
from qa.store.vectors import VectorIndex, VectorIndexSettings, read_trained
from qa.types import Article, Chunk


@dataclass(frozen=True)
class IndexSnapshot:
    """One loaded generation of the index: read-only for retrieval."""

    generation: str
    manifest: Manifest
    articles: dict[str, Article]
    chunks: list[Chunk]
    vectors: VectorIndex
    lexical: LexicalIndex  # rows are positions in ``chunks``
    chunk_by_id: dict[int, Chunk] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "chunk_by_id", {c.id: c for c in self.chunks})

    @property
    def fingerprint(self) -> dict[str, list[int]]:
        return dict(self.manifest.fingerprint)


@dataclass(frozen=True)
class LoadSettings:
    """How a generation is loaded: the approximate search's settings and BM25's parameters."""

    vectors: VectorIndexSettings
    k1: float
    b: float


def load_generation(gdir: Path, verify: bool, settings: LoadSettings,
                    previous: IndexSnapshot | None = None) -> IndexSnapshot:
    """The generation in ``gdir``, reusing what it shares with ``previous`` (a snapshot of the same index);
    raises :class:`IndexUnusableError` when it is damaged or inconsistent."""
    manifest = read_manifest(gdir)
    if manifest.format == 1:
        return _load_format_1(gdir, manifest, verify, settings)
    try:
        prev, shared = _reusable(manifest, previous)
        reuse_vectors = prev is not None and prev.manifest.vector_index == manifest.vector_index
        checksums: dict[str, FileEntry] = dict(manifest.checksums)
        for seg in manifest.segments:
            if seg.name not in shared or not reuse_vectors:
                checksums.update(seg.files)
        if verify:
            verify_checksums(gdir, checksums)
        entries = manifest.articles
        articles: dict[str, Article] = {}
        if prev is not None:
            articles = {aid: prev.articles[aid] for aid, e in entries.items() if e.segment in shared}
        for seg in manifest.segments:
            if seg.name not in shared:
                articles.update((a.id, a) for a in read_articles(gdir, seg, entries))
        known = prev.chunk_by_id if prev is not None else {}
        prev_articles = prev.articles if prev is not None else {}
        chunks: list[Chunk] = []
        with open(gdir / CHUNKS, encoding="utf-8") as f:
            for line in f:
                cid, aid, start, end = json.loads(line)
                c = known.get(cid)
                if c is None or c.article_id != aid or c.start != start or c.end != end \
                        or prev_articles.get(aid) is not articles[aid]:
                    c = Chunk(id=cid, article_id=aid, start=start, end=end, text=articles[aid].text[start:end])
                chunks.append(c)
        live = np.fromiter((c.id for c in chunks), dtype=np.int64, count=len(chunks))
        check_chunk_ids(gdir, live, manifest.next_chunk_id)
        if reuse_vectors:
            assert prev is not None
            # the previous snapshot's index, copied (readers may still search it), minus what was dropped,
            # plus the vectors of the new segments (a merged segment also holds old ones)
            had = np.fromiter(known.keys(), dtype=np.int64, count=len(known))
            fresh = np.setdiff1d(live, had)
            new_segments = [s for s in manifest.segments if s.name not in shared]
            vectors = prev.vectors.updated(np.setdiff1d(had, live), live_batches(gdir, new_segments, fresh))
        else:
            layout = manifest.vector_index
            trained = read_trained(str(gdir / layout.trained_file)) if layout.trained_file else None
            vectors = VectorIndex.build(layout, trained, int(manifest.signature["dim"]),
                                        live_batches(gdir, list(manifest.segments), live), settings.vectors)
    except IndexUnusableError:
        raise
    except READ_ERRORS as e:
        raise unreadable(gdir, e) from e
    if len(vectors) != len(chunks) or len(articles) != len(entries):
        raise IndexUnusableError(
            f"index generation {gdir} is inconsistent: {len(vectors)} vectors, {len(chunks)} chunks, "
            f"{len(articles)} of {len(entries)} articles"
        )
    saved = load_saved(gdir, manifest.lexical, len(chunks), settings.k1, settings.b, verify)
    lexical = saved if saved is not None else _build_lexical(gdir, manifest, chunks, articles, settings)
    return IndexSnapshot(gdir.name, manifest, articles, chunks, vectors, lexical)


def _load_format_1(gdir: Path, manifest: Manifest, verify: bool, settings: LoadSettings) -> IndexSnapshot:
    articles, chunks, vectors = load_format_1(gdir, manifest, verify)
    lexical = LexicalIndex(chunk_texts(articles, chunks), settings.k1, settings.b)
    return IndexSnapshot(gdir.name, manifest, articles, chunks, vectors, lexical)


def _build_lexical(gdir: Path, manifest: Manifest, chunks: list[Chunk], articles: dict[str, Article],
                   settings: LoadSettings) -> LexicalIndex:
    """BM25 of a generation that has none saved (or one built otherwise): from its segments' term ids,
    tokenising the chunks of segments that have none."""
    rows = [ChunkRow(c.id, c.article_id, c.start, c.end) for c in chunks]
    by_article = rows_by_article(rows)
    try:
        parts = [segment_terms(gdir, seg, manifest.articles, by_article, articles.values)[0]
                 for seg in manifest.segments]
        terms = assemble(np.array([c.id for c in chunks], dtype=np.int64), parts)
    except READ_ERRORS as e:
        raise unreadable(gdir, e) from e
    return LexicalIndex.from_terms(terms, settings.k1, settings.b)


def _reusable(manifest: Manifest, prev: IndexSnapshot | None) -> tuple[IndexSnapshot | None, set[str]]:
    """``prev``, when the generation being loaded shares segments with it, and the names of those segments
    (same name and same checksums: immutable, so already verified and in memory)."""
    if prev is None or prev.manifest.format != FORMAT_VERSION or prev.manifest.signature != manifest.signature:
        return None, set()
    before = {s.name: s.files for s in prev.manifest.segments}
    shared = {s.name for s in manifest.segments if before.get(s.name) == s.files}
    # every article of a shared segment must be in the previous snapshot (it is, unless it was rebuilt)
    shared -= {e.segment for aid, e in manifest.articles.items() if e.segment in shared and aid not in prev.articles}
    return (prev, shared) if shared else (None, set())


def verify_generation(gdir: Path, manifest: Manifest) -> None:
    """Check every file of a format-2 generation against its checksum."""
    try:
        verify_checksums(gdir, manifest.all_files())
    except IndexUnusableError:
        raise
    except READ_ERRORS as e:
        raise unreadable(gdir, e) from e


def read_snapshot_vectors(gdir: Path, snapshot: IndexSnapshot) -> tuple[np.ndarray, np.ndarray]:
    """The chunk ids and float32 vectors of a loaded generation, read from its segments."""
    if snapshot.manifest.format == 1:
        return snapshot.vectors.flat_contents()
    segments: list[Segment] = list(snapshot.manifest.segments)
    live = np.array(sorted(c.id for c in snapshot.chunks), dtype=np.int64)
    parts = list(live_batches(gdir, segments, live))
    if not parts:
        return np.zeros(0, np.int64), np.zeros((0, int(snapshot.manifest.signature["dim"])), np.float32)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
