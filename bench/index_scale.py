"""Index at scale: approximate search above a size threshold, and the cost of a small update.

    python bench/index_scale.py recall [--index DIR] [--scales 1,4,12] [--queries 1000]
    python bench/index_scale.py update [--repeats 5] [--baseline-commit f474397]

``recall``: takes the real chunk vectors of a built index (default: the BBC+Reuters index when it is
complete, else the SQuAD+BBC one), optionally grown to larger sizes with *perturbed copies* of those
real vectors (each copy is as far from its original as a real chunk is from its nearest real
neighbour), and compares exact search (flat) with the approximate structures of :mod:`qa.store.vectors`
on real queries (SQuAD questions): recall@10 and @50 against exact search, per-query search time
(k=50, one query at a time), training and filling time, and memory.

``update``: the cost of adding 10 articles to an index of ~20k BBC+Reuters articles (~34.5k chunks),
against the time to chunk and embed those 10 articles alone (same run, same process), for the
current code and for the code of ``--baseline-commit`` (extracted with ``git archive``). The base index
is built with a stand-in encoder (random unit vectors for the real chunks: same files, same sizes, no
hour of embedding); every update embeds its 10 articles with the real embedder.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.common import machine, median, today  # noqa: E402
from training.datasets import CACHE, DATA_ROOT, news_corpus, read_jsonl  # noqa: E402

NEWS_INDEX = CACHE / "index-news-bbc-reuters"
SQUAD_INDEX = CACHE / "index-squad-bbc-1000-200"
HELD_OUT = 100  # articles kept out of the base index, added 10 per update


# ------------------------------------------------------------------ recall
class _NoEmbedder:
    """Enough of an embedder to read an index's files (nothing is embedded)."""

    name, dim = "stub", 384


def real_vectors(index_dir: Path) -> np.ndarray:
    """The float32 chunk vectors of a built index (either format)."""
    from qa.config import Settings
    from qa.store import ChunkIndex

    index = ChunkIndex(index_dir, Settings(index_dir=index_dir), _NoEmbedder())
    snap = index.load(verify=False)
    if snap is None:
        raise SystemExit(f"no index in {index_dir}; build it first")
    return np.ascontiguousarray(index.read_vectors(snap)[1], dtype=np.float32)


def squad_queries(n: int) -> np.ndarray:
    path = CACHE / f"index-scale-queries-{n}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    from qa.embedders import get_embedder

    qs = [q["question"] for q in read_jsonl(DATA_ROOT / "squad" / "squad11" / "qa.jsonl")]
    pick = np.random.default_rng(0).choice(len(qs), n, replace=False)
    vectors = get_embedder().embed([qs[i] for i in pick])
    np.save(path, vectors, allow_pickle=False)
    return vectors


def grow(x: np.ndarray, factor: int, cos: float, seed: int = 0) -> np.ndarray:
    """``x`` plus ``factor - 1`` perturbed copies whose cosine to their original is about ``cos``."""
    rng = np.random.default_rng(seed)
    sigma = np.sqrt(1 / cos**2 - 1)
    parts = [x]
    for _ in range(factor - 1):
        noise = rng.standard_normal(x.shape).astype(np.float32) * (sigma / np.sqrt(x.shape[1]))
        y = x + noise
        parts.append(y / np.linalg.norm(y, axis=1, keepdims=True))
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def nearest_neighbour_cosine(x: np.ndarray, sample: int = 2000) -> float:
    import faiss

    flat = faiss.IndexFlatIP(x.shape[1])
    flat.add(x)
    pick = np.random.default_rng(1).choice(len(x), min(sample, len(x)), replace=False)
    d, _ = flat.search(x[pick], 2)
    return float(np.median(d[:, 1]))


def recall(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    return float(np.mean([len(set(f[:k].tolist()) & set(t[:k].tolist())) / k for f, t in zip(found, truth)]))


def per_query_ms(index, queries: np.ndarray, k: int = 50, n: int = 200) -> float:
    """Median time of one query (k=50, as retrieval asks), on one FAISS thread: a lone query gains
    nothing from threads, and on a loaded machine idle OpenMP threads make it slower and noisier."""
    import faiss

    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        times = []
        for q in queries[:n]:
            t = time.perf_counter()
            index.search(q[None, :], k)
            times.append(time.perf_counter() - t)
    finally:
        faiss.omp_set_num_threads(threads)
    return median(times) * 1e3


def cmd_recall(args) -> dict:
    import faiss

    from qa.store.vectors import (
        VectorIndex,
        VectorIndexSettings,
        default_nprobe,
        index_memory_bytes,
        train_layout,
        training_size,
    )

    source = Path(args.index) if args.index else (NEWS_INDEX if (NEWS_INDEX / "CURRENT").exists() else SQUAD_INDEX)
    base = real_vectors(source)
    queries = squad_queries(args.queries)
    nn_cos = nearest_neighbour_cosine(base)
    print(f"{len(base)} real vectors from {source.name}; median nearest-neighbour cosine {nn_cos:.3f}")
    vs = VectorIndexSettings()
    rows = []
    for factor in [int(s) for s in args.scales.split(",")]:
        x = grow(base, factor, nn_cos)
        n = len(x)
        ids = np.arange(n, dtype=np.int64)
        flat = faiss.IndexFlatIP(x.shape[1])
        flat.add(x)
        _, truth = flat.search(queries, 50)
        flat_ms = per_query_ms(flat, queries)
        row = {"n": n, "real": len(base), "factor": factor, "flat_ms": flat_ms, "flat_bytes": int(x.nbytes),
               "kinds": []}
        print(f"n={n}: flat {flat_ms:.2f} ms/query, {x.nbytes / 2**20:.0f} MiB")
        rng = np.random.default_rng(2)
        kinds = ("ivf-flat", "ivf-sq8") + (("ivf-pq48",) if args.pq and factor == 1 else ())
        for kind in kinds:
            sample = x[np.sort(rng.choice(n, training_size(n, vs), replace=False))]
            t = time.perf_counter()
            if kind == "ivf-pq48":  # for comparison only: product quantisation, 48 bytes a vector
                from qa.store.vectors import VectorLayout, nlist_for

                nlist = max(1, min(nlist_for(n), len(sample) // 39))
                trained = faiss.index_factory(x.shape[1], f"IVF{nlist},PQ48", faiss.METRIC_INNER_PRODUCT)
                trained.train(sample)
                layout = VectorLayout(kind="ivf-flat", nlist=nlist, trained_on=n)  # kind only picks the code path
            else:
                layout, trained = train_layout(kind, n, sample, x.shape[1])
            train_s = time.perf_counter() - t
            t = time.perf_counter()
            index = VectorIndex.build(layout, trained, x.shape[1],
                                      ((ids[i:i + 65536], x[i:i + 65536]) for i in range(0, n, 65536)), vs).faiss
            fill_s = time.perf_counter() - t
            ivf = faiss.extract_index_ivf(index)
            default = default_nprobe(layout.nlist)
            sweep = []
            for nprobe in sorted({max(1, default // 4), max(1, default // 2), default, min(layout.nlist, default * 2)}):
                ivf.nprobe = nprobe
                _, found = index.search(queries, 50)
                sweep.append({"nprobe": nprobe, "default": nprobe == default, "recall10": recall(found, truth, 10),
                              "recall50": recall(found, truth, 50), "ms": per_query_ms(index, queries)})
            ivf.nprobe = default
            mem = index_memory_bytes(index)
            row["kinds"].append({"kind": kind, "nlist": layout.nlist, "train_s": train_s, "train_points": len(sample),
                                 "fill_s": fill_s, "bytes": mem, "sweep": sweep})
            d = next(s for s in sweep if s["default"])
            print(f"  {kind}: nlist {layout.nlist}, train {train_s:.1f}s on {len(sample)}, fill {fill_s:.1f}s, "
                  f"{mem / 2**20:.0f} MiB; default nprobe {default}: recall@10 {d['recall10']:.3f}, "
                  f"@50 {d['recall50']:.3f}, {d['ms']:.2f} ms/query ({flat_ms / d['ms']:.1f}x faster than flat)")
            for s in sweep:
                print(f"      nprobe {s['nprobe']:4d}: recall@10 {s['recall10']:.3f} @50 {s['recall50']:.3f} "
                      f"{s['ms']:.2f} ms")
            del index, trained
        rows.append(row)
    return {"source": str(source.resolve().relative_to(REPO)), "nn_cosine": nn_cos, "queries": len(queries),
            "rows": rows}


# ------------------------------------------------------------------ update cost
class StandInEncoder:
    """Real chunks with random unit vectors: builds a base index of the right size without embedding."""

    def __init__(self, chunker, dim: int = 384) -> None:
        self.chunker, self.dim = chunker, dim

    def encode(self, articles, first_id, progress=False):
        chunks = []
        for a in articles:
            chunks.extend(self.chunker.split(a, first_id=first_id + len(chunks)))
        v = np.random.default_rng(first_id).standard_normal((len(chunks), self.dim)).astype(np.float32)
        return chunks, v / np.linalg.norm(v, axis=1, keepdims=True)


class TimingEncoder:
    """The real encoder, timed: what a sync spends outside it is the index's own cost."""

    def __init__(self, inner) -> None:
        self.inner, self.seconds = inner, 0.0

    def encode(self, articles, first_id, progress=False):
        t = time.perf_counter()
        try:
            return self.inner.encode(articles, first_id, progress)
        finally:
            self.seconds += time.perf_counter() - t


def qa_from_commit(commit: str) -> Path:
    """The ``qa`` package as it was at ``commit`` (read with ``git archive``; nothing in the checkout changes)."""
    dest = CACHE / f"qa-{commit}"
    if not (dest / "qa" / "index.py").exists():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "qa"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def cmd_update_one(args) -> dict:
    """One implementation (the one importable as ``qa``): base build, then ``repeats`` updates of 10 articles."""
    from qa.articles import load_articles
    from qa.chunking import Chunker
    from qa.config import Settings
    from qa.embedders import get_embedder
    from qa.encoding import LocalChunkEncoder
    from qa.store import ChunkIndex
    from qa.store.records import FORMAT_VERSION

    t = time.perf_counter()
    loaded = load_articles(news_corpus())
    scan_s = time.perf_counter() - t
    articles = sorted(loaded.articles, key=lambda a: a.id)
    if not 1 <= args.repeats <= HELD_OUT // 10:
        raise SystemExit(f"--repeats must be between 1 and {HELD_OUT // 10}")
    held = articles[-HELD_OUT:]
    base_articles = articles[:-HELD_OUT]
    settings = Settings()
    embedder = get_embedder()
    base_dir = CACHE / f"index-scale-base-{args.label}-{len(base_articles)}"
    probe = ChunkIndex(base_dir, settings, embedder)
    if probe.current_generation() is None:
        print(f"[{args.label}] building the base index of {len(base_articles)} articles (stand-in vectors)...",
              flush=True)
        t = time.perf_counter()
        probe.sync(base_articles, encoder=StandInEncoder(Chunker(settings.chunk_size, settings.chunk_overlap)))
        print(f"[{args.label}] base built in {time.perf_counter() - t:.0f}s", flush=True)
    work = CACHE / f"index-scale-work-{args.label}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(base_dir, work, symlinks=True)
    index = ChunkIndex(work, settings, embedder)
    real = LocalChunkEncoder(Chunker(settings.chunk_size, settings.chunk_overlap), embedder)
    real.encode(held[:2], 10**9)  # warm the embedder
    index.load()  # as a running QA has: the current generation in memory
    syncs, embeds, written, inside, reloads = [], [], [], [], []
    current = list(base_articles)
    for r in range(args.repeats):
        batch = held[10 * r: 10 * r + 10]
        current += batch
        order = [("embed", "sync"), ("sync", "embed")][r % 2]
        for what in order:
            t = time.perf_counter()
            if what == "embed":
                chunks, _ = real.encode(batch, 10**9)
                embeds.append(time.perf_counter() - t)
            else:
                before = _bytes_under(work)
                timed = TimingEncoder(real)
                report = index.sync(current, encoder=timed)
                syncs.append(time.perf_counter() - t)
                inside.append(timed.seconds)
                written.append(_new_bytes(work, before))
                assert len(report.added) == 10 and report.unchanged == len(current) - 10, report.summary()
                t = time.perf_counter()
                index.load()  # what QA.refresh does next: serve the new generation
                reloads.append(time.perf_counter() - t)
        print(f"[{args.label}] update {r + 1}: sync {syncs[-1]:.2f}s (index work {syncs[-1] - inside[-1]:.2f}s), "
              f"embed alone {embeds[-1]:.2f}s, reload {reloads[-1]:.2f}s "
              f"({len(chunks)} chunks), {written[-1] / 2**20:.1f} MiB written", flush=True)
    t = time.perf_counter()
    snap = ChunkIndex(work, settings, embedder).load()  # a new process: everything read and verified
    load_s = time.perf_counter() - t
    return {"label": args.label, "format": FORMAT_VERSION, "articles": len(current),
            "chunks": len(snap.chunks), "scan_s": scan_s, "load_s": load_s, "sync_s": syncs, "embed_s": embeds,
            "written_bytes": written, "sync_median": median(syncs), "embed_median": median(embeds),
            "ratio": median(syncs) / median(embeds), "encode_in_sync_s": inside,
            "ratio_per_update_median": median([s / e for s, e in zip(syncs, embeds)]),
            "reload_s": reloads, "reload_median": median(reloads),
            "with_reload_ratio_per_update_median": median([(s + r) / e for s, r, e in zip(syncs, reloads, embeds)]),
            "overhead_median": median([s - i for s, i in zip(syncs, inside)])}


def _bytes_under(folder: Path) -> dict[int, int]:
    return {p.stat().st_ino: p.stat().st_size for p in folder.rglob("*") if p.is_file()}


def _new_bytes(folder: Path, before: dict[int, int]) -> int:
    """Bytes in files that did not exist before (hard links to old files do not count)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.stat().st_ino not in before)


def cmd_update(args) -> dict:
    results = []
    for label, pythonpath in (("before", qa_from_commit(args.baseline_commit)), ("after", REPO)):
        out = CACHE / f"index-scale-update-{label}.json"
        env = {**os.environ, "INDEX_SCALE_QA": str(pythonpath)}
        subprocess.run([sys.executable, __file__, "update-one", "--label", label, "--repeats", str(args.repeats),
                        "--out", str(out)], check=True, env=env)
        results.append(json.loads(out.read_text()))
    for r in results:
        print(f"{r['label']:>6} (format {r['format']}): {r['articles']} articles, {r['chunks']} chunks; "
              "add 10 articles: "
              f"sync median {r['sync_median']:.2f}s vs embed alone {r['embed_median']:.2f}s -> ratio {r['ratio']:.2f} "
              f"(median of per-update ratios {r['ratio_per_update_median']:.2f}); "
              f"index work (sync minus its embedding) median {r['overhead_median']:.2f}s; "
              f"reload after the update median {r['reload_median']:.2f}s (sync + reload vs embed: median ratio "
              f"{r['with_reload_ratio_per_update_median']:.2f}); "
              f"written per update {median(r['written_bytes']) / 2**20:.1f} MiB; "
              f"full load in a new process {r['load_s']:.1f}s; "
              f"folder scan {r['scan_s']:.1f}s")
    return {"commit": args.baseline_commit, "results": results}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("recall")
    p.add_argument("--index", default=None)
    p.add_argument("--scales", default="1,4,12", help="sizes as multiples of the real vectors")
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--pq", action="store_true",
                   help="also try IVF-PQ (48 bytes a vector) on the real vectors, for comparison")
    p = sub.add_parser("update")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--baseline-commit", default="f474397")
    p = sub.add_parser("update-one")
    p.add_argument("--label", required=True)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", required=True)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    print(f"{today()} {machine()}", flush=True)
    if args.cmd == "update-one":
        res = cmd_update_one(args)
        Path(args.out).write_text(json.dumps(res, indent=1))
        return
    res = {"date": today(), "machine": machine(), **(cmd_recall(args) if args.cmd == "recall" else cmd_update(args))}
    out = Path(args.out) if args.out else CACHE / f"index-scale-{args.cmd}.json"
    out.write_text(json.dumps(res, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    if os.environ.get("INDEX_SCALE_QA"):
        sys.path.insert(0, os.environ["INDEX_SCALE_QA"])
    main()
