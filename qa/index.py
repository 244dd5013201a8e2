"""The persisted index: chunk vectors, chunk and article metadata, and a manifest, under ``vectors/``.

    from qa.index import ChunkIndex
    index = ChunkIndex("vectors", settings, embedder)
    report = index.sync(articles)          # incremental: only new or changed articles are embedded
    snapshot = index.load()                # what retrieval reads

Layout: each write makes a new generation folder (``gen-000042/``) holding ``manifest.json``,
``chunks.jsonl`` (the live chunks: id, article, offsets) and the files of its *segments*. A segment
(``seg-000007.vectors.npy``, ``.ids.npy``, ``.articles.jsonl``) holds the vectors and article texts
written by one update and never changes: the next generation hard-links it and adds one new segment,
so an update writes what it embedded plus the small metadata files, not the whole index. Vectors of
removed or changed articles stay in their segment until a merge drops them: the newest segments are
merged when one is at least as large as the one before it (so there are O(log n) of them) and all are
merged once dead vectors outnumber live ones. The one-line file ``CURRENT`` names the live generation
and is swapped atomically (``os.replace``) only after the generation is complete and flushed; a crash
mid-write leaves ``CURRENT`` on the previous, intact generation. Writers hold a file lock (``.lock``)
so two processes never update one index at once.

Damage is survived without re-embedding: when ``CURRENT`` is missing, garbled or names a generation that
is missing or fails its checks, ``load`` and ``sync`` fall back to the newest intact generation (every
checksum verified) and the next update continues from it, switching ``CURRENT`` back to a good one.
Damaged generations do not count among the ``GENERATIONS_KEPT`` that pruning keeps.

The manifest records the embedder, its dimension, the chunking settings, every article's content hash,
the FAISS structure (``vector_index``: exact ``flat`` below a size threshold, a trained IVF above, see
:mod:`qa.vector_store`) and the SHA-256 and size of every file; the manifest carries the SHA-256 of its own
canonical JSON (``manifest_sha256``; a manifest without it was written by an earlier version and is
accepted, and the next write adds it). A generation whose chunk ids repeat, or reach ``next_chunk_id``, is
never switched to nor loaded: the next update would number new chunks with ids already taken.

``load`` verifies every checksum and builds the FAISS index from the segments; when the same
``ChunkIndex`` loaded the previous generation, it reuses what the two share (articles, chunks, a copy of
the FAISS index) and reads and verifies only the new segments. ``sync`` reads only the manifest and the chunk table (the sizes of the other files are
checked), so an update, and the reload after it, cost time in proportion to what it adds. Metadata is JSON,
vectors are ``.npy`` read with ``allow_pickle=False``; nothing is pickled. Indexes written by format 1
(one ``faiss.index`` per generation) are still read, and converted without re-embedding on the next
update.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.chunking import Chunker
from qa.config import Settings
from qa.embedders import Embedder
from qa.errors import IndexBusyError, IndexLocationError, IndexUnusableError
from qa.fileio import fsync_dir, sha256_file, write_synced
from qa.types import Article, Chunk
from qa.vector_store import (
    VectorIndexSettings,
    VectorLayout,
    build_index,
    plan_layout,
    train_layout,
    training_size,
)

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
CURRENT = "CURRENT"
LOCK = ".lock"
MANIFEST = "manifest.json"
MANIFEST_CHECKSUM = "manifest_sha256"
GENERATION = re.compile(r"gen-\d{6,}")
CHUNKS = "chunks.jsonl"
SEGMENT_PARTS = ("vectors.npy", "ids.npy", "articles.jsonl")
LEGACY_FILES = ("faiss.index", "articles.jsonl", "chunks.jsonl")
FILES = LEGACY_FILES  # format 1 names, kept for callers that import them
GENERATIONS_KEPT = 2
MAX_SEGMENTS = 48
LOAD_BATCH = 65_536


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

    @property
    def vector_layout(self) -> VectorLayout:
        """The FAISS structure this generation uses (``flat`` for format-1 indexes)."""
        return VectorLayout.from_dict(self.manifest.get("vector_index"))


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
    recovered: str | None = None  # the live generation was damaged: what, and which intact one the update continued from

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


def _jsonl(rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def _chunk_table(rows: list[list]) -> bytes:
    """``chunks.jsonl``: one ``[id, article id, start, end]`` line per chunk (article ids JSON-quoted once each)."""
    quoted: dict[str, str] = {}
    lines = []
    for cid, aid, start, end in rows:
        q = quoted.get(aid)
        if q is None:
            q = quoted[aid] = json.dumps(aid, ensure_ascii=False)
        lines.append(f"[{int(cid)}, {q}, {int(start)}, {int(end)}]\n")
    return "".join(lines).encode()


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def _file_entry(data: bytes) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _manifest_digest(manifest: dict[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON (sorted keys, compact), its own checksum field left out."""
    body = {k: v for k, v in manifest.items() if k != MANIFEST_CHECKSUM}
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()).hexdigest()


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The manifest as written: compact JSON carrying the checksum of its canonical form."""
    body = {k: v for k, v in manifest.items() if k != MANIFEST_CHECKSUM}
    body[MANIFEST_CHECKSUM] = _manifest_digest(body)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _check_chunk_ids(gdir: Path, ids: np.ndarray, next_id: int | None) -> None:
    """Refuse chunk ids that repeat or are not below ``next_chunk_id``: two chunks would share a vector id,
    or the next update would number new chunks with ids already taken."""
    if not len(ids):
        return
    if len(np.unique(ids)) != len(ids):
        raise IndexUnusableError(f"index generation {gdir} is inconsistent: chunk ids repeat")
    if next_id is not None and int(ids.max()) >= next_id:
        raise IndexUnusableError(
            f"index generation {gdir} is inconsistent: chunk id {int(ids.max())} is not below next_chunk_id {next_id}"
        )


def _verify_checksums(gdir: Path, files: dict[str, dict[str, Any]]) -> None:
    """Raise :class:`IndexUnusableError` for the first of ``files`` whose SHA-256 is not the recorded one."""
    for name, entry in files.items():
        if sha256_file(gdir / name) != entry["sha256"]:
            raise IndexUnusableError(f"index file {gdir / name} is corrupted (checksum mismatch)")


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


@dataclass(frozen=True)
class Segment:
    """An immutable group of files written by one update (or a merge), shared by later generations."""

    name: str
    n_vectors: int
    n_articles: int
    files: dict[str, dict[str, Any]]  # file name in the generation folder -> {"sha256", "bytes"}

    @property
    def size(self) -> int:
        return max(self.n_vectors, self.n_articles)

    def file(self, part: str) -> str:
        return f"{self.name}.{part}"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "n_vectors": self.n_vectors, "n_articles": self.n_articles, "files": self.files}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Segment:
        return cls(d["name"], int(d["n_vectors"]), int(d["n_articles"]), dict(d["files"]))


@dataclass
class _NewSegment:
    """A segment about to be written: its vectors (with chunk ids) and article records."""

    name: str
    ids: np.ndarray
    vectors: np.ndarray
    articles: list[Article]


@dataclass
class _State:
    """What an update needs of the live generation: its manifest, chunk table and segments (no texts, no vectors)."""

    generation: str
    manifest: dict[str, Any]
    rows: list[list]  # [chunk id, article id, start, end]
    table: bytes  # chunks.jsonl as read
    segments: list[Segment]
    layout: VectorLayout

    @property
    def entries(self) -> dict[str, dict[str, Any]]:
        return self.manifest["articles"]


class ChunkIndex:
    """Reads and updates the index folder for one set of settings and one embedder.

    ``vector_index`` chooses the FAISS structure (default: :class:`~qa.vector_store.VectorIndexSettings`, or
    ``settings.vector_index`` when the settings carry one).
    """

    def __init__(self, index_dir: str | Path, settings: Settings, embedder: Embedder, lock_timeout: float = 60.0,
                 vector_index: VectorIndexSettings | None = None) -> None:
        self.dir = Path(index_dir)
        self.settings = settings
        self.embedder = embedder
        self.lock_timeout = lock_timeout
        self.vector_settings = vector_index or getattr(settings, "vector_index", None) or VectorIndexSettings()
        self.chunker = Chunker(settings.chunk_size, settings.chunk_overlap)
        self.encoder: ChunkEncoder = LocalChunkEncoder(self.chunker, embedder)
        self._unusable: dict[str, str] = {}  # generation -> why load() or sync() refused it
        self._last: IndexSnapshot | None = None  # the last generation load() returned, reused by the next
        self._fallback_told: str | None = None  # the fallback generation load() last warned about

    # ---------------------------------------------------------------- reading
    def signature(self) -> dict[str, Any]:
        return {**self.settings.index_signature(), "dim": int(self.embedder.dim), "format": FORMAT_VERSION}

    def current_generation(self) -> str | None:
        """The generation ``CURRENT`` names; ``None`` when it is missing, empty or not a generation name."""
        try:
            data = (self.dir / CURRENT).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return None
        except NotADirectoryError as e:
            raise self._not_a_folder() from e
        name = data.decode("utf-8", "replace").strip()
        return name if GENERATION.fullmatch(name) else None

    def _not_a_folder(self) -> IndexLocationError:
        return IndexLocationError(
            f"the index folder '{self.dir}' is a file, not a folder; move that file away, or point --index at a folder"
        )

    def generations(self) -> list[str]:
        """The generation folders on disk, newest first."""
        try:
            names = [p.name for p in self.dir.iterdir() if GENERATION.fullmatch(p.name) and p.is_dir()]
        except FileNotFoundError:
            return []
        except NotADirectoryError as e:
            raise self._not_a_folder() from e
        return sorted(names, key=lambda n: int(n[4:]), reverse=True)

    def _load_order(self, current: str | None) -> list[str]:
        """The generations to try: the one ``CURRENT`` names, then the others, newest first."""
        rest = [g for g in self.generations() if g != current]
        return ([current] if current else []) + rest

    def load(self, verify: bool = True) -> IndexSnapshot | None:
        """The live generation, or ``None`` when there is no index yet.

        When ``CURRENT`` is damaged or names a generation that is missing, truncated or corrupted, the newest
        intact generation is returned instead (with a warning); the next :meth:`sync` continues from it.
        Raises :class:`IndexUnusableError` when no generation is intact (the next :meth:`sync` of this
        object then rebuilds the index).
        """
        current = self.current_generation()
        order = self._load_order(current)
        if not order:
            return None
        damage: list[str] = []  # why each generation tried was refused
        for gen in order:
            why = self._unusable.get(gen)
            if why is None:
                try:
                    snap = self._load_generation(gen, verify)
                except IndexUnusableError as e:
                    why = self._unusable[gen] = str(e)
            if why is not None:
                damage.append(why)
                continue
            if gen != current and self._fallback_told != gen:
                self._fallback_told = gen
                log.warning("%s; using %s, the newest intact generation (the next update continues from it)",
                            damage[0] if current else self._current_damage(), gen)
            self._last = snap
            return snap
        raise IndexUnusableError(damage[0])

    def _current_damage(self) -> str:
        """What is wrong with ``CURRENT`` when it names no generation."""
        if (self.dir / CURRENT).exists():
            return f"{self.dir / CURRENT} does not name an index generation"
        return f"{self.dir / CURRENT} is missing"

    def _read_manifest(self, gdir: Path) -> dict[str, Any]:
        """The manifest of a generation, its own checksum verified (a manifest without one predates it)."""
        try:
            manifest = json.loads((gdir / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise IndexUnusableError(f"index generation {gdir} cannot be read ({type(e).__name__}: {e})") from e
        fmt = manifest.get("format") if isinstance(manifest, dict) else None
        if fmt not in READABLE_FORMATS:
            raise IndexUnusableError(f"index generation {gdir} has format {fmt!r}, which this version cannot read")
        expected = manifest.get(MANIFEST_CHECKSUM)
        if expected is not None and expected != _manifest_digest(manifest):
            raise IndexUnusableError(f"index file {gdir / MANIFEST} is corrupted (checksum mismatch)")
        return manifest

    def _load_generation(self, gen: str, verify: bool) -> IndexSnapshot:
        gdir = self.dir / gen
        manifest = self._read_manifest(gdir)
        if manifest["format"] == 1:
            return self._load_generation_v1(gdir, gen, manifest, verify)
        try:
            segments = [Segment.from_dict(s) for s in manifest["segments"]]
            layout = VectorLayout.from_dict(manifest.get("vector_index"))
            entries = manifest["articles"]
            prev, shared = self._reusable(manifest, segments)
            reuse_vectors = prev is not None and prev.manifest.get("vector_index") == manifest.get("vector_index")
            checksums: dict[str, dict[str, Any]] = dict(manifest["checksums"])
            for seg in segments:
                if seg.name not in shared or not reuse_vectors:
                    checksums.update(seg.files)
            if verify:
                _verify_checksums(gdir, checksums)
            articles: dict[str, Article] = {}
            if prev is not None:
                articles = {aid: prev.articles[aid] for aid, e in entries.items() if e["segment"] in shared}
            for seg in segments:
                if seg.name not in shared:
                    articles.update((a.id, a) for a in _segment_articles(gdir, seg, entries))
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
            _check_chunk_ids(gdir, live, int(manifest["next_chunk_id"]))
            dim = int(manifest["signature"]["dim"])
            if reuse_vectors:
                # the previous snapshot's index, copied (readers may still search it), minus what was
                # dropped, plus the vectors of the new segments
                import faiss

                index = faiss.clone_index(prev.faiss_index)  # type: ignore[union-attr]
                had = np.fromiter(known.keys(), dtype=np.int64, count=len(known))
                dead = np.setdiff1d(had, live)
                if len(dead):
                    index.remove_ids(dead)
                fresh = np.setdiff1d(live, had)  # new chunks (a merged segment also holds old ones)
                for ids, vectors in _live_batches(gdir, [s for s in segments if s.name not in shared], fresh):
                    index.add_with_ids(vectors, ids)
            else:
                trained = self._read_trained(gdir, layout)
                index = build_index(layout, trained, dim, _live_batches(gdir, segments, live), self.vector_settings)
        except IndexUnusableError:
            raise
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
            raise IndexUnusableError(f"index generation {gdir} cannot be read ({type(e).__name__}: {e})") from e
        if index.ntotal != len(chunks) or len(articles) != len(entries):
            raise IndexUnusableError(
                f"index generation {gdir} is inconsistent: {index.ntotal} vectors, {len(chunks)} chunks, "
                f"{len(articles)} of {len(entries)} articles"
            )
        return IndexSnapshot(gen, manifest, articles, chunks, index)

    def _reusable(self, manifest: dict[str, Any], segments: list[Segment]) -> tuple[IndexSnapshot | None, set[str]]:
        """The last loaded snapshot, when the generation being loaded shares segments with it, and the
        names of those segments (same name and same checksums: immutable, so already verified and in memory)."""
        prev = self._last
        if prev is None or prev.manifest.get("format") != FORMAT_VERSION or prev.manifest.get("signature") != manifest.get("signature"):
            return None, set()
        before = {s["name"]: s["files"] for s in prev.manifest.get("segments", [])}
        shared = {s.name for s in segments if before.get(s.name) == s.files}
        # every article of a shared segment must be in the previous snapshot (it is, unless it was rebuilt)
        entries = manifest["articles"]
        shared -= {e["segment"] for aid, e in entries.items() if e["segment"] in shared and aid not in prev.articles}
        return (prev, shared) if shared else (None, set())

    def read_vectors(self, snapshot: IndexSnapshot) -> tuple[np.ndarray, np.ndarray]:
        """The chunk ids and float32 vectors of a loaded generation (e.g. to measure an approximate
        index's recall against exact search)."""
        import faiss

        if snapshot.manifest.get("format") == 1:
            index = snapshot.faiss_index
            return faiss.vector_to_array(index.id_map).astype(np.int64), index.index.reconstruct_n(0, index.ntotal)
        gdir = self.dir / snapshot.generation
        segments = [Segment.from_dict(s) for s in snapshot.manifest["segments"]]
        live = np.array(sorted(c.id for c in snapshot.chunks), dtype=np.int64)
        parts = list(_live_batches(gdir, segments, live))
        if not parts:
            return np.zeros(0, np.int64), np.zeros((0, int(snapshot.manifest["signature"]["dim"])), np.float32)
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    @staticmethod
    def _read_trained(gdir: Path, layout: VectorLayout) -> Any:
        import faiss

        if layout.trained_file is None:
            return None
        return faiss.read_index(str(gdir / layout.trained_file))

    def _load_generation_v1(self, gdir: Path, gen: str, manifest: dict[str, Any], verify: bool) -> IndexSnapshot:
        """A format-1 generation: one ``faiss.index`` (exact), ``articles.jsonl`` and ``chunks.jsonl``."""
        import faiss

        try:
            if verify:
                for name in LEGACY_FILES:
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
            next_id = manifest.get("next_chunk_id")
            _check_chunk_ids(gdir, np.array([c.id for c in chunks], dtype=np.int64),
                             None if next_id is None else int(next_id))
            index = faiss.read_index(str(gdir / "faiss.index"))
        except IndexUnusableError:
            raise
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
            raise IndexUnusableError(f"index generation {gdir} cannot be read ({type(e).__name__}: {e})") from e
        if index.ntotal != len(chunks):
            raise IndexUnusableError(f"index generation {gdir} is inconsistent: {index.ntotal} vectors, {len(chunks)} chunks")
        return IndexSnapshot(gen, manifest, articles, chunks, index)

    def _read_state(self, gen: str, manifest: dict[str, Any] | None) -> _State:
        """The chunk table of ``gen`` (with its ``manifest``, read when ``None``), checked: checksum of the table,
        sizes of the rest, chunk ids."""
        gdir = self.dir / gen
        if manifest is None:
            manifest = self._read_manifest(gdir)
        try:
            segments = [Segment.from_dict(s) for s in manifest["segments"]]
            layout = VectorLayout.from_dict(manifest.get("vector_index"))
            data = (gdir / CHUNKS).read_bytes()
            if hashlib.sha256(data).hexdigest() != manifest["checksums"][CHUNKS]["sha256"]:
                raise IndexUnusableError(f"index file {gdir / CHUNKS} is corrupted (checksum mismatch)")
            files = {name: entry for seg in segments for name, entry in seg.files.items()}
            if layout.trained_file:
                files[layout.trained_file] = manifest["checksums"][layout.trained_file]
            for name, entry in files.items():
                if (gdir / name).stat().st_size != entry["bytes"]:
                    raise IndexUnusableError(f"index file {gdir / name} is corrupted (size mismatch)")
            rows = json.loads("[" + ",".join(data.decode("utf-8").splitlines()) + "]")
            _check_chunk_ids(gdir, np.array([r[0] for r in rows], dtype=np.int64), int(manifest["next_chunk_id"]))
        except IndexUnusableError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise IndexUnusableError(f"index generation {gdir} cannot be read ({type(e).__name__}: {e})") from e
        return _State(gen, manifest, rows, data, segments, layout)

    def compatible(self, snapshot: IndexSnapshot) -> str | None:
        """``None`` when the snapshot was built with the current settings, else why it was not."""
        return self._incompatibility(snapshot.manifest)

    def _incompatibility(self, manifest: dict[str, Any]) -> str | None:
        old = manifest.get("signature", {})
        new = self.signature()
        diffs = [f"{k} {old.get(k)!r} -> {v!r}" for k, v in new.items()
                 if old.get(k) != v and not (k == "format" and old.get(k) in READABLE_FORMATS)]
        return "; ".join(diffs) or None

    # ---------------------------------------------------------------- writing
    def lock(self, timeout: float | None = None):
        """The write lock (not yet acquired), waiting up to ``timeout`` seconds (default ``lock_timeout``)."""
        from filelock import FileLock

        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as e:
            raise self._not_a_folder() from e
        return FileLock(str(self.dir / LOCK), timeout=self.lock_timeout if timeout is None else timeout)

    def busy(self) -> bool:
        """Whether another writer holds the write lock right now (checked without waiting)."""
        from filelock import Timeout

        try:
            with self.lock(timeout=0):
                return False
        except Timeout:
            return True

    def sync(self, articles: Sequence[Article], fingerprint: dict[str, list[int]] | None = None,
             problems: Sequence[str] = (), progress: bool | None = None,
             encoder: ChunkEncoder | None = None, lock_timeout: float | None = None) -> SyncReport:
        """Make the index hold exactly ``articles``: embed new and changed ones, drop deleted ones.

        Unchanged articles are never re-embedded. ``encoder`` chunks and embeds them (default: in this
        process). Raises :class:`IndexBusyError` when another process holds the write lock for longer
        than ``lock_timeout`` seconds (default: the index's ``lock_timeout``; 0 tries once), and
        ``OSError`` when the update cannot be written (full disk, read-only folder): a full or read-only
        disk is found before anything is embedded, and the live generation is never touched.
        """
        from filelock import Timeout

        try:
            with self.lock(lock_timeout):
                return self._sync_locked(articles, fingerprint or {}, list(problems), progress, encoder or self.encoder)
        except Timeout as e:
            raise IndexBusyError(
                f"another process is updating the index in '{self.dir}'; wait for it to finish and try again"
            ) from e

    def _previous_state(self, report: SyncReport) -> _State | None:
        """The state to update from: the live generation's, else (when it is damaged) the newest intact one's
        (``report.recovered`` says so), or ``None`` (with ``report.rebuilt`` saying why) when the index must be
        rebuilt."""
        current = self.current_generation()
        refused: list[str] = []
        for gen in self._load_order(current):
            try:
                if gen in self._unusable:
                    raise IndexUnusableError(self._unusable[gen])
                manifest = self._read_manifest(self.dir / gen)
                why = self._incompatibility(manifest)
                if why:
                    report.rebuilt = f"settings changed ({why})"
                    log.warning("The index in %s was built with other settings (%s); rebuilding it", self.dir, why)
                    return None
                if manifest["format"] == 1:
                    state = self._read_state(self._convert_v1(gen), None)
                else:
                    if gen != current and (self._last is None or self._last.generation != gen):
                        self._verify_generation(gen, manifest)  # a fallback is trusted only once every file checks out
                    state = self._read_state(gen, manifest)
            except IndexUnusableError as e:
                self._unusable[gen] = str(e)
                refused.append(str(e))
                continue
            if gen != current:
                report.recovered = f"{refused[0] if refused else self._current_damage()}; continued from {gen}, " \
                                   "the newest intact generation"
                log.warning("%s", report.recovered)
            return state
        if refused:
            report.rebuilt = refused[0]
            log.warning("%s; rebuilding the index from the articles", report.rebuilt)
        return None

    def _verify_generation(self, gen: str, manifest: dict[str, Any]) -> None:
        """Check every file of a format-2 generation against its checksum."""
        gdir = self.dir / gen
        try:
            files = dict(manifest["checksums"])
            for seg in manifest["segments"]:
                files.update(Segment.from_dict(seg).files)
            _verify_checksums(gdir, files)
        except IndexUnusableError:
            raise
        except (OSError, KeyError, TypeError, ValueError) as e:
            raise IndexUnusableError(f"index generation {gdir} cannot be read ({type(e).__name__}: {e})") from e

    def _convert_v1(self, gen: str) -> str:
        """Rewrite a format-1 generation as a format-2 one with a single segment (no re-embedding)."""
        import faiss

        snap = self._load_generation_v1(self.dir / gen, gen, self._read_manifest(self.dir / gen), verify=True)
        log.warning("The index in %s has format 1; converting it to format %d (nothing is re-embedded)",
                    self.dir, FORMAT_VERSION)
        index = snap.faiss_index
        ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        vectors = index.index.reconstruct_n(0, index.ntotal)
        arts = sorted(snap.articles.values(), key=lambda a: a.id)
        seg = _NewSegment("seg-000001", ids, vectors, arts)
        rows = [[c.id, c.article_id, c.start, c.end] for c in snap.chunks]
        entries = {a.id: _entry(a, seg.name) for a in arts}
        return self._write_generation(None, {}, [], [seg], rows, entries, VectorLayout("flat", trained_on=len(rows)),
                                      None, int(snap.manifest.get("next_chunk_id", 0)), 2, snap.fingerprint)

    def _sync_locked(self, articles, fingerprint, problems, progress, encoder: ChunkEncoder) -> SyncReport:
        report = SyncReport(problems=problems)
        state = self._previous_state(report)

        new_by_id = {a.id: a for a in articles}
        old_entries = state.entries if state else {}
        keep = {aid for aid, e in old_entries.items() if aid in new_by_id and new_by_id[aid].content_hash == e["hash"]}
        report.removed = sorted(set(old_entries) - set(new_by_id))
        report.updated = sorted(aid for aid in old_entries if aid in new_by_id and aid not in keep)
        report.added = sorted(set(new_by_id) - set(old_entries))
        report.unchanged = len(keep)

        relabelled = sorted(aid for aid in keep if not _same_metadata(new_by_id[aid], old_entries[aid]))  # e.g. a new duplicate path
        if state is not None and not report.changed and not relabelled:
            if fingerprint != state.manifest.get("fingerprint", {}):
                self._rewrite_manifest(state.generation, {**state.manifest, "fingerprint": fingerprint})
            if report.recovered:  # nothing to add: pointing CURRENT back at the intact generation is the repair
                self._set_current(state.generation)
            return report

        next_id = int(state.manifest.get("next_chunk_id", 0)) if state else 0
        next_seg = int(state.manifest.get("next_segment", 1)) if state else 1
        to_embed = [new_by_id[aid] for aid in sorted(set(new_by_id) - keep)]
        self._check_writable(to_embed)
        new_chunks: list[Chunk] = []
        vectors = np.zeros((0, int(self.embedder.dim)), dtype=np.float32)
        if to_embed:
            show = progress if progress is not None else sum(len(a.text) for a in to_embed) > 64 * self.settings.chunk_size
            new_chunks, vectors = encoder.encode(to_embed, next_id, progress=show)
            if len(new_chunks) != len(vectors) or [c.id for c in new_chunks] != list(range(next_id, next_id + len(new_chunks))):
                raise RuntimeError("the chunk encoder returned chunks that are not numbered in order or lack vectors")
            next_id += len(new_chunks)
        report.chunks_embedded = len(new_chunks)

        rows = [r for r in (state.rows if state else []) if r[1] in keep]
        new_rows = [[c.id, c.article_id, c.start, c.end] for c in new_chunks]
        # nothing dropped: the new chunk table is the old one plus the new lines
        table = state.table + _chunk_table(new_rows) if state and len(rows) == len(state.rows) else None
        rows += new_rows
        entries = {aid: e for aid, e in old_entries.items() if aid in keep}
        segments = list(state.segments) if state else []
        new_segments: list[_NewSegment] = []
        written = to_embed + [new_by_id[aid] for aid in relabelled]
        if written:
            seg = _NewSegment(f"seg-{next_seg:06d}", np.array([c.id for c in new_chunks], dtype=np.int64),
                              np.asarray(vectors, dtype=np.float32), sorted(written, key=lambda a: a.id))
            next_seg += 1
            new_segments.append(seg)
            for a in seg.articles:
                entries[a.id] = _entry(a, seg.name)

        prev_gen = state.generation if state else None
        live = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        if prev_gen is not None:
            try:
                segments, new_segments, next_seg = self._merge(prev_gen, segments, new_segments, live, entries, next_seg)
            except IndexUnusableError as e:  # a segment to merge is damaged: rebuild from the articles
                self._unusable[prev_gen] = str(e)
                return self._sync_locked(articles, fingerprint, problems, progress, encoder)
        layout, trained = self._plan_vectors(state, prev_gen, segments, new_segments, live)
        self._write_generation(prev_gen, state.manifest["checksums"] if state else {}, segments, new_segments, rows,
                               entries, layout, trained, next_id, next_seg, fingerprint, table)
        log.info("Index updated: %s", report.summary())
        return report

    def _check_writable(self, articles: Sequence[Article]) -> None:
        """Raise the ``OSError`` an update would meet on a full or read-only disk before embedding, not after:
        a tiny flushed write, then the free space against a low estimate of what ``articles`` take."""
        probe = self.dir / f".write-test-{os.getpid()}"
        try:
            write_synced(probe, b"\n")
        finally:
            with contextlib.suppress(OSError):
                probe.unlink()
        step = self.settings.chunk_size - self.settings.chunk_overlap
        n_chunks = sum(len(a.text) // step + 1 for a in articles)
        need = sum(len(a.text.encode()) for a in articles) + n_chunks * (4 * int(self.embedder.dim) + 8)
        free = shutil.disk_usage(self.dir).free
        if free < need:
            raise OSError(errno.ENOSPC, f"No space left on device (the update needs at least {_size(need)}, "
                                        f"{_size(free)} are free)", str(self.dir))

    # ---------------------------------------------------------------- segments
    def _merge(self, prev_gen: str, segments: list[Segment], new: list[_NewSegment], live: np.ndarray,
               entries: dict[str, dict[str, Any]], next_seg: int) -> tuple[list[Segment], list[_NewSegment], int]:
        """Decide which old segments to merge with the new one: the newest ones while the last is at least as
        large as the one before it, or all of them when dead vectors outnumber live ones or there are too many.
        Returns the old segments kept as they are, the segments to write, and the next segment number."""
        sizes = [s.size for s in segments] + [max(len(n.ids), len(n.articles)) for n in new]
        stored = sum(s.n_vectors for s in segments) + sum(len(n.ids) for n in new)
        if stored > 2 * len(live) + 1024 or len(sizes) > MAX_SEGMENTS:
            cut = 0
        else:
            cut = len(sizes)
            while cut >= 2 and sizes[cut - 1] >= sizes[cut - 2]:
                sizes[cut - 2] += sizes[cut - 1]
                cut -= 1
            cut -= 1  # index of the first part of the merged tail
            if new and cut == len(segments):
                return segments, new, next_seg  # nothing to merge
            if not new and cut >= len(segments) - 1:
                return segments, new, next_seg
        victims = segments[cut:]
        if not victims:
            return segments, new, next_seg
        log.info("Merging %d index segments", len(victims) + len(new))
        gdir = self.dir / prev_gen
        ids_parts, vec_parts, arts = [], [], []
        names = {s.name for s in victims} | {n.name for n in new}
        for seg in victims:
            _verify_checksums(gdir, {seg.file(part): seg.files[seg.file(part)] for part in SEGMENT_PARTS})
            ids, vecs = _read_segment_vectors(gdir, seg)
            mask = np.isin(ids, live)
            ids_parts.append(ids[mask])
            vec_parts.append(np.asarray(vecs[mask], dtype=np.float32))
            arts.extend(_segment_articles(gdir, seg, entries))
        for n in new:
            ids_parts.append(n.ids)
            vec_parts.append(n.vectors)
            arts.extend(n.articles)
        merged = _NewSegment(f"seg-{next_seg:06d}", np.concatenate(ids_parts) if ids_parts else np.zeros(0, np.int64),
                             np.concatenate(vec_parts) if vec_parts else np.zeros((0, int(self.embedder.dim)), np.float32),
                             sorted(arts, key=lambda a: a.id))
        for aid, e in entries.items():
            if e["segment"] in names:
                entries[aid] = {**e, "segment": merged.name}
        return segments[:cut], [merged], next_seg + 1

    def _plan_vectors(self, state: _State | None, prev_gen: str | None, segments: list[Segment],
                      new: list[_NewSegment], live: np.ndarray) -> tuple[VectorLayout, Any]:
        """The FAISS structure for ``len(live)`` vectors: the current one, or a newly trained one."""
        current = state.layout if state else VectorLayout()
        plan = plan_layout(len(live), current, self.vector_settings)
        if plan is None:
            return current, None
        sample = self._sample(prev_gen, segments, new, live, training_size(len(live), self.vector_settings))
        log.info("Training the vector index (%s) on %d vectors", plan.reason, len(sample))
        layout, trained = train_layout(plan.kind, len(live), sample, int(self.embedder.dim))
        return layout, trained

    def _sample(self, prev_gen: str | None, segments: list[Segment], new: list[_NewSegment], live: np.ndarray,
                size: int) -> np.ndarray:
        """``size`` live vectors drawn at random from the segments."""
        rng = np.random.default_rng(len(live))
        pick = np.sort(rng.choice(live, size=min(size, len(live)), replace=False)) if len(live) else live
        parts = []
        for seg in segments:
            ids, vecs = _read_segment_vectors(self.dir / prev_gen, seg)  # type: ignore[operator]
            mask = np.isin(ids, pick)
            parts.append(np.asarray(vecs[mask], dtype=np.float32))
        for n in new:
            parts.append(n.vectors[np.isin(n.ids, pick)])
        return np.concatenate(parts) if parts else np.zeros((0, int(self.embedder.dim)), np.float32)

    def _next_generation_name(self) -> str:
        return f"gen-{max((int(g[4:]) for g in self.generations()), default=0) + 1:06d}"

    def _write_generation(self, prev_gen: str | None, prev_checksums: dict[str, Any], segments: list[Segment], new: list[_NewSegment], rows: list[list],
                          entries: dict[str, dict[str, Any]], layout: VectorLayout, trained: Any, next_id: int,
                          next_seg: int, fingerprint: dict[str, list[int]], table: bytes | None = None) -> str:
        """Write a generation: link the kept segments' files, write the new ones and the metadata, swap ``CURRENT``."""
        import faiss

        gen = self._next_generation_name()
        # the last guard before anything is switched: ids that repeat or reach next_id would corrupt every later update
        _check_chunk_ids(self.dir / gen, np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)), next_id)
        tmp = self.dir / f".tmp-{gen}-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        try:
            checksums: dict[str, dict[str, Any]] = {}
            for seg in segments:
                for name in seg.files:
                    _link_or_copy(self.dir / prev_gen / name, tmp / name)  # type: ignore[operator]
            all_segments = list(segments)
            for n in new:
                files = {}
                for part, data in (("vectors.npy", _npy(np.asarray(n.vectors, dtype=np.float32))),
                                   ("ids.npy", _npy(np.asarray(n.ids, dtype=np.int64))),
                                   ("articles.jsonl", _jsonl(a.to_dict() for a in n.articles))):
                    write_synced(tmp / f"{n.name}.{part}", data)
                    files[f"{n.name}.{part}"] = _file_entry(data)
                all_segments.append(Segment(n.name, len(n.ids), len(n.articles), files))
            if trained is not None:
                layout = VectorLayout(layout.kind, layout.nlist, layout.trained_on, f"ivf-{gen}.faiss")
                data = faiss.serialize_index(trained).tobytes()
                write_synced(tmp / layout.trained_file, data)
                checksums[layout.trained_file] = _file_entry(data)
            elif layout.trained_file is not None:
                _link_or_copy(self.dir / prev_gen / layout.trained_file, tmp / layout.trained_file)  # type: ignore[operator]
                checksums[layout.trained_file] = prev_checksums[layout.trained_file]
            data = table if table is not None else _chunk_table(rows)
            write_synced(tmp / CHUNKS, data)
            checksums[CHUNKS] = _file_entry(data)
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
                "n_articles": len(entries),
                "n_chunks": len(rows),
                "next_chunk_id": next_id,
                "next_segment": next_seg,
                "vector_index": layout.to_dict(),
                "segments": [s.to_dict() for s in all_segments],
                "articles": entries,
                "fingerprint": fingerprint,
                "checksums": checksums,
            }
            write_synced(tmp / MANIFEST, _manifest_bytes(manifest))
            os.replace(tmp, self.dir / gen)
            self._unusable.pop(gen, None)  # a number freed by pruning a damaged generation may come back
            self._set_current(gen)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._prune(keep=gen)
        return gen

    def _set_current(self, gen: str) -> None:
        tmp = self.dir / f".{CURRENT}.tmp-{os.getpid()}"
        write_synced(tmp, (gen + "\n").encode())
        os.replace(tmp, self.dir / CURRENT)
        fsync_dir(self.dir)

    def _rewrite_manifest(self, gen: str, manifest: dict[str, Any]) -> None:
        """Record new file times without touching the vectors (the articles themselves are unchanged)."""
        gdir = self.dir / gen
        tmp = gdir / f".manifest.tmp-{os.getpid()}"
        try:
            write_synced(tmp, _manifest_bytes(manifest))
            os.replace(tmp, gdir / MANIFEST)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    def _prune(self, keep: str) -> None:
        """Delete old generations, keeping the newest few intact ones (a reader may still be loading the previous
        one). A generation found damaged does not count among them, so the intact one before it survives."""
        gens = self.generations()
        kept = {keep, *[g for g in gens if g not in self._unusable][:GENERATIONS_KEPT]}
        for name in gens:
            if name not in kept:
                shutil.rmtree(self.dir / name, ignore_errors=True)
        for p in self.dir.glob(".tmp-gen-*"):
            shutil.rmtree(p, ignore_errors=True)


def _entry(article: Article, segment: str) -> dict[str, Any]:
    """An article's manifest entry: what an update compares, and which segment holds its text."""
    e: dict[str, Any] = {"hash": article.content_hash, "source": article.source, "title": article.title, "segment": segment}
    if article.duplicates:
        e["duplicates"] = list(article.duplicates)
    return e


def _same_metadata(article: Article, entry: dict[str, Any]) -> bool:
    return (article.title == entry["title"] and article.source == entry["source"]
            and list(article.duplicates) == entry.get("duplicates", []))


def _read_segment_vectors(gdir: Path, seg: Segment) -> tuple[np.ndarray, np.ndarray]:
    """A segment's chunk ids and (memory-mapped) vectors."""
    ids = np.load(gdir / seg.file("ids.npy"), allow_pickle=False)
    vectors = np.load(gdir / seg.file("vectors.npy"), allow_pickle=False, mmap_mode="r")
    if len(ids) != len(vectors) or len(ids) != seg.n_vectors:
        raise ValueError(f"segment {seg.name} holds {len(ids)} ids and {len(vectors)} vectors, expected {seg.n_vectors}")
    return ids, vectors


def _live_batches(gdir: Path, segments: list[Segment], live: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The live (ids, vectors) of every segment, in batches of at most ``LOAD_BATCH`` rows."""
    for seg in segments:
        ids, vectors = _read_segment_vectors(gdir, seg)
        for lo in range(0, len(ids), LOAD_BATCH):
            part = ids[lo:lo + LOAD_BATCH]
            mask = np.isin(part, live)
            if mask.any():
                yield part[mask], np.asarray(vectors[lo:lo + LOAD_BATCH][mask], dtype=np.float32)


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _link_or_copy(src: Path, dst: Path) -> None:
    """Share an immutable file with the new generation (a hard link; a copy where links are not supported)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
        with open(dst, "rb") as f:
            os.fsync(f.fileno())


def _segment_articles(gdir: Path, seg: Segment, entries: dict[str, dict[str, Any]]) -> Iterator[Article]:
    """The articles stored in ``seg`` that the manifest ``entries`` still place there."""
    with open(gdir / seg.file("articles.jsonl"), encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            e = entries.get(d["id"])
            if e is not None and e["segment"] == seg.name:
                d["duplicates"] = tuple(d.get("duplicates", ()))
                yield Article(**d)


def embed_text(article: Article, chunk: Chunk) -> str:
    """What is embedded for a chunk: the article title gives the chunk its topic."""
    if chunk.start == 0 and chunk.text.startswith(article.title):
        return chunk.text
    return f"{article.title}\n{chunk.text}"
