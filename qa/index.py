"""The persisted index: FAISS vectors, chunk and article metadata, and a manifest, under ``vectors/``.

    from qa.index import ChunkIndex
    index = ChunkIndex("vectors", settings, embedder)
    report = index.sync(articles)          # incremental: only new or changed articles are embedded
    snapshot = index.load()                # what retrieval reads

Layout: each write makes a new generation folder (``gen-000042/``) holding ``faiss.index``,
``articles.jsonl``, ``chunks.jsonl`` and ``manifest.json``; the one-line file ``CURRENT`` names the live
generation and is swapped atomically (``os.replace``) only after the generation is complete and
flushed. A crash mid-write leaves ``CURRENT`` on the previous, intact generation. Writers hold a file
lock (``.lock``) so two processes never update one index at once. The manifest records the embedder,
its dimension, the chunking settings, every article's content hash and the SHA-256 of each file, which
is checked on load. Metadata is JSON; nothing is pickled.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.chunking import Chunker
from qa.config import Settings
from qa.embedding import Embedder
from qa.errors import IndexBusyError, IndexUnusableError
from qa.types import Article, Chunk

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CURRENT = "CURRENT"
LOCK = ".lock"
FILES = ("faiss.index", "articles.jsonl", "chunks.jsonl")
GENERATIONS_KEPT = 2


@dataclass
class IndexSnapshot:
    """One loaded generation of the index: read-only for retrieval."""

    generation: str
    manifest: dict[str, Any]
    articles: dict[str, Article]
    chunks: list[Chunk]
    faiss_index: Any
    chunk_by_id: dict[int, Chunk] = field(init=False)

    def __post_init__(self) -> None:
        self.chunk_by_id = {c.id: c for c in self.chunks}

    @property
    def fingerprint(self) -> dict[str, list[int]]:
        return self.manifest.get("fingerprint", {})


@dataclass
class SyncReport:
    """What an update did: article ids added, updated, removed, kept; chunks embedded; problems."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    chunks_embedded: int = 0
    rebuilt: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.rebuilt)

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{len(self.removed)} removed",
            f"{self.unchanged} unchanged",
            f"{self.chunks_embedded} chunks embedded",
        ]
        if self.problems:
            parts.append(f"{len(self.problems)} skipped")
        return ", ".join(parts)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _jsonl(rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


class ChunkEncoder(Protocol):
    """Turns the articles an update must (re-)embed into numbered chunks and their vectors.

    ``encode(articles, first_id)`` returns the chunks of ``articles`` in article order, numbered
    ``first_id, first_id + 1, ...``, and a float32 array with one unit-length row per chunk. The default
    runs in this process; another implementation (e.g. a cluster) can be passed to :meth:`ChunkIndex.sync`.
    """

    def encode(self, articles: Sequence[Article], first_id: int, progress: bool = False) -> tuple[list[Chunk], np.ndarray]: ...


class LocalChunkEncoder:
    """Chunks and embeds in this process."""

    def __init__(self, chunker: Chunker, embedder: Embedder) -> None:
        self.chunker = chunker
        self.embedder = embedder

    def encode(self, articles: Sequence[Article], first_id: int, progress: bool = False) -> tuple[list[Chunk], np.ndarray]:
        by_id = {a.id: a for a in articles}
        chunks: list[Chunk] = []
        for art in articles:
            chunks.extend(self.chunker.split(art, first_id=first_id + len(chunks)))
        if progress:
            log.info("Embedding %d chunks of %d articles", len(chunks), len(articles))
        vectors = self.embedder.embed([embed_text(by_id[c.article_id], c) for c in chunks], progress=progress)
        return chunks, vectors


class ChunkIndex:
    """Reads and updates the index folder for one set of settings and one embedder."""

    def __init__(self, index_dir: str | Path, settings: Settings, embedder: Embedder, lock_timeout: float = 60.0) -> None:
        self.dir = Path(index_dir)
        self.settings = settings
        self.embedder = embedder
        self.lock_timeout = lock_timeout
        self.chunker = Chunker(settings.chunk_size, settings.chunk_overlap)
        self.encoder: ChunkEncoder = LocalChunkEncoder(self.chunker, embedder)

    # ---------------------------------------------------------------- reading
    def signature(self) -> dict[str, Any]:
        return {**self.settings.index_signature(), "dim": int(self.embedder.dim), "format": FORMAT_VERSION}

    def current_generation(self) -> str | None:
        try:
            name = (self.dir / CURRENT).read_text().strip()
        except FileNotFoundError:
            return None
        return name or None

    def load(self, verify: bool = True) -> IndexSnapshot | None:
        """The live generation, or ``None`` when there is no index yet.

        Raises :class:`IndexUnusableError` when the files are missing, truncated or corrupted.
        """
        gen = self.current_generation()
        if gen is None:
            return None
        return self._load_generation(gen, verify)

    def _load_generation(self, gen: str, verify: bool) -> IndexSnapshot:
        import faiss

        gdir = self.dir / gen
        try:
            manifest = json.loads((gdir / "manifest.json").read_text())
            if verify:
                for name in FILES:
                    expected = manifest["checksums"][name]
                    if sha256_file(gdir / name) != expected:
                        raise IndexUnusableError(f"index file {gdir / name} is corrupted (checksum mismatch)")
            articles: dict[str, Article] = {}
            with open(gdir / "articles.jsonl", encoding="utf-8") as f:
                for line in f:
                    d = json.loads(line)
                    d["duplicates"] = tuple(d.get("duplicates", ()))
                    articles[d["id"]] = Article(**d)
            chunks: list[Chunk] = []
            with open(gdir / "chunks.jsonl", encoding="utf-8") as f:
                for line in f:
                    cid, aid, start, end = json.loads(line)
                    chunks.append(Chunk(id=cid, article_id=aid, start=start, end=end, text=articles[aid].text[start:end]))
            index = faiss.read_index(str(gdir / "faiss.index"))
        except IndexUnusableError:
            raise
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
            raise IndexUnusableError(f"index generation {gdir} cannot be read ({type(e).__name__}: {e})") from e
        if index.ntotal != len(chunks):
            raise IndexUnusableError(f"index generation {gdir} is inconsistent: {index.ntotal} vectors, {len(chunks)} chunks")
        return IndexSnapshot(gen, manifest, articles, chunks, index)

    def compatible(self, snapshot: IndexSnapshot) -> str | None:
        """``None`` when the snapshot was built with the current settings, else why it was not."""
        old = snapshot.manifest.get("signature", {})
        new = self.signature()
        diffs = [f"{k} {old.get(k)!r} -> {v!r}" for k, v in new.items() if old.get(k) != v]
        return "; ".join(diffs) or None

    # ---------------------------------------------------------------- writing
    def lock(self):
        from filelock import FileLock

        self.dir.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.dir / LOCK), timeout=self.lock_timeout)

    def sync(self, articles: Sequence[Article], fingerprint: dict[str, list[int]] | None = None,
             problems: Sequence[str] = (), progress: bool | None = None,
             encoder: ChunkEncoder | None = None) -> SyncReport:
        """Make the index hold exactly ``articles``: embed new and changed ones, drop deleted ones.

        Unchanged articles are never re-embedded. ``encoder`` chunks and embeds them (default: in this
        process). Raises :class:`IndexBusyError` when another process holds the write lock for longer
        than ``lock_timeout`` seconds.
        """
        from filelock import Timeout

        try:
            with self.lock():
                return self._sync_locked(articles, fingerprint or {}, list(problems), progress, encoder or self.encoder)
        except Timeout as e:
            raise IndexBusyError(
                f"another process is updating the index in '{self.dir}'; wait for it to finish and try again"
            ) from e

    def _sync_locked(self, articles, fingerprint, problems, progress, encoder: ChunkEncoder) -> SyncReport:
        import faiss

        report = SyncReport(problems=problems)
        old: IndexSnapshot | None = None
        try:
            old = self.load()
        except IndexUnusableError as e:
            report.rebuilt = str(e)
            log.warning("%s; rebuilding the index from the articles", e)
        if old is not None:
            why = self.compatible(old)
            if why:
                report.rebuilt = f"settings changed ({why})"
                log.warning("The index in %s was built with other settings (%s); rebuilding it", self.dir, why)
                old = None

        new_by_id = {a.id: a for a in articles}
        old_articles = old.articles if old else {}
        keep = {aid for aid, a in old_articles.items() if aid in new_by_id and new_by_id[aid].content_hash == a.content_hash}
        report.removed = sorted(set(old_articles) - set(new_by_id))
        report.updated = sorted(aid for aid in old_articles if aid in new_by_id and aid not in keep)
        report.added = sorted(set(new_by_id) - set(old_articles))
        report.unchanged = len(keep)

        meta_changed = any(new_by_id[aid] != old_articles[aid] for aid in keep)  # e.g. a new duplicate path
        if old is not None and not report.changed and not meta_changed:
            if fingerprint != old.fingerprint:
                self._rewrite_manifest(old, fingerprint)
            return report

        next_id = int(old.manifest.get("next_chunk_id", 0)) if old else 0
        kept_chunks = [c for c in (old.chunks if old else []) if c.article_id in keep]
        to_embed = [new_by_id[aid] for aid in sorted(set(new_by_id) - keep)]
        new_chunks: list[Chunk] = []
        vectors = np.zeros((0, int(self.embedder.dim)), dtype=np.float32)
        if to_embed:
            show = progress if progress is not None else sum(len(a.text) for a in to_embed) > 64 * self.settings.chunk_size
            new_chunks, vectors = encoder.encode(to_embed, next_id, progress=show)
            if len(new_chunks) != len(vectors) or [c.id for c in new_chunks] != list(range(next_id, next_id + len(new_chunks))):
                raise RuntimeError("the chunk encoder returned chunks that are not numbered in order or lack vectors")
            next_id += len(new_chunks)

        if old is not None:
            index = old.faiss_index
            drop = np.array([c.id for c in old.chunks if c.article_id not in keep], dtype=np.int64)
            if len(drop):
                index.remove_ids(drop)
        else:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(int(self.embedder.dim)))
        if new_chunks:
            index.add_with_ids(vectors, np.array([c.id for c in new_chunks], dtype=np.int64))
        report.chunks_embedded = len(new_chunks)

        chunks = kept_chunks + new_chunks
        final_articles = [new_by_id[aid] for aid in sorted(new_by_id)]
        self._write_generation(final_articles, chunks, index, next_id, fingerprint)
        log.info("Index updated: %s", report.summary())
        return report

    def _next_generation_name(self) -> str:
        nums = [int(p.name[4:]) for p in self.dir.glob("gen-*") if p.name[4:].isdigit()]
        return f"gen-{max(nums, default=0) + 1:06d}"

    def _write_generation(self, articles: list[Article], chunks: list[Chunk], index, next_id: int,
                          fingerprint: dict[str, list[int]]) -> None:
        import faiss

        gen = self._next_generation_name()
        tmp = self.dir / f".tmp-{gen}-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        try:
            faiss_bytes = faiss.serialize_index(index).tobytes()
            _fsync_write(tmp / "faiss.index", faiss_bytes)
            _fsync_write(tmp / "articles.jsonl", _jsonl(a.to_dict() for a in articles))
            _fsync_write(tmp / "chunks.jsonl", _jsonl([c.id, c.article_id, c.start, c.end] for c in chunks))
            manifest = {
                "format": FORMAT_VERSION,
                "signature": self.signature(),
                "embedder": {"name": self.embedder.name, "dim": int(self.embedder.dim)},
                "splitter": {
                    "name": "langchain_text_splitters.RecursiveCharacterTextSplitter",
                    "chunk_size": self.settings.chunk_size,
                    "chunk_overlap": self.settings.chunk_overlap,
                },
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "n_articles": len(articles),
                "n_chunks": len(chunks),
                "next_chunk_id": next_id,
                "articles": {a.id: {"hash": a.content_hash, "source": a.source, "title": a.title} for a in articles},
                "fingerprint": fingerprint,
                "checksums": {name: sha256_file(tmp / name) for name in FILES},
            }
            _fsync_write(tmp / "manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False).encode())
            os.replace(tmp, self.dir / gen)
            self._set_current(gen)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._prune(keep=gen)

    def _set_current(self, gen: str) -> None:
        tmp = self.dir / f".{CURRENT}.tmp-{os.getpid()}"
        _fsync_write(tmp, (gen + "\n").encode())
        os.replace(tmp, self.dir / CURRENT)
        try:
            fd = os.open(self.dir, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            pass

    def _rewrite_manifest(self, snapshot: IndexSnapshot, fingerprint: dict[str, list[int]]) -> None:
        """Record new file times without touching the vectors (the articles themselves are unchanged)."""
        gdir = self.dir / snapshot.generation
        manifest = {**snapshot.manifest, "fingerprint": fingerprint}
        tmp = gdir / f".manifest.tmp-{os.getpid()}"
        _fsync_write(tmp, json.dumps(manifest, indent=1, ensure_ascii=False).encode())
        os.replace(tmp, gdir / "manifest.json")
        snapshot.manifest = manifest

    def _prune(self, keep: str) -> None:
        """Delete old generations, keeping the newest few (a reader may still be loading the previous one)."""
        gens = sorted(p for p in self.dir.glob("gen-*") if p.is_dir())
        for p in gens[:-GENERATIONS_KEPT]:
            if p.name != keep:
                shutil.rmtree(p, ignore_errors=True)
        for p in self.dir.glob(".tmp-gen-*"):
            shutil.rmtree(p, ignore_errors=True)


def embed_text(article: Article, chunk: Chunk) -> str:
    """What is embedded for a chunk: the article title gives the chunk its topic."""
    if chunk.start == 0 and chunk.text.startswith(article.title):
        return chunk.text
    return f"{article.title}\n{chunk.text}"
