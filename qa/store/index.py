"""The store's one door: :class:`ChunkIndex` loads the live generation and updates it, surviving damage.

    from qa.store import ChunkIndex
    index = ChunkIndex("vectors", settings, embedder)      # encoder=: who chunks and embeds (default: here)
    report = index.sync(articles)          # incremental: only new or changed articles are embedded
    snapshot = index.load()                # what retrieval reads

It holds no format knowledge of its own: it chooses which generation to read or continue (the one
``CURRENT`` names, else the newest intact one), holds the write lock while updating, and remembers the
generations it found damaged so that they are neither retried nor counted among those pruning keeps.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout

from qa.chunking import Chunker
from qa.config import Settings
from qa.embedders import Embedder
from qa.encoding import ChunkEncoder, LocalChunkEncoder
from qa.errors import IndexBusyError, IndexUnusableError
from qa.store.bm25 import tokenize_chunks
from qa.store.files import (
    CURRENT,
    LOCK,
    current_generation,
    generations,
    not_a_folder,
    read_manifest,
)
from qa.store.legacy import as_segment, load_format_1
from qa.store.records import FORMAT_VERSION, READABLE_FORMATS, Manifest
from qa.store.snapshot import (
    IndexSnapshot,
    LoadSettings,
    load_generation,
    read_snapshot_vectors,
    verify_generation,
)
from qa.store.sync import (
    State,
    SyncReport,
    UpdateSettings,
    read_state,
    saved_bm25,
    update,
)
from qa.store.vectors import VectorIndexSettings, VectorLayout
from qa.store.writer import Draft, GenerationWriter, Identity
from qa.types import Article

log = logging.getLogger(__name__)


class ChunkIndex:
    """Reads and updates the index folder for one set of settings and one embedder.

    ``vector_index`` chooses the FAISS structure (default: :class:`~qa.store.vectors.VectorIndexSettings`);
    ``encoder`` chunks and embeds the articles an update must (re-)embed (default: in this process).
    """

    def __init__(self, index_dir: str | Path, settings: Settings, embedder: Embedder, lock_timeout: float = 60.0,
                 vector_index: VectorIndexSettings | None = None, encoder: ChunkEncoder | None = None) -> None:
        self.dir = Path(index_dir)
        self.settings = settings
        self.embedder = embedder
        self.lock_timeout = lock_timeout
        self.vector_settings = vector_index or VectorIndexSettings()
        self.encoder: ChunkEncoder = encoder or LocalChunkEncoder(Chunker(settings.chunk_size, settings.chunk_overlap),
                                                                  embedder)
        self._unusable: dict[str, str] = {}  # generation -> why load() or sync() refused it
        self._last: IndexSnapshot | None = None  # the last generation load() returned, reused by the next
        self._fallback_told: str | None = None  # the fallback generation load() last warned about

    # ---------------------------------------------------------------- reading
    def signature(self) -> dict[str, Any]:
        return {**self.settings.index_signature(), "dim": int(self.embedder.dim), "format": FORMAT_VERSION}

    def identity(self) -> Identity:
        return Identity(
            signature=self.signature(),
            embedder={"name": self.embedder.name, "dim": int(self.embedder.dim)},
            splitter={"name": "langchain_text_splitters.RecursiveCharacterTextSplitter",
                      "chunk_size": self.settings.chunk_size, "chunk_overlap": self.settings.chunk_overlap},
        )

    def current_generation(self) -> str | None:
        """The generation ``CURRENT`` names; ``None`` when it is missing, empty or not a generation name."""
        return current_generation(self.dir)

    def generations(self) -> list[str]:
        """The generation folders on disk, newest first."""
        return generations(self.dir)

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
                    snap = load_generation(self.dir / gen, verify, self._load_settings(), self._last)
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

    def _load_settings(self) -> LoadSettings:
        return LoadSettings(self.vector_settings, self.settings.bm25_k1, self.settings.bm25_b)

    def _current_damage(self) -> str:
        """What is wrong with ``CURRENT`` when it names no generation."""
        if (self.dir / CURRENT).exists():
            return f"{self.dir / CURRENT} does not name an index generation"
        return f"{self.dir / CURRENT} is missing"

    def read_vectors(self, snapshot: IndexSnapshot) -> tuple[np.ndarray, np.ndarray]:
        """The chunk ids and float32 vectors of a loaded generation (e.g. to measure an approximate
        index's recall against exact search)."""
        return read_snapshot_vectors(self.dir / snapshot.generation, snapshot)

    def compatible(self, snapshot: IndexSnapshot) -> str | None:
        """``None`` when the snapshot was built with the current settings, else why it was not."""
        return self._incompatibility(snapshot.manifest)

    def _incompatibility(self, manifest: Manifest) -> str | None:
        old = manifest.signature
        diffs = [f"{k} {old.get(k)!r} -> {v!r}" for k, v in self.signature().items()
                 if old.get(k) != v and not (k == "format" and old.get(k) in READABLE_FORMATS)]
        return "; ".join(diffs) or None

    # ---------------------------------------------------------------- writing
    def lock(self, timeout: float | None = None) -> FileLock:
        """The write lock (not yet acquired), waiting up to ``timeout`` seconds (default ``lock_timeout``)."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as e:
            raise not_a_folder(self.dir) from e
        return FileLock(str(self.dir / LOCK), timeout=self.lock_timeout if timeout is None else timeout)

    def busy(self) -> bool:
        """Whether another writer holds the write lock right now (checked without waiting)."""
        try:
            with self.lock(timeout=0):
                return False
        except Timeout:
            return True

    def sync(self, articles: Sequence[Article], fingerprint: dict[str, list[int]] | None = None,
             problems: Sequence[str] = (), progress: bool | None = None,
             encoder: ChunkEncoder | None = None, lock_timeout: float | None = None) -> SyncReport:
        """Make the index hold exactly ``articles``: embed new and changed ones, drop deleted ones.

        Unchanged articles are never re-embedded. ``encoder`` chunks and embeds them (default: the
        index's). Raises :class:`IndexBusyError` when another process holds the write lock for longer
        than ``lock_timeout`` seconds (default: the index's ``lock_timeout``; 0 tries once), and
        ``OSError`` when the update cannot be written (full disk, read-only folder): a full or read-only
        disk is found before anything is embedded, and the live generation is never touched.
        """
        try:
            with self.lock(lock_timeout):
                return self._sync_locked(articles, fingerprint or {}, list(problems), progress, encoder or self.encoder)
        except Timeout as e:
            raise IndexBusyError(
                f"another process is updating the index in '{self.dir}'; wait for it to finish and try again"
            ) from e

    def _sync_locked(self, articles: Sequence[Article], fingerprint: dict[str, list[int]], problems: list[str],
                     progress: bool | None, encoder: ChunkEncoder) -> SyncReport:
        report = SyncReport(problems=problems)
        state = self._previous_state(report)
        writer = GenerationWriter(self.dir, self.identity())
        settings = UpdateSettings(self.settings.chunk_size, self.settings.chunk_overlap, int(self.embedder.dim),
                                  self.vector_settings, self.settings.bm25_k1, self.settings.bm25_b)
        try:
            gen = update(writer, state, articles, fingerprint, report, encoder, settings, progress)
        except IndexUnusableError as e:  # a segment to merge is damaged: rebuild from the articles
            assert state is not None
            self._unusable[state.generation] = str(e)
            return self._sync_locked(articles, fingerprint, problems, progress, encoder)
        if gen is not None:
            self._written(writer, gen)
        return report

    def _written(self, writer: GenerationWriter, gen: str) -> None:
        self._unusable.pop(gen, None)  # a number freed by pruning a damaged generation may come back
        writer.prune(gen, self._unusable)

    def _previous_state(self, report: SyncReport) -> State | None:
        """The state to update from: the live generation's, else (when it is damaged) the newest intact one's
        (``report.recovered`` says so), or ``None`` (with ``report.rebuilt`` saying why) when the index must be
        rebuilt."""
        current = self.current_generation()
        refused: list[str] = []
        for gen in self._load_order(current):
            try:
                if gen in self._unusable:
                    raise IndexUnusableError(self._unusable[gen])
                manifest = read_manifest(self.dir / gen)
                why = self._incompatibility(manifest)
                if why:
                    report.rebuilt = f"settings changed ({why})"
                    log.warning("The index in %s was built with other settings (%s); rebuilding it", self.dir, why)
                    return None
                if manifest.format == 1:
                    converted = self._convert_v1(gen, manifest)
                    state = read_state(self.dir / converted, read_manifest(self.dir / converted))
                else:
                    if gen != current and (self._last is None or self._last.generation != gen):
                        # a fallback is trusted only once every file checks out
                        verify_generation(self.dir / gen, manifest)
                    state = read_state(self.dir / gen, manifest)
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

    def _convert_v1(self, gen: str, manifest: Manifest) -> str:
        """Rewrite a format-1 generation as a format-2 one with a single segment (no re-embedding)."""
        articles, chunks, vectors = load_format_1(self.dir / gen, manifest, verify=True)
        log.warning("The index in %s has format 1; converting it to format %d (nothing is re-embedded)",
                    self.dir, FORMAT_VERSION)
        seg, rows, entries = as_segment(articles, chunks, vectors)
        seg = replace(seg, terms=tokenize_chunks(articles, rows))
        writer = GenerationWriter(self.dir, self.identity())
        converted = writer.write(Draft(
            base=None, base_checksums={}, kept=[], new=[seg], rows=rows, entries=entries,
            layout=VectorLayout("flat", trained_on=len(rows)), trained=None,
            next_chunk_id=manifest.next_chunk_id or 0, next_segment=2, fingerprint=manifest.fingerprint,
            lexical=saved_bm25(None, [], [seg], rows, entries, self.settings.bm25_k1, self.settings.bm25_b)[0]))
        self._written(writer, converted)
        return converted
