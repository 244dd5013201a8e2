"""Format 1, written by the first versions: one ``faiss.index`` (exact), ``articles.jsonl`` and
``chunks.jsonl`` per generation, and a manifest recording each file's SHA-256 alone.

Such a generation is read as it is; the next update converts it into a format-2 generation with a
single segment, without re-embedding (the vectors are read back from the exact FAISS index).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from qa.errors import IndexUnusableError
from qa.store.files import READ_ERRORS, check_chunk_ids, unreadable, verify_checksums
from qa.store.records import ArticleEntry, ChunkRow, Manifest
from qa.store.segments import NewSegment, article_from_record, segment_name
from qa.store.vectors import VectorIndex, read_trained
from qa.types import Article, Chunk

FILES = ("faiss.index", "articles.jsonl", "chunks.jsonl")


def load_format_1(gdir: Path, manifest: Manifest, verify: bool) -> tuple[dict[str, Article], list[Chunk], VectorIndex]:
    """The articles, chunks and vector index of a format-1 generation."""
    try:
        if verify:
            verify_checksums(gdir, {name: manifest.checksums[name] for name in FILES})
        articles: dict[str, Article] = {}
        with open(gdir / "articles.jsonl", encoding="utf-8") as f:
            for line in f:
                a = article_from_record(json.loads(line))
                articles[a.id] = a
        chunks: list[Chunk] = []
        with open(gdir / "chunks.jsonl", encoding="utf-8") as f:
            for line in f:
                cid, aid, start, end = json.loads(line)
                chunks.append(Chunk(id=cid, article_id=aid, start=start, end=end, text=articles[aid].text[start:end]))
        check_chunk_ids(gdir, np.array([c.id for c in chunks], dtype=np.int64), manifest.next_chunk_id)
        vectors = VectorIndex(read_trained(str(gdir / "faiss.index")))
    except IndexUnusableError:
        raise
    except READ_ERRORS as e:
        raise unreadable(gdir, e) from e
    if len(vectors) != len(chunks):
        raise IndexUnusableError(
            f"index generation {gdir} is inconsistent: {len(vectors)} vectors, {len(chunks)} chunks")
    return articles, chunks, vectors


def as_segment(articles: dict[str, Article], chunks: list[Chunk],
               vectors: VectorIndex) -> tuple[NewSegment, list[ChunkRow], dict[str, ArticleEntry]]:
    """A format-1 generation as the one segment of a format-2 generation: the segment, the chunk table and
    the manifest's article entries."""
    ids, flat = vectors.flat_contents()
    arts = tuple(sorted(articles.values(), key=lambda a: a.id))
    seg = NewSegment(segment_name(1), ids, flat, arts)
    rows = [ChunkRow(c.id, c.article_id, c.start, c.end) for c in chunks]
    return seg, rows, {a.id: ArticleEntry.of(a, seg.name) for a in arts}
