"""Embedding backends: PyTorch against ONNX Runtime (float32 and int8), speed and retrieval recall.

    python bench/embedding_backends.py [--chunks 512] [--repeats 3] [--skip-recall]

**Throughput**: the same chunk texts (a fixed sample of the SQuAD + BBC index's chunks, as embedded by
the index) are embedded by each backend in turn, the order rotating per repeat; chunks/s medians and
the median per-repeat ratio to PyTorch (target >= 2x). **Query latency**: single-question calls (the
``qa ask`` path, one thread), p50 and ratio. **Recall@5** on the held-out SQuAD articles (the reader's
validation split, as in ``bench/retrieval.py``): dense-only and the production hybrid retrieval, over
the PyTorch index (``bench/.cache/index-squad-bbc-1000-200``, shared by float32 ONNX: the same vectors)
and the int8 index (``bench/.cache/index-squad-bbc-1000-200-onnx-int8``, built by
``QA_EMBEDDER=all-MiniLM-L6-v2+onnx-int8`` over the same corpus). Indexes are only read.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, median, percentile, today  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.embedders import get_embedder  # noqa: E402
from qa.encoding import chunk_texts  # noqa: E402
from qa.retrieval import HybridRetriever  # noqa: E402
from qa.store import ChunkIndex  # noqa: E402
from training.datasets import CACHE, DATA_ROOT, VALIDATION_ARTICLES, article_name, read_jsonl  # noqa: E402  # noqa: E402

BACKENDS = {"torch": "all-MiniLM-L6-v2", "onnx": "all-MiniLM-L6-v2+onnx", "onnx-int8": "all-MiniLM-L6-v2+onnx-int8"}
INDEXES = {"torch": CACHE / "index-squad-bbc-1000-200", "onnx": CACHE / "index-squad-bbc-1000-200",
           "onnx-int8": CACHE / "index-squad-bbc-1000-200-onnx-int8"}


def test_questions() -> list[dict]:

    questions = read_jsonl(DATA_ROOT / "squad" / "squad11" / "qa.jsonl")
    return [q for q in questions if article_name(q["doc_id"]) in VALIDATION_ARTICLES]


def recall(backend: str, embedder, questions: list[dict]) -> dict:
    """Dense and hybrid (production) hit rates at 1/5/10 for the questions, over that backend's index."""
    settings = Settings(index_dir=INDEXES[backend], embedder=BACKENDS[backend], candidates=50)
    snap = ChunkIndex(settings.index_dir, settings, embedder).load()
    retr = HybridRetriever(snap, embedder, settings)
    by_source = {a.source: a.id for a in snap.articles.values()}
    chunks_of: dict[str, list] = {}
    for c in snap.chunks:
        chunks_of.setdefault(c.article_id, []).append(c)
    correct = []
    for q in questions:
        spans = [(s, s + len(a)) for a, s in zip(q["answers"], q["answer_starts"])]
        aid = by_source[f"squad.jsonl#{q['doc_id']}"]
        correct.append({c.id for c in chunks_of[aid] if any(c.start <= s and e <= c.end for s, e in spans)})
    texts = [q["question"] for q in questions]
    vecs = embedder.embed(texts)
    _, dids = snap.vectors.search(vecs, 10)
    prod = retr.search_many(texts, 10, vectors=vecs)
    out = {}
    rankings = (("dense", [[int(x) for x in row] for row in dids]),
                ("hybrid", [[p.chunk_id for p in ps] for ps in prod]))
    for name, ranked in rankings:
        pos = [next((r for r, cid in enumerate(rank) if cid in ok), None) for rank, ok in zip(ranked, correct)]
        out[name] = {f"top{k}": sum(p is not None and p < k for p in pos) / len(pos) for k in (1, 5, 10)}
    out["n"] = len(questions)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--chunks", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--backends", default="torch,onnx,onnx-int8")
    ap.add_argument("--skip-recall", action="store_true")
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    args = ap.parse_args()

    names = args.backends.split(",")
    embedders = {b: get_embedder(BACKENDS[b]) for b in names}
    settings = Settings(index_dir=INDEXES["torch"])
    snap = ChunkIndex(settings.index_dir, settings, embedders[names[0]]).load(verify=False)
    rng = np.random.default_rng(0)
    sample = [snap.chunks[i] for i in sorted(rng.choice(len(snap.chunks), args.chunks, replace=False))]
    texts = chunk_texts(snap.articles, sample)
    questions = test_questions()
    queries = [q["question"] for q in questions[:: max(1, len(questions) // args.queries)][: args.queries]]
    for emb in embedders.values():  # load models, export ONNX files if needed, warm up
        emb.embed(texts[:64])
        emb.embed(queries[:1])

    bulk: dict[str, list[float]] = {b: [] for b in names}
    bulk_cpu: dict[str, list[float]] = {b: [] for b in names}
    query: dict[str, list[float]] = {b: [] for b in names}
    for r in range(args.repeats):
        order = names[r % len(names):] + names[: r % len(names)]
        for b in order:
            t, c = time.perf_counter(), time.process_time()
            embedders[b].embed(texts)
            bulk[b].append(time.perf_counter() - t)
            bulk_cpu[b].append(time.process_time() - c)
            for q in queries:
                t = time.perf_counter()
                embedders[b].embed([q])
                query[b].append(time.perf_counter() - t)
        rates = ", ".join(f"{b} {len(texts) / bulk[b][-1]:.1f} chunks/s" for b in names)
        print(f"repeat {r + 1}: {rates}", flush=True)
    result = {"chunks": len(texts), "repeats": args.repeats, "queries": len(queries), "backends": {}}
    for b in names:
        ratios = [bulk["torch"][i] / bulk[b][i] for i in range(args.repeats)] if "torch" in bulk else []
        result["backends"][b] = {
            "embedder": embedders[b].name,
            "chunks_per_s": len(texts) / median(bulk[b]),
            "speedup_vs_torch": median(ratios) if ratios else None,
            "cpu_s": median(bulk_cpu[b]),
            "cpu_speedup_vs_torch": (median([bulk_cpu["torch"][i] / bulk_cpu[b][i] for i in range(args.repeats)])
                                     if ratios else None),
            "query_p50_ms": median(query[b]) * 1000, "query_p95_ms": percentile(query[b], 95) * 1000,
            "query_speedup_vs_torch": median(query["torch"]) / median(query[b]) if "torch" in query else None,
        }
    if not args.skip_recall:
        for b in names:
            if INDEXES[b].exists():
                result["backends"][b]["recall_test"] = recall(b, embedders[b], questions)
                print(b, result["backends"][b]["recall_test"], flush=True)
    result.update({"machine": machine(), "date": today(), "load_average": __import__("os").getloadavg()})
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
