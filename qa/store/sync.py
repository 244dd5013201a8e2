"""An update: which articles are new, changed or removed (:func:`diff`), and the generation that makes
the index hold exactly the given articles (:func:`update`), embedding only what is new or changed.

An update reads only the manifest and the chunk table of the generation it continues (:func:`read_state`;
the sizes of the other files are checked), so it costs time in proportion to what it adds.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np

from qa.encoding import ChunkEncoder
from qa.errors import IndexUnusableError
from qa.lexical import LexicalIndex
from qa.store.bm25 import (
    ChunkTerms,
    assemble,
    encode,
    rows_by_article,
    segment_terms,
    tokenize_chunks,
)
from qa.store.files import (
    CHUNKS,
    READ_ERRORS,
    check_chunk_ids,
    corrupted,
    decode_chunk_table,
    encode_chunk_table,
    row_ids,
    unreadable,
    verify_sizes,
)
from qa.store.records import (
    ArticleEntry,
    ChunkRow,
    FileEntry,
    LexicalRecord,
    Manifest,
    Segment,
)
from qa.store.segments import (
    NewSegment,
    merge,
    merge_start,
    read_articles,
    sample_vectors,
    segment_name,
)
from qa.store.vectors import (
    VectorIndexSettings,
    VectorLayout,
    plan_layout,
    train_layout,
    training_size,
)
from qa.store.writer import Draft, GenerationWriter
from qa.types import Article, Chunk

log = logging.getLogger(__name__)


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
    # the live generation was damaged: what, and which intact one the update continued from
    recovered: str | None = None

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


@dataclass(frozen=True)
class State:
    """What an update needs of the generation it continues: its manifest and chunk table (no texts, no vectors)."""

    generation: str
    manifest: Manifest
    rows: list[ChunkRow]
    table: bytes  # chunks.jsonl as read


def read_state(gdir: Path, manifest: Manifest) -> State:
    """The chunk table of the format-2 generation in ``gdir``, checked: checksum of the table, sizes of
    the rest, chunk ids."""
    try:
        data = (gdir / CHUNKS).read_bytes()
        if FileEntry.of(data).sha256 != manifest.checksums[CHUNKS].sha256:
            raise corrupted(gdir / CHUNKS)
        files = {name: entry for seg in manifest.segments for name, entry in seg.files.items()}
        trained = manifest.vector_index.trained_file
        if trained:
            files[trained] = manifest.checksums[trained]
        verify_sizes(gdir, files)
        rows = decode_chunk_table(data)
        check_chunk_ids(gdir, row_ids(rows), manifest.next_chunk_id)
    except IndexUnusableError:
        raise
    except READ_ERRORS as e:
        raise unreadable(gdir, e) from e
    return State(gdir.name, manifest, rows, data)


@dataclass(frozen=True)
class Diff:
    """How the articles differ from what the index holds (article ids, sorted)."""

    keep: frozenset[str]  # same text: never re-embedded
    added: tuple[str, ...]
    updated: tuple[str, ...]
    removed: tuple[str, ...]
    relabelled: tuple[str, ...]  # kept, but with another title, source or duplicate paths

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.relabelled)


def diff(entries: Mapping[str, ArticleEntry], articles: Mapping[str, Article]) -> Diff:
    """Compare the manifest's ``entries`` with ``articles`` (by id) by content hash and metadata."""
    keep = frozenset(aid for aid, e in entries.items() if aid in articles and articles[aid].content_hash == e.hash)
    return Diff(
        keep=keep,
        added=tuple(sorted(set(articles) - set(entries))),
        updated=tuple(sorted(aid for aid in entries if aid in articles and aid not in keep)),
        removed=tuple(sorted(set(entries) - set(articles))),
        relabelled=tuple(sorted(aid for aid in keep if not entries[aid].same_metadata(articles[aid]))),
    )


@dataclass(frozen=True)
class UpdateSettings:
    """How an update chunks (for its estimates), which vector structure it keeps, and BM25's parameters."""

    chunk_size: int
    chunk_overlap: int
    dim: int
    vectors: VectorIndexSettings
    k1: float
    b: float


def update(writer: GenerationWriter, state: State | None, articles: Sequence[Article],
           fingerprint: Mapping[str, list[int]], report: SyncReport, encoder: ChunkEncoder,
           settings: UpdateSettings, progress: bool | None) -> str | None:
    """Make the index hold exactly ``articles``, continuing ``state`` (``None``: from nothing); fills in
    ``report`` and returns the generation written (``None`` when nothing needed writing).

    Raises :class:`IndexUnusableError` when a segment of ``state`` to merge turns out damaged (the caller
    then rebuilds), ``OSError`` when the generation cannot be written.
    """
    by_id = {a.id: a for a in articles}
    old_entries: Mapping[str, ArticleEntry] = state.manifest.articles if state else {}
    d = diff(old_entries, by_id)
    report.added, report.updated, report.removed = list(d.added), list(d.updated), list(d.removed)
    report.unchanged = len(d.keep)
    # an index written before BM25 was saved with it gains it now (nothing is embedded)
    if state is not None and not report.changed and not d.relabelled and state.manifest.lexical is not None:
        if dict(fingerprint) != dict(state.manifest.fingerprint):
            writer.rewrite_manifest(state.generation, state.manifest.with_fingerprint(fingerprint))
        if report.recovered:  # nothing to add: pointing CURRENT back at the intact generation is the repair
            writer.set_current(state.generation)
        return None

    next_id = (state.manifest.next_chunk_id or 0) if state else 0
    next_seg = state.manifest.next_segment if state else 1
    to_embed = [by_id[aid] for aid in sorted(set(by_id) - d.keep)]
    writer.check_writable(to_embed, settings.chunk_size, settings.chunk_overlap, settings.dim)
    new_chunks: list[Chunk] = []
    vectors = np.zeros((0, settings.dim), dtype=np.float32)
    if to_embed:
        show = progress if progress is not None else sum(len(a.text) for a in to_embed) > 64 * settings.chunk_size
        new_chunks, vectors = encoder.encode(to_embed, next_id, progress=show)
        numbered = [c.id for c in new_chunks] == list(range(next_id, next_id + len(new_chunks)))
        if len(new_chunks) != len(vectors) or not numbered:
            raise RuntimeError("the chunk encoder returned chunks that are not numbered in order or lack vectors")
        next_id += len(new_chunks)
    report.chunks_embedded = len(new_chunks)

    rows = [r for r in (state.rows if state else []) if r.article_id in d.keep]
    new_rows = [ChunkRow(c.id, c.article_id, c.start, c.end) for c in new_chunks]
    # nothing dropped: the new chunk table is the old one plus the new lines
    table = state.table + encode_chunk_table(new_rows) if state and len(rows) == len(state.rows) else None
    rows += new_rows
    entries = {aid: e for aid, e in old_entries.items() if aid in d.keep}
    kept = list(state.manifest.segments) if state else []
    new: list[NewSegment] = []
    written = to_embed + [by_id[aid] for aid in d.relabelled]
    if written:
        relabelled = set(d.relabelled)
        terms = tokenize_chunks(by_id, new_rows + [r for r in rows if r.article_id in relabelled])
        seg = NewSegment(segment_name(next_seg), np.array([c.id for c in new_chunks], dtype=np.int64),
                         np.asarray(vectors, dtype=np.float32), tuple(sorted(written, key=lambda a: a.id)), terms)
        next_seg += 1
        new.append(seg)
        entries.update((a.id, ArticleEntry.of(a, seg.name)) for a in seg.articles)

    live = row_ids(rows)
    base = writer.dir / state.generation if state else None
    if state is not None:
        start = merge_start([s.size for s in kept] + [n.size for n in new], len(new),
                            sum(s.n_vectors for s in kept) + sum(len(n.ids) for n in new), len(live))
        if start is not None:
            assert base is not None
            merged = merge(base, kept[start:], new, rows, entries, segment_name(next_seg), settings.dim)
            names = {s.name for s in kept[start:]} | {n.name for n in new}
            entries = {aid: (replace(e, segment=merged.name) if e.segment in names else e)
                       for aid, e in entries.items()}
            kept, new, next_seg = kept[:start], [merged], next_seg + 1

    current = state.manifest.vector_index if state else VectorLayout()
    layout, trained = current, None
    plan = plan_layout(len(live), current, settings.vectors)
    if plan is not None:
        sample = sample_vectors(base, kept, new, live, training_size(len(live), settings.vectors), settings.dim)
        log.info("Training the vector index (%s) on %d vectors", plan.reason, len(sample))
        layout, trained = train_layout(plan.kind, len(live), sample, settings.dim)
    lexical, kept_terms = saved_bm25(base, kept, new, rows, entries, settings.k1, settings.b)
    gen = writer.write(Draft(
        base=state.generation if state else None, base_checksums=state.manifest.checksums if state else {},
        kept=kept, new=new, rows=rows, entries=entries, layout=layout, trained=trained, next_chunk_id=next_id,
        next_segment=next_seg, fingerprint=fingerprint, table=table, lexical=lexical, kept_terms=kept_terms))
    log.info("Index updated: %s", report.summary())
    return gen


def saved_bm25(base: Path | None, kept: Sequence[Segment], new: Sequence[NewSegment], rows: list[ChunkRow],
               entries: Mapping[str, ArticleEntry], k1: float,
               b: float) -> tuple[tuple[LexicalRecord, dict[str, bytes]], dict[str, ChunkTerms]]:
    """The BM25 index of a new generation, assembled from its segments' term ids, and its files; and the
    terms tokenised now for kept segments written before term ids were saved (by segment name), for the
    generation to save with them, so that they are tokenised once."""
    by_article = rows_by_article(rows)
    parts, fresh = [], {}
    for seg in kept:
        assert base is not None
        terms, tokenised = segment_terms(base, seg, entries, by_article, partial(read_articles, base, seg, entries))
        parts.append(terms)
        if tokenised:
            fresh[seg.name] = terms
    parts.extend(n.terms for n in new if n.terms is not None)
    index = LexicalIndex.from_terms(assemble(row_ids(rows), parts), k1, b)
    return encode(index), fresh
