"""Retrieval quality and latency on SQuAD articles mixed with the 2,225 BBC articles as distractors.

    python bench/retrieval.py [--chunk-size 1000 --chunk-overlap 200]

A hit is a retrieved chunk of the question's article whose span holds a reference answer. Fusion
variants are compared on the training articles (tune) and reported on the held-out validation
articles (test, the reader's split): a choice is made on tune, never on test.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))

from bench.common import machine, median, percentile, today  # noqa: E402
from qa import QA, Settings  # noqa: E402
from qa.retrieval import rrf_fusion, zscore_fusion  # noqa: E402
from training.datasets import (  # noqa: E402
    DATA_ROOT,
    VALIDATION_ARTICLES,
    article_name,
    read_jsonl,
    squad_bbc_corpus,
    squad_bbc_index,
)


def gold_spans(q: dict) -> list[tuple[int, int]]:
    return [(s, s + len(a)) for a, s in zip(q["answers"], q["answer_starts"])]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--chunk-size", type=int, default=Settings().chunk_size)
    ap.add_argument("--chunk-overlap", type=int, default=Settings().chunk_overlap)
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--limit", type=int, default=0, help="questions per split (0 = all)")
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    settings = Settings(articles_dir=squad_bbc_corpus(),
                        index_dir=squad_bbc_index(args.chunk_size, args.chunk_overlap),
                        chunk_size=args.chunk_size, chunk_overlap=args.chunk_overlap, candidates=args.depth)
    qa = QA(settings=settings)
    t = time.perf_counter()
    qa.refresh(progress=True)
    print(f"index ready in {time.perf_counter() - t:.0f}s: {len(qa.snapshot.chunks)} chunks, "
          f"{len(qa.snapshot.articles)} articles")
    snap = qa.snapshot
    retr = qa.retriever
    by_source = {a.source: a.id for a in snap.articles.values()}

    questions = read_jsonl(DATA_ROOT / "squad" / "squad11" / "qa.jsonl")
    splits = {"tune": [], "test": []}
    for q in questions:
        splits["test" if article_name(q["doc_id"]) in VALIDATION_ARTICLES else "tune"].append(q)
    if args.limit:
        rng = np.random.default_rng(0)
        splits = {k: [v[i] for i in sorted(rng.choice(len(v), min(args.limit, len(v)), replace=False))]
                  for k, v in splits.items()}

    results = {}
    for split, qs in splits.items():
        texts = [q["question"] for q in qs]
        t = time.perf_counter()
        vecs = qa.embedder.embed(texts)
        t_embed = (time.perf_counter() - t) / len(qs)
        dscore, dids = snap.vectors.search(vecs, args.depth)
        lex = retr.lexical.search(texts, args.depth)
        hits = []
        for q in qs:
            aid = by_source[f"squad.jsonl#{q['doc_id']}"]
            spans = gold_spans(q)
            hits.append((aid, spans))
        # which chunk ids are correct, per question
        chunks_of = {}
        for c in snap.chunks:
            chunks_of.setdefault(c.article_id, []).append(c)
        correct = []
        for aid, spans in hits:
            correct.append({c.id for c in chunks_of[aid] if any(c.start <= s and e <= c.end for s, e in spans)})
        variants = {
            "dense": lambda i: [int(x) for x in dids[i]],
            "bm25": lambda i: [int(retr._row_ids[r]) for r, _ in lex[i]],
        }
        for w in (0.3, 0.4, 0.5):
            variants[f"zscore d{w}"] = (lambda w: lambda i: _ranked(zscore_fusion(*_lists(i), w)))(w)
        for w in (0.3, 0.5):
            variants[f"rrf d{w}"] = (lambda w: lambda i: _ranked(rrf_fusion(*_lists(i), w, 60)))(w)
        prod = retr.search_many(texts, 10, vectors=vecs)
        variants["production (settings)"] = lambda i: [p.chunk_id for p in prod[i]]

        def _lists(i):
            dense = {int(c): float(v) for c, v in zip(dids[i], dscore[i]) if c >= 0}
            return dense, {int(retr._row_ids[r]): v for r, v in lex[i]}

        res = {}
        for name, rank_fn in variants.items():
            top1 = top5 = top10 = 0
            mrr = 0.0
            for i in range(len(qs)):
                ranked = rank_fn(i)
                pos = next((r for r, cid in enumerate(ranked) if cid in correct[i]), None)
                if pos is not None:
                    top1 += pos == 0
                    top5 += pos < 5
                    top10 += pos < 10
                    mrr += 1 / (pos + 1)
            n = len(qs)
            res[name] = {"top1": top1 / n, "top5": top5 / n, "top10": top10 / n, "mrr": mrr / n, "n": n}
        results[split] = res
        results[split + "_embed_ms_batched"] = t_embed * 1000

    # single-question latency through the public search path (warm)
    # baseline in the same run: the embedder's own encode of the question, alternated with the search
    lat, enc = [], []
    sample = [q["question"] for q in splits["test"][:200]]
    for text in sample[:10]:
        qa.search(text)
    for text in sample:
        t = time.perf_counter()
        qa.embedder.embed([text])
        enc.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        qa.search(text)
        lat.append((time.perf_counter() - t) * 1000)
    results["search_latency_ms"] = {"p50": median(lat), "p95": percentile(lat, 95), "n": len(lat),
                                    "embed_only_p50": median(enc), "ratio_p50": median(lat) / median(enc)}
    results["settings"] = {"chunk_size": args.chunk_size, "chunk_overlap": args.chunk_overlap, "depth": args.depth,
                           "chunks": len(snap.chunks), "articles": len(snap.articles)}
    results["machine"] = machine()
    results["date"] = today()

    print(f"\n{'variant':<24} {'tune top1':>9} {'top5':>6} {'test top1':>9} {'top5':>6} {'top10':>6} {'mrr':>6}")
    for name in results["tune"]:
        a, b = results["tune"][name], results["test"][name]
        print(f"{name:<24} {a['top1']:9.3f} {a['top5']:6.3f} {b['top1']:9.3f} {b['top5']:6.3f} {b['top10']:6.3f} "
              f"{b['mrr']:6.3f}")
    print("search latency ms:", results["search_latency_ms"])
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)


def _ranked(fused: dict[int, float]) -> list[int]:
    return [c for c, _ in sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))]


if __name__ == "__main__":
    main()
