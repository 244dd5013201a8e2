"""Writing a generation so that a crash at any moment leaves the index usable.

A generation is written into a temporary folder: the kept segments' files hard-linked from the
generation it continues, the new segments, the chunk table and the manifest, each flushed to disk
(:func:`qa.fileio.write_synced`); the folder is renamed into place, and only then is ``CURRENT``
swapped (``os.replace``, then the folder flushed). Chunk ids are checked before anything is switched.
Every write of the store goes through this module, so a full or read-only disk is met here.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.fileio import fsync_dir, write_synced
from qa.store.bm25 import SEGMENT_PART, ChunkTerms
from qa.store.files import (
    CHUNKS,
    CURRENT,
    MANIFEST,
    check_chunk_ids,
    encode_chunk_table,
    encode_jsonl,
    encode_npy,
    generations,
    link_or_copy,
    row_ids,
)
from qa.store.records import (
    FORMAT_VERSION,
    ArticleEntry,
    ChunkRow,
    FileEntry,
    LexicalRecord,
    Manifest,
    Segment,
)
from qa.store.segments import NewSegment
from qa.store.vectors import VectorLayout, serialize
from qa.types import Article

#: generations kept besides the live one (a reader may still be loading the previous one)
GENERATIONS_KEPT = 2


@dataclass(frozen=True)
class Draft:
    """Everything a new generation holds. ``base`` is the generation it continues (its kept segments and
    trained structure are linked from there; ``None`` for a first or rebuilt index)."""

    base: str | None
    base_checksums: Mapping[str, FileEntry]
    kept: Sequence[Segment]
    new: Sequence[NewSegment]
    rows: Sequence[ChunkRow]
    entries: Mapping[str, ArticleEntry]
    layout: VectorLayout
    trained: Any  # a newly trained FAISS structure to write, or None
    next_chunk_id: int
    next_segment: int
    fingerprint: Mapping[str, list[int]]
    table: bytes | None = None  # the chunk table already encoded, when it is
    lexical: tuple[LexicalRecord, Mapping[str, bytes]] | None = None  # the BM25 index and its files
    kept_terms: Mapping[str, ChunkTerms] = field(default_factory=dict)  # term ids for kept segments that had none


@dataclass(frozen=True)
class Identity:
    """What every manifest of one index records about how it was made."""

    signature: Mapping[str, Any]
    embedder: Mapping[str, Any]
    splitter: Mapping[str, Any]


class GenerationWriter:
    """Writes generations of the index in ``folder`` (the caller holds the write lock)."""

    def __init__(self, folder: Path, identity: Identity) -> None:
        self.dir = folder
        self.identity = identity

    def check_writable(self, articles: Sequence[Article], chunk_size: int, chunk_overlap: int, dim: int) -> None:
        """Raise the ``OSError`` an update would meet on a full or read-only disk before embedding, not after:
        a tiny flushed write, then the free space against a low estimate of what ``articles`` take."""
        probe = self.dir / f".write-test-{os.getpid()}"
        try:
            write_synced(probe, b"\n")
        finally:
            with contextlib.suppress(OSError):
                probe.unlink()
        step = chunk_size - chunk_overlap
        n_chunks = sum(len(a.text) // step + 1 for a in articles)
        need = sum(len(a.text.encode()) for a in articles) + n_chunks * (4 * dim + 8)
        free = shutil.disk_usage(self.dir).free
        if free < need:
            raise OSError(errno.ENOSPC, f"No space left on device (the update needs at least {_size(need)}, "
                                        f"{_size(free)} are free)", str(self.dir))

    def next_name(self) -> str:
        return f"gen-{max((int(g[4:]) for g in generations(self.dir)), default=0) + 1:06d}"

    def write(self, draft: Draft) -> str:
        """Write ``draft`` as the next generation and make it the live one; returns its name."""
        gen = self.next_name()
        # the last guard before anything is switched: ids that repeat or reach next_id would corrupt every later update
        check_chunk_ids(self.dir / gen, row_ids(draft.rows), draft.next_chunk_id)
        base = self.dir / draft.base if draft.base else None
        tmp = self.dir / f".tmp-{gen}-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        try:
            checksums: dict[str, FileEntry] = {}
            segments = []
            for seg in draft.kept:
                assert base is not None
                terms = draft.kept_terms.get(seg.name)
                for name in seg.files:
                    if terms is None or name != seg.file(SEGMENT_PART):
                        link_or_copy(base / name, tmp / name)
                if terms is not None:  # the segment's files stay as they are; it gains its term ids
                    data = terms.to_bytes()
                    write_synced(tmp / seg.file(SEGMENT_PART), data)
                    seg = replace(seg, files={**seg.files, seg.file(SEGMENT_PART): FileEntry.of(data)})
                segments.append(seg)
            for n in draft.new:
                files = {}
                parts = [("vectors.npy", encode_npy(np.asarray(n.vectors, dtype=np.float32))),
                         ("ids.npy", encode_npy(np.asarray(n.ids, dtype=np.int64))),
                         ("articles.jsonl", encode_jsonl(a.to_dict() for a in n.articles))]
                if n.terms is not None:
                    parts.append((SEGMENT_PART, n.terms.to_bytes()))
                for part, data in parts:
                    write_synced(tmp / f"{n.name}.{part}", data)
                    files[f"{n.name}.{part}"] = FileEntry.of(data)
                segments.append(Segment(n.name, len(n.ids), len(n.articles), files))
            layout = draft.layout
            if draft.trained is not None:
                layout = VectorLayout(layout.kind, layout.nlist, layout.trained_on, f"ivf-{gen}.faiss")
                data = serialize(draft.trained)
                write_synced(tmp / layout.trained_file, data)  # type: ignore[operator]
                checksums[layout.trained_file] = FileEntry.of(data)  # type: ignore[index]
            elif layout.trained_file is not None:
                assert base is not None
                link_or_copy(base / layout.trained_file, tmp / layout.trained_file)
                checksums[layout.trained_file] = draft.base_checksums[layout.trained_file]
            lexical = None
            if draft.lexical is not None:
                lexical, lexical_files = draft.lexical
                for name, data in lexical_files.items():
                    write_synced(tmp / name, data)
            data = draft.table if draft.table is not None else encode_chunk_table(draft.rows)
            write_synced(tmp / CHUNKS, data)
            checksums[CHUNKS] = FileEntry.of(data)
            manifest = Manifest(
                format=FORMAT_VERSION,
                signature=dict(self.identity.signature),
                embedder=dict(self.identity.embedder),
                splitter=dict(self.identity.splitter),
                created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                n_articles=len(draft.entries),
                n_chunks=len(draft.rows),
                next_chunk_id=draft.next_chunk_id,
                next_segment=draft.next_segment,
                vector_index=layout,
                segments=tuple(segments),
                articles=dict(draft.entries),
                fingerprint=dict(draft.fingerprint),
                checksums=checksums,
                lexical=lexical,
            )
            write_synced(tmp / MANIFEST, manifest.to_bytes())
            os.replace(tmp, self.dir / gen)
            self.set_current(gen)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return gen

    def set_current(self, gen: str) -> None:
        tmp = self.dir / f".{CURRENT}.tmp-{os.getpid()}"
        write_synced(tmp, (gen + "\n").encode())
        os.replace(tmp, self.dir / CURRENT)
        fsync_dir(self.dir)

    def rewrite_manifest(self, gen: str, manifest: Manifest) -> None:
        """Replace a generation's manifest (to record new file times: the articles themselves are unchanged)."""
        gdir = self.dir / gen
        tmp = gdir / f".manifest.tmp-{os.getpid()}"
        try:
            write_synced(tmp, manifest.to_bytes())
            os.replace(tmp, gdir / MANIFEST)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    def prune(self, keep: str, damaged: Mapping[str, str]) -> None:
        """Delete old generations, keeping the newest few intact ones besides ``keep``. A generation found
        ``damaged`` does not count among them, so the intact one before it survives."""
        gens = generations(self.dir)
        kept = {keep, *[g for g in gens if g not in damaged][:GENERATIONS_KEPT]}
        for name in gens:
            if name not in kept:
                shutil.rmtree(self.dir / name, ignore_errors=True)
        for p in self.dir.glob(".tmp-gen-*"):
            shutil.rmtree(p, ignore_errors=True)


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
