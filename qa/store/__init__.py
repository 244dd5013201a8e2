"""The store: the persisted index (chunk vectors, chunk and article metadata, a manifest) under ``vectors/``.

    from qa.store import ChunkIndex
    index = ChunkIndex("vectors", settings, embedder)
    report = index.sync(articles)          # incremental: only new or changed articles are embedded
    snapshot = index.load()                # what retrieval reads

Layout: each write makes a new generation folder (``gen-000042/``) holding ``manifest.json``,
``chunks.jsonl`` (the live chunks: id, article, offsets), its BM25 index (``bm25.*``) and the files of its
*segments*. A segment (``seg-000007.vectors.npy``, ``.ids.npy``, ``.articles.jsonl``, ``.terms.npz``)
holds the vectors, article texts and BM25 term ids written by one update and never changes: the next
generation hard-links it and adds one new segment, so an update writes what it embedded, the small
metadata files and the BM25 index (whose statistics are global), not the whole index. Vectors of
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
:mod:`qa.store.vectors`) and the SHA-256 and size of every file; the manifest carries the SHA-256 of its own
canonical JSON (``manifest_sha256``; a manifest without it was written by an earlier version and is
accepted, and the next write adds it). A generation whose chunk ids repeat, or reach ``next_chunk_id``, is
never switched to nor loaded: the next update would number new chunks with ids already taken.

``load`` verifies every checksum, builds the FAISS index from the segments and loads the saved BM25
index; when the same ``ChunkIndex`` loaded the previous generation, it reuses what the two share
(articles, chunks, a copy of the FAISS index) and reads and verifies only the new segments. ``sync``
reads only the manifest and the chunk table (the sizes of the other files are checked), and tokenises
only the chunks it writes, so an update, and the reload after it, cost time mostly in proportion to what
it adds. Metadata is JSON, vectors and term ids are ``.npy``/``.npz`` read with ``allow_pickle=False``;
nothing is pickled. Indexes written by format 1 (one ``faiss.index`` per generation) are still read, and
converted without re-embedding on the next update; generations written before BM25 was saved with them
build it when loaded and gain it at the next update. Generations written before article dates (their
manifest's article entries and segment records without ``date``) load without dates; the next update
records them, rewriting the article records in a new segment without re-embedding (the engine runs that
update even when no file changed: :attr:`~qa.store.records.Manifest.undated`).

Rooms: :mod:`~qa.store.records` (the typed manifest and its checksum), :mod:`~qa.store.files` (file
names, encodings, checks), :mod:`~qa.store.segments` (segment reading and the merge policy),
:mod:`~qa.store.vectors` (FAISS behind :class:`~qa.store.vectors.VectorIndex`), :mod:`~qa.store.bm25`
(BM25 term ids per segment, the index saved per generation),
:mod:`~qa.store.snapshot` (loading, incrementally), :mod:`~qa.store.sync` (the update diff and the new
generation), :mod:`~qa.store.writer` (crash-safe writing), :mod:`~qa.store.legacy` (format 1) and
:mod:`~qa.store.index` (:class:`ChunkIndex`, the facade).
"""

from qa.store.index import ChunkIndex
from qa.store.snapshot import IndexSnapshot
from qa.store.sync import SyncReport

__all__ = ["ChunkIndex", "IndexSnapshot", "SyncReport"]
