"""Ingestion throughput: the indexing pipeline against raw ``SentenceTransformer.encode`` on the same chunks.

    python bench/ingestion.py [--articles 1000] [--repeats 3] [--embedder DEFAULT] [--profile]

A fixed sample of BBC + Reuters articles (seed 0, from ``bench.common.news_corpus``) is written once to
``bench/.cache/corpus-news-sample-N/``. Each repeat times, in one warm process and alternating which
goes first:

* **pipeline**: ``load_articles`` on that folder, then ``ChunkIndex.sync`` into a fresh index folder
  (chunk, embed, build the FAISS index, write and fsync the generation), the code path of ``qa index``;
* **raw**: ``SentenceTransformer.encode`` of the bundled model on PyTorch (batch 64, normalised, all
  cores) of exactly the texts the pipeline embeds (``qa.encoding.embed_text`` of each chunk): what a user
  would write by hand, the baseline whatever ``--embedder`` the pipeline uses (default: the settings').

Reported: medians of chunks/s and articles/s, and the median over repeats of pipeline/raw throughput
(the "fast by default" target is >= 2: the whole pipeline twice as fast as bare ``encode``), in wall
time and in CPU time of this process (steadier on a shared machine), and the share of the pipeline's
wall time spent outside ``embed`` (loading, chunking, FAISS, writing). ``--profile`` adds a cProfile of
one pipeline run.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, median, today  # noqa: E402
from qa.articles import load_articles  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.embedders import SentenceTransformerEmbedder, get_embedder  # noqa: E402
from qa.encoding import chunk_texts  # noqa: E402
from qa.store import ChunkIndex  # noqa: E402
from training.datasets import CACHE, news_corpus, read_jsonl  # noqa: E402


def sample_corpus(n: int, seed: int = 0) -> Path:
    """A folder with one JSONL of ``n`` articles sampled from BBC + Reuters (written once)."""
    folder = CACHE / f"corpus-news-sample-{n}"
    out = folder / "sample.jsonl"
    if not out.exists():
        rows = [r for f in sorted(news_corpus().glob("*.jsonl")) for r in read_jsonl(f)]
        rows = random.Random(seed).sample(rows, n)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        tmp.replace(out)
    return folder


class TimedEmbedder:
    """Wraps an embedder and adds up the seconds spent in ``embed`` (the rest of a build is overhead)."""

    def __init__(self, embedder) -> None:
        self.inner, self.name, self.dim, self.seconds = embedder, embedder.name, embedder.dim, 0.0

    def embed(self, texts, progress: bool = False):
        t = time.perf_counter()
        try:
            return self.inner.embed(texts, progress=progress)
        finally:
            self.seconds += time.perf_counter() - t


def run_pipeline(folder: Path, settings: Settings, embedder,
                 timings: dict | None = None) -> tuple[float, int, int, list[str]]:
    """Seconds, articles, chunks, and the embedded texts, for one full index build in a fresh folder;
    ``timings`` receives the seconds spent embedding (``embed_s``) and CPU seconds (``cpu_s``)."""
    index_dir = Path(tempfile.mkdtemp(prefix="ingest-", dir=CACHE))
    timed = TimedEmbedder(embedder)
    try:
        t, c = time.perf_counter(), time.process_time()
        loaded = load_articles(folder, progress=False)
        index = ChunkIndex(index_dir, settings, timed)
        report = index.sync(loaded.articles, progress=False)
        seconds = time.perf_counter() - t
        if timings is not None:
            timings.update(embed_s=timed.seconds, cpu_s=time.process_time() - c)
        snap = index.load(verify=False)
        texts = chunk_texts(snap.articles, snap.chunks)
        assert report.chunks_embedded == len(texts)
        return seconds, len(snap.articles), len(texts), texts
    finally:
        shutil.rmtree(index_dir, ignore_errors=True)


def raw_encoder():
    """Bare ``SentenceTransformer.encode`` of the bundled model, on every core (the baseline)."""
    import os

    import torch


    torch.set_num_threads(os.cpu_count() or 1)
    model = SentenceTransformerEmbedder("all-MiniLM-L6-v2").model
    return lambda texts: model.encode(texts, batch_size=64, convert_to_numpy=True, normalize_embeddings=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--embedder", default=Settings().embedder)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    args = ap.parse_args()

    folder = sample_corpus(args.articles)
    settings = Settings(articles_dir=folder, index_dir=CACHE / "unused", embedder=args.embedder)
    embedder = get_embedder(args.embedder)
    encode = raw_encoder()
    _, n_articles, n_chunks, texts = run_pipeline(folder, settings, embedder)  # warm-up: model, caches
    encode(texts[:64])
    print(f"{n_articles} articles, {n_chunks} chunks, pipeline embedder {embedder.name}, "
          "raw: SentenceTransformer.encode")
    rows = []
    for r in range(args.repeats):
        order = ("raw", "pipeline") if r % 2 == 0 else ("pipeline", "raw")
        row = {}
        for what in order:
            if what == "raw":
                t, c = time.perf_counter(), time.process_time()
                encode(texts)
                row["raw_s"], row["raw_cpu_s"] = time.perf_counter() - t, time.process_time() - c
            else:
                timings: dict = {}
                row["pipeline_s"] = run_pipeline(folder, settings, embedder, timings)[0]
                row["pipeline_cpu_s"], row["pipeline_embed_s"] = timings["cpu_s"], timings["embed_s"]
        row["ratio"] = row["raw_s"] / row["pipeline_s"]  # pipeline throughput / raw throughput
        row["ratio_cpu"] = row["raw_cpu_s"] / row["pipeline_cpu_s"]
        row["outside_embed_share"] = 1 - row["pipeline_embed_s"] / row["pipeline_s"]  # load, chunk, write
        rows.append(row)
        print(f"repeat {r + 1}: raw {row['raw_s']:.1f}s, pipeline {row['pipeline_s']:.1f}s, ratio {row['ratio']:.3f}, "
              f"CPU ratio {row['ratio_cpu']:.3f}, outside embedding {row['outside_embed_share']:.1%}", flush=True)
    pipe, raw = median([r["pipeline_s"] for r in rows]), median([r["raw_s"] for r in rows])
    result = {
        "articles": n_articles, "chunks": n_chunks, "embedder": embedder.name, "raw": "SentenceTransformer.encode",
        "repeats": args.repeats, "load_average": __import__("os").getloadavg(),
        "pipeline": {"seconds": pipe, "chunks_per_s": n_chunks / pipe, "articles_per_s": n_articles / pipe},
        "raw_encode": {"seconds": raw, "chunks_per_s": n_chunks / raw},
        "ratio_median": median([r["ratio"] for r in rows]), "ratio_cpu_median": median([r["ratio_cpu"] for r in rows]),
        "outside_embed_share_median": median([r["outside_embed_share"] for r in rows]), "runs": rows,
        "machine": machine(), "date": today(),
    }
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        run_pipeline(folder, settings, embedder)
        prof.disable()
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(25)
        print(s.getvalue())
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
