"""Chunk and embed articles on a Ray cluster: a :class:`qa.encoding.ChunkEncoder` for the store.

    from qa.distributed.encoder import RayChunkEncoder
    qa = QA("archive", "archive-index", encoder=RayChunkEncoder(Settings(), address="auto", workers=8))
    report = qa.refresh()            # only new and changed articles travel to the cluster

The index (on the driver) decides what to (re-)embed and writes the generation, exactly as on one
machine; this encoder only turns the given articles into chunks and vectors. Ray Data spreads the
articles over a pool of actors; each actor loads the embedder once and, per batch of articles, chunks
them with :class:`qa.chunking.Chunker` and embeds :func:`qa.encoding.embed_text` of each chunk, the same
code the single-machine path runs, so chunks are identical and vectors equal within float tolerance.
Actors send back only offsets and vectors (one row per article); the driver puts them in article order,
numbers the chunks and checks that every article came back exactly once. A worker that dies is
restarted by Ray Data and its batch run again, up to ``retries`` times (then the update fails and the
index is left as it was); the dead attempt's rows are never returned, so nothing is lost or duplicated
(and :func:`assemble` checks it).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qa.chunking import Chunker
from qa.config import Settings
from qa.distributed import DEFAULT_RETRIES, connect, limit_threads, pool_size
from qa.embedders import get_embedder
from qa.encoding import embed_text
from qa.errors import QAError
from qa.types import Article, Chunk

log = logging.getLogger(__name__)

#: Articles per batch sent to a worker: big enough to fill the embedder's batches, small enough that
#: the work spreads evenly and a retried batch costs little.
DEFAULT_ARTICLES_PER_BATCH = 32


@dataclass(frozen=True)
class EmbedderFactory:
    """Builds a worker's embedder from the settings' name (picklable, so it can travel to the workers)."""

    name: str

    def __call__(self):
        return get_embedder(self.name)


class EncodeWorker:
    """A Ray Data actor: loads the chunker and the embedder once, then encodes batches of articles.

    Input rows: ``pos`` (the article's place in the request), ``title``, ``text``. Output rows: ``pos``,
    ``starts`` and ``ends`` (chunk offsets) and ``vectors`` (the chunks' float32 vectors, as bytes).
    """

    def __init__(self, chunk_size: int, chunk_overlap: int, make_embedder: Callable[[], Any], threads: int) -> None:
        limit_threads(threads)
        self.chunker = Chunker(chunk_size, chunk_overlap)
        self.embedder = make_embedder()
        self.embedder.embed(["warm up"])  # load the model now, not inside the first batch

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        spans: list[list[tuple[int, int]]] = []
        texts: list[str] = []
        for title, text in zip(batch["title"], batch["text"], strict=True):
            title, text = str(title), str(text)
            cut = self.chunker.spans(text)
            spans.append(cut)
            texts.extend(embed_text(title, text[s:e], s) for s, e in cut)
        vectors = np.ascontiguousarray(self.embedder.embed(texts), dtype=np.float32)
        out_vectors, at = [], 0
        for cut in spans:
            out_vectors.append(vectors[at:at + len(cut)].tobytes())
            at += len(cut)
        return {
            "pos": np.asarray(batch["pos"], dtype=np.int64),
            "starts": [[s for s, _ in cut] for cut in spans],
            "ends": [[e for _, e in cut] for cut in spans],
            "vectors": out_vectors,
        }


class RayChunkEncoder:
    """Chunks and embeds on a Ray cluster (see the module docstring).

    ``address``: the cluster to join when this process is not connected yet (``None``: ``$RAY_ADDRESS``,
    a cluster started on this machine, or a new local one). ``workers``: actors in the pool (default: one
    per ``cpus_per_worker`` CPUs of the cluster). ``make_embedder``: builds each worker's embedder
    (default: the settings' embedder). ``retries``: restarts of a dead worker before the update fails.
    The connection is made on the first :meth:`encode`, so an index that is up to date never starts a
    cluster.
    """

    def __init__(self, settings: Settings, address: str | None = None, workers: int | None = None,
                 cpus_per_worker: int = 1, articles_per_batch: int = DEFAULT_ARTICLES_PER_BATCH,
                 make_embedder: Callable[[], Any] | None = None, retries: int = DEFAULT_RETRIES) -> None:
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1")
        self.retries = retries
        self.settings = settings
        self.address = address
        self.workers = workers
        self.cpus_per_worker = cpus_per_worker
        self.articles_per_batch = articles_per_batch
        self.make_embedder = make_embedder or EmbedderFactory(settings.embedder)

    def encode(self, articles: Sequence[Article], first_id: int,
               progress: bool = False) -> tuple[list[Chunk], np.ndarray]:
        if not articles:
            return [], np.zeros((0, 0), dtype=np.float32)
        ray = connect(self.address)
        from ray.data import ActorPoolStrategy, DataContext

        ctx = DataContext.get_current()
        ctx.enable_progress_bars = bool(progress)
        ctx.print_on_execution_start = bool(progress)
        batches = math.ceil(len(articles) / self.articles_per_batch)
        workers = pool_size(ray, self.workers, self.cpus_per_worker, batches)
        log.info("Chunking and embedding %d articles on %d Ray worker(s)", len(articles), workers)
        rows = [{"pos": i, "title": a.title, "text": a.text} for i, a in enumerate(articles)]
        ds = ray.data.from_items(rows, override_num_blocks=batches).map_batches(
            EncodeWorker,
            fn_constructor_kwargs={
                "chunk_size": self.settings.chunk_size,
                "chunk_overlap": self.settings.chunk_overlap,
                "make_embedder": self.make_embedder,
                "threads": self.cpus_per_worker,
            },
            batch_size=self.articles_per_batch,
            batch_format="numpy",
            compute=ActorPoolStrategy(size=workers),
            num_cpus=self.cpus_per_worker,
            max_restarts=self.retries,  # a dead actor is restarted and its batch rerun, a bounded number of times
            max_task_retries=self.retries,
        )
        try:
            results = ds.take_all()
        except ray.exceptions.RayError as e:
            raise QAError(f"a Ray worker failed {self.retries + 1} times while embedding ({type(e).__name__}); "
                          "the index was left as it was: fix the cause (its log is in the Ray dashboard/logs) "
                          "and rerun the command") from e
        return assemble(articles, first_id, results)


def assemble(articles: Sequence[Article], first_id: int,
             results: Sequence[dict[str, Any]]) -> tuple[list[Chunk], np.ndarray]:
    """Chunks numbered from ``first_id`` in article order, and their vectors, from the workers' rows.

    Raises ``RuntimeError`` unless every article came back exactly once with one vector per chunk.
    """
    by_pos: dict[int, dict[str, Any]] = {}
    for row in results:
        pos = int(row["pos"])
        if pos in by_pos or not 0 <= pos < len(articles):
            raise RuntimeError(f"the Ray workers returned article #{pos} twice or out of range")
        by_pos[pos] = row
    if len(by_pos) != len(articles):
        missing = sorted(set(range(len(articles))) - set(by_pos))
        raise RuntimeError(f"the Ray workers lost {len(missing)} articles (e.g. #{missing[0]})")
    chunks: list[Chunk] = []
    parts: list[np.ndarray] = []
    dim: int | None = None  # of the last article with chunks
    for pos, art in enumerate(articles):
        row = by_pos[pos]
        starts, ends = [int(s) for s in row["starts"]], [int(e) for e in row["ends"]]
        vecs = np.frombuffer(row["vectors"], dtype=np.float32)
        row_dim = vecs.size // len(starts) if starts else 0
        if starts:
            dim = row_dim
        if len(starts) != len(ends) or (starts and vecs.size != row_dim * len(starts)):
            raise RuntimeError(f"the Ray workers returned a malformed row for article {art.id}")
        for s, e in zip(starts, ends, strict=True):
            chunks.append(Chunk(id=first_id + len(chunks), article_id=art.id, start=s, end=e, text=art.text[s:e]))
        if starts:
            parts.append(vecs.reshape(len(starts), row_dim))
    vectors = np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros((0, dim or 0), np.float32)
    return chunks, np.ascontiguousarray(vectors)
