"""Indexing throughput on a local Ray cluster (1 and 2 workers) against the single-process path, same run.

    python bench/ray_indexing.py [--articles 2000] [--repeats 3] [--cpus 2] [--write]

Corpus: Reuters-21578 + BBC (``bench.common.news_corpus()``, ~21k articles, ~35k chunks), loaded once on
the driver (parsing is serial in both paths and timed apart); a fixed subset of ``--articles`` articles,
evenly spaced over the whole corpus so both sources are in it, is indexed from scratch by each
configuration: ``ChunkIndex.sync`` into a fresh folder, i.e. chunking, embedding, the FAISS index and
the generation written to disk, exactly what ``qa index`` / ``qa index --ray`` do for a new folder.

Configurations, each repeat in a rotated order: ``local`` (this process, torch on all cores: the
default path), ``ray-1`` (one Ray worker, one CPU) and ``ray-2`` (two workers, one CPU each), on a
local cluster of ``--cpus`` CPUs started once (its start-up is reported apart; the workers' start-up,
embedder loading included, is inside each Ray timing, as it is in every ``qa index --ray`` run).
Printed: median seconds and chunks/s per configuration and the ratio to ``local``. ``--write`` puts
the figures in ``bench/RESULTS.md`` (its own marked section). Every run also checks that the Ray
indexes hold the local index's chunks and (within 1e-5) its vectors.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, machine, median, today, write_section  # noqa: E402
from qa.articles import load_articles  # noqa: E402
from qa.chunking import Chunker  # noqa: E402
from qa.config import REPO_ROOT, Settings  # noqa: E402
from qa.embedders import get_embedder  # noqa: E402
from qa.store import ChunkIndex  # noqa: E402
from training.datasets import news_corpus  # noqa: E402


def subset(articles: list, n: int) -> list:
    """``n`` articles evenly spaced over ``articles`` (all of them when ``n`` is 0 or too large)."""
    if not n or n >= len(articles):
        return list(articles)
    step = len(articles) / n
    return [articles[int(i * step)] for i in range(n)]


def build(articles, encoder, settings: Settings, embedder, workdir: Path) -> tuple[float, object]:
    """Seconds to index ``articles`` into a fresh folder with ``encoder``, and the loaded snapshot."""
    folder = Path(tempfile.mkdtemp(dir=workdir))
    index = ChunkIndex(folder, settings, embedder)
    t0 = time.perf_counter()
    index.sync(articles, {}, progress=False, encoder=encoder or index.encoder)
    seconds = time.perf_counter() - t0
    snap = index.load()
    shutil.rmtree(folder)
    return seconds, snap


def same_index(a, b) -> float:
    """The largest vector difference between two snapshots with identical chunks (else an error)."""
    import numpy as np

    def spans(chunks):
        return [(c.id, c.article_id, c.start, c.end) for c in chunks]

    assert spans(a.chunks) == spans(b.chunks)
    ids = [c.id for c in a.chunks]
    va = np.stack([a.vectors.reconstruct(i) for i in ids])
    vb = np.stack([b.vectors.reconstruct(i) for i in ids])
    diff = float(np.abs(va - vb).max())
    assert diff < 1e-5, diff
    return diff


class RandomVectors:
    """Chunks like the other encoders but returns random unit vectors at once, so that what is left of an
    index build is the driver's serial work (diff, FAISS add, generation write and checksums)."""

    def __init__(self, chunker, dim: int) -> None:
        self.chunker = chunker
        self.dim = dim
        self.chunk_s = 0.0

    def encode(self, articles, first_id, progress=False):
        import numpy as np

        t0 = time.perf_counter()
        chunks = []
        for art in articles:
            chunks.extend(self.chunker.split(art, first_id=first_id + len(chunks)))
        self.chunk_s = time.perf_counter() - t0
        v = np.random.default_rng(0).standard_normal((len(chunks), self.dim)).astype(np.float32)
        return chunks, v / np.linalg.norm(v, axis=1, keepdims=True)


def driver_cost(articles, settings: Settings, embedder, workdir: Path) -> tuple[int, float, float]:
    """``(chunks, chunking s, driver s)`` of a from-scratch build of ``articles`` without embedding."""
    folder = Path(tempfile.mkdtemp(dir=workdir))
    index = ChunkIndex(folder, settings, embedder)
    encoder = RandomVectors(Chunker(settings.chunk_size, settings.chunk_overlap), int(embedder.dim))
    t0 = time.perf_counter()
    report = index.sync(articles, {}, progress=False, encoder=encoder)
    total = time.perf_counter() - t0
    shutil.rmtree(folder)
    return report.chunks_embedded, encoder.chunk_s, total - encoder.chunk_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=2000, help="articles in the subset (0: all ~21k)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cpus", type=int, default=os.cpu_count() or 2, help="CPUs of the local Ray cluster")
    ap.add_argument("--write", action="store_true", help=f"write the figures into {RESULTS.relative_to(REPO_ROOT)}")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import ray

    from qa.distributed.encoder import RayChunkEncoder

    settings = Settings()
    embedder = get_embedder(settings.embedder)
    embedder.embed(["warm up"])  # the single-process path is timed with its model already loaded
    t0 = time.perf_counter()
    loaded = load_articles(news_corpus())
    load_s = time.perf_counter() - t0
    articles = subset(loaded.articles, args.articles)
    workdir = Path(tempfile.mkdtemp(prefix="ray-indexing-"))

    t0 = time.perf_counter()
    ray.init(address="local", num_cpus=args.cpus, object_store_memory=500 * 1024 * 1024, include_dashboard=False,
             log_to_driver=False, logging_level=logging.WARNING)
    init_s = time.perf_counter() - t0
    encoders = {
        "local": None,
        "ray-1": RayChunkEncoder(settings, workers=1),
        "ray-2": RayChunkEncoder(settings, workers=2),
    }
    names = list(encoders)
    times: dict[str, list[float]] = {n: [] for n in names}
    startup: list[float] = []  # two workers encoding two short articles: start-up with next to no work
    n_chunks = 0
    max_diff = 0.0
    try:
        for r in range(args.repeats):
            order = names[r % len(names):] + names[: r % len(names)]
            snaps = {}
            for name in order:
                seconds, snaps[name] = build(articles, encoders[name], settings, embedder, workdir)
                times[name].append(seconds)
                n_chunks = len(snaps[name].chunks)
                print(f"repeat {r + 1}: {name:6s} {seconds:7.1f} s  {n_chunks / seconds:6.1f} chunks/s", flush=True)
            for name in names[1:]:
                max_diff = max(max_diff, same_index(snaps["local"], snaps[name]))
            t0 = time.perf_counter()
            encoders["ray-2"].encode(sorted(articles, key=lambda a: len(a.text))[:2], 0)
            startup.append(time.perf_counter() - t0)
    finally:
        ray.shutdown()

    full_chunks, full_chunk_s, full_driver_s = driver_cost(loaded.articles, settings, embedder, workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    base = median(times["local"])
    start = median(startup)
    rows = []
    for name in names:
        m = median(times[name])
        steady = "" if name == "local" else f"{n_chunks / max(m - start, 1e-9):.1f}"
        rows.append(f"| {name} | {m:.1f} | {n_chunks / m:.1f} | {base / m:.2f}x | {steady} |")
    n_sources = {a.source.split("#")[0] for a in articles}
    section = "\n".join([
        "## Distributed indexing on Ray (issue 8)",
        "",
        f"`python bench/ray_indexing.py --articles {args.articles} --repeats {args.repeats} --cpus {args.cpus} "
        "--write` "
        f"on {machine()}, {today()}; Ray {ray.__version__}.",
        "",
        f"Subset: {len(articles)} of the {len(loaded.articles)} Reuters + BBC articles (evenly spaced over "
        f"{', '.join(sorted(n_sources))}), {n_chunks} chunks at the default chunking. Each configuration "
        "indexes the subset from scratch (chunk, embed, FAISS, write the generation), "
        f"{args.repeats} repeats in rotated order; medians. Loading and parsing all "
        f"{len(loaded.articles)} articles on the driver took {load_s:.1f} s (once; the same in every path), "
        f"starting the local Ray cluster {init_s:.1f} s (once; not in the figures). Worker start-up (Python, "
        "torch and the embedder loaded in each worker) is inside the Ray figures. The Ray indexes held the "
        f"local index's chunks exactly and its vectors within {max_diff:.1e}. A Ray job's fixed cost (two "
        f"workers started, two short articles encoded) was {start:.1f} s (median); the last column takes it "
        "out.",
        "",
        "| configuration | median s | chunks/s | vs local | chunks/s without start-up |",
        "|---|---:|---:|---:|---:|",
        *rows,
        "",
        f"Serial work on the driver, whole corpus ({len(loaded.articles)} articles, {full_chunks} chunks), measured "
        "with an encoder that returns random vectors instantly: chunking (parallel on the cluster) "
        f"{full_chunk_s:.1f} s; diff, FAISS add and writing the generation (serial, on the driver) "
        f"{full_driver_s:.1f} s; plus {full_chunks * int(embedder.dim) * 4 / 1e6:.0f} MB of vectors gathered "
        f"from the workers. At the local rate above, embedding those chunks takes "
        f"{full_chunks / (n_chunks / base) / 60:.0f} min on this machine.",
        "",
    ])
    print()
    print(section)
    if args.write:
        write_section("ray-indexing", section)
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
