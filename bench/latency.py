"""Answer latency: ``QA.ask()`` on a warm process, per stage, over corpora of growing size; and the span
reader's inference backends on the same passages.

    python bench/latency.py                                   # every corpus, 60 questions, 2 passes
    python bench/latency.py --corpora seed,bbc-1k --n 60 --repeats 2
    python bench/latency.py --readers [--reader-corpus squad-bbc]   # reader backends, same passages
    python bench/latency.py --readers --f1                    # ... and their F1 on the validation articles

Corpora (``--corpora``):
* ``seed``: the ``seeds/`` folder and its default index (``vectors/``).
* ``bbc-1k``: the first BBC articles holding ~1,000 chunks (a JSONL under ``bench/.cache/``, indexed
  into ``bench/.cache/index-bbc-1k`` on first use).
* ``news``: BBC + Reuters-21578 (20,953 articles, 34,509 chunks), the shared index
  ``bench/.cache/index-news-bbc-reuters`` (read only; build it with ``qa index`` first, see bench/common.py).
* ``news-100k`` (= ``news*3``): that index padded in memory to 3x its size (103,527 chunks): every
  article and chunk copied twice (same text, new ids), the copy's vector the real vector plus Gaussian
  noise (cosine ~0.9 to it), renormalised. Not real text: a stand-in for a 100k-chunk corpus that
  would take hours to embed here. ``NAME*N`` pads any of the shared indexes N times.
* ``squad-bbc``: the retrieval benchmark's index (40 SQuAD articles + BBC, 9,225 chunks), read only.

Questions: ``--n`` (default 60) mixed half and half: SQuAD v1.1 questions of the validation articles and
BBC/Reuters headlines turned into questions ("What happened: <headline>?"), the same for every corpus.
Every question is asked through ``QA.ask`` (end to end, what a user waits for) and then once more stage
by stage: ``HybridRetriever.search_many(timings=...)`` (embed question, FAISS, BM25, fusion) and the
answerer on those passages (read), inside which the network's own forward passes are timed (forward).
The target (issue 6): ``ask`` p50 at most 1.5x the reader's time on the same passages.

``--readers`` times each reader backend (``qa.reader.backends.READER_BACKENDS``) on the passages that
retrieval gives the questions on ``--reader-corpus`` (default ``news``; ``squad-bbc`` when the news
index is not built), rotating the order per question, against the
PyTorch reader as shipped before (float32, torch's default thread count) measured in the same run, and
counts how often each returns the same span as PyTorch float32. ``--f1`` adds
``training.evaluate.evaluate`` per backend (SQuAD v1.1 and v2.0 validation articles).
Results go to ``bench/.cache/latency/*.json``; the figures are copied into ``bench/RESULTS.md`` by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, median, percentile, today  # noqa: E402
from qa import QA, Settings  # noqa: E402
from qa.answerers.protocol import passages_to_read  # noqa: E402
from qa.chunking import Chunker  # noqa: E402
from qa.encoding import chunk_texts  # noqa: E402
from qa.lexical import LexicalIndex  # noqa: E402
from qa.reader import SpanReader  # noqa: E402
from qa.retrieval import HybridRetriever  # noqa: E402
from qa.store import IndexSnapshot  # noqa: E402
from qa.store.vectors import VectorIndex  # noqa: E402
from qa.types import (
    Article,  # noqa: E402
    Chunk,  # noqa: E402
)
from training.datasets import (
    CACHE,
    DATA_ROOT,
    load_examples,  # noqa: E402
    news_corpus,
    read_jsonl,
    squad_bbc_index,  # noqa: E402
)
from training.evaluate import evaluate  # noqa: E402

OUT = CACHE / "latency"
NEWS_INDEX = CACHE / "index-news-bbc-reuters"
CORPORA = ("seed", "bbc-1k", "news", "news-100k")
ALIASES = {"news-100k": "news*3"}
SHARED_INDEXES = {  # name: () -> (articles folder, index folder), both built elsewhere
    "news": lambda: (news_corpus(), NEWS_INDEX),
    "squad-bbc": lambda: (CACHE / "corpus-squad11-bbc", squad_bbc_index()),
}
TEMPLATES = ("What happened: {t}?", "Who is involved in: {t}?", "What is the news about: {t}?",
             "When did this happen: {t}?")


# ------------------------------------------------------------------------------------------- inputs
def questions(n: int, seed: int = 0) -> list[str]:
    """Half SQuAD v1.1 validation questions, half news headlines turned into questions."""

    rng = random.Random(seed)
    squad = [ex.question for ex in load_examples("squad11", "validation")]
    heads = [d["title"] for name in ("bbc.jsonl", "reuters21578.jsonl") for d in read_jsonl(DATA_ROOT / "news" / name)]
    heads = [h.strip() for h in heads if 3 <= len(h.split()) <= 14]
    out = rng.sample(squad, n // 2)
    for i, h in enumerate(rng.sample(heads, n - n // 2)):
        h = h if not h.isupper() else h.capitalize()  # Reuters headlines are in capitals
        out.append(TEMPLATES[i % len(TEMPLATES)].format(t=h.rstrip(".?!")))
    rng.shuffle(out)
    return out


def bbc_subset(target_chunks: int = 1000) -> Path:
    """A folder with the first BBC articles that hold about ``target_chunks`` chunks (default chunking)."""

    folder = CACHE / "corpus-bbc-1k"
    path = folder / "bbc-1k.jsonl"
    if path.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    s = Settings()
    chunker = Chunker(s.chunk_size, s.chunk_overlap)
    rows, n = [], 0
    for d in read_jsonl(DATA_ROOT / "news" / "bbc.jsonl"):
        if n >= target_chunks:
            break
        n += len(chunker.split(Article(d["id"], d["title"], d["text"], "", "")))
        rows.append(d)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    tmp.replace(path)
    return folder


def padded_snapshot(qa: QA, snap, copies: int = 2, noise: float = 0.5, seed: int = 0):
    """``snap`` with every article and chunk copied ``copies`` times; copies' vectors are perturbed.
    All vectors go into an exact ``IndexFlatIP`` (the worst case: no approximate index)."""
    import faiss


    rng = np.random.default_rng(seed)
    ids, base = qa.index.read_vectors(snap)
    pos = {int(i): n for n, i in enumerate(ids)}
    ids = np.array([c.id for c in snap.chunks], dtype=np.int64)
    base = np.ascontiguousarray(base[[pos[int(i)] for i in ids]], dtype=np.float32)
    articles = dict(snap.articles)
    chunks = list(snap.chunks)
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(base.shape[1]))
    index.add_with_ids(base, ids)
    next_id = int(ids.max()) + 1
    for c in range(1, copies + 1):
        for aid, a in snap.articles.items():
            articles[f"{aid}~copy{c}"] = replace(a, id=f"{aid}~copy{c}")
        new = [Chunk(id=next_id + k, article_id=f"{ch.article_id}~copy{c}", start=ch.start, end=ch.end, text=ch.text)
               for k, ch in enumerate(snap.chunks)]
        vec = base + rng.standard_normal(base.shape).astype(np.float32) * (noise / np.sqrt(base.shape[1]))
        vec /= np.linalg.norm(vec, axis=1, keepdims=True)
        index.add_with_ids(vec, np.array([ch.id for ch in new], dtype=np.int64))
        chunks += new
        next_id += len(new)
    manifest = replace(snap.manifest, n_chunks=len(chunks), n_articles=len(articles))
    lexical = LexicalIndex(chunk_texts(articles, chunks), qa.settings.bm25_k1, qa.settings.bm25_b)
    return IndexSnapshot(f"{snap.generation}-padded{copies}", manifest, articles, chunks, VectorIndex(index), lexical)


def open_qa(corpus: str) -> tuple[QA, str]:
    """A QA over ``corpus`` and a note on how it was opened (``NAME*N``: NAME padded to N times its size,
    exact search)."""

    corpus = ALIASES.get(corpus, corpus)
    if corpus == "seed":
        return QA(), "seeds/ + vectors/ (defaults), folder checks on"
    if corpus == "bbc-1k":
        folder = bbc_subset()
        qa = QA(folder, CACHE / "index-bbc-1k")
        qa.refresh(progress=True)
        return qa, "bench/.cache/corpus-bbc-1k indexed into bench/.cache/index-bbc-1k, folder checks on"
    name, _, times = corpus.partition("*")
    if name not in SHARED_INDEXES:
        raise SystemExit(f"unknown corpus '{corpus}': use {', '.join(CORPORA)}, squad-bbc, or NAME*N")
    folder, index_dir = SHARED_INDEXES[name]()
    if not (index_dir / "CURRENT").exists():
        raise SystemExit(f"no index in {index_dir}: build it with qa index --articles {folder} --index {index_dir}")
    qa = QA(folder, index_dir, auto_refresh=False)  # shared indexes are never written to
    snap = qa.index.load(verify=False)
    if not times:
        qa._set_snapshot(snap)
        kind = type(snap.vectors.faiss).__name__
        inner = getattr(snap.vectors.faiss, "index", None)
        kind += f"({type(inner).__name__})" if inner is not None else ""
        return qa, f"{index_dir.relative_to(CACHE.parent.parent)}, read only (folder checks off), FAISS {kind}"
    t = time.perf_counter()
    padded = padded_snapshot(qa, snap, copies=int(times) - 1)
    qa._retriever = HybridRetriever(padded, qa.embedder, qa.settings)
    return qa, (f"{index_dir.relative_to(CACHE.parent.parent)} padded in memory to {len(padded.chunks):,} chunks "
                f"({int(times) - 1} perturbed copies; {time.perf_counter() - t:.0f} s incl. BM25), folder checks off")


# ------------------------------------------------------------------------------------------- timing
class ForwardTimer:
    """Wraps a SpanReader's ``logits`` to add up the seconds spent in the network and the windows run."""

    def __init__(self, reader) -> None:
        self.reader = reader
        self.inner = reader.logits
        self.seconds = 0.0
        self.windows = 0
        reader.logits = self

    def __call__(self, ids, tt, mask, threads: int = 1):
        t = time.perf_counter()
        out = self.inner(ids, tt, mask, threads=threads)
        self.seconds += time.perf_counter() - t
        self.windows += int(ids.shape[0])
        return out

    def reset(self) -> None:
        self.seconds, self.windows = 0.0, 0


def span_reader_of(answerer):
    return getattr(answerer, "inner", answerer)


def stats(xs: list[float]) -> dict[str, float]:
    ms = [x * 1000 for x in xs]
    return {"p50_ms": round(median(ms), 1), "p95_ms": round(percentile(ms, 95), 1), "n": len(ms)}


def measure_corpus(corpus: str, qs: list[str], repeats: int, k: int) -> dict:
    qa, note = open_qa(corpus)
    answerer = qa.answerer
    reader = span_reader_of(answerer)
    timer = ForwardTimer(reader) if hasattr(reader, "logits") else None
    for q in qs[:3]:  # warm up: models loaded, ONNX sessions created, caches filled
        qa.ask(q)
    depth = passages_to_read(answerer, k)  # what ask() retrieves and reads
    rows = []
    for _ in range(repeats):
        for q in qs:
            t = time.perf_counter()
            ans = qa.ask(q, k=k)
            e2e = time.perf_counter() - t
            timings: dict[str, float] = {}
            t = time.perf_counter()
            passages = qa.retriever.search_many([q], depth, timings=timings)[0]
            retrieve = time.perf_counter() - t
            if timer:
                timer.reset()
            t = time.perf_counter()
            answerer.answer(q, passages)
            read = time.perf_counter() - t
            rows.append({"e2e": e2e, "retrieve": retrieve, "read": read, **{k2[:-2]: v for k2, v in timings.items()},
                         "forward": timer.seconds if timer else float("nan"), "windows": timer.windows if timer else 0,
                         "answered": ans.text is not None})
    keys = ("e2e", "embed", "dense", "lexical", "fuse", "retrieve", "read", "forward")
    out = {"corpus": corpus, "note": note, "chunks": len(qa.snapshot.chunks), "articles": len(qa.snapshot.articles),
           "answerer": answerer.name, "passages_read": depth, "backend": getattr(reader, "backend_used", None),
           **{key: stats([r[key] for r in rows]) for key in keys},
           "windows_mean": float(np.mean([r["windows"] for r in rows])),
           "answered_share": float(np.mean([r["answered"] for r in rows]))}
    out["ratio_e2e_to_forward"] = round(out["e2e"]["p50_ms"] / out["forward"]["p50_ms"], 2)
    out["ratio_e2e_to_read"] = round(out["e2e"]["p50_ms"] / out["read"]["p50_ms"], 2)
    return out


# ------------------------------------------------------------------------------------------- readers
READER_VARIANTS = {  # name: (backend, threads); "torch-shipped" is the baseline: as shipped before
    "torch-shipped": ("torch", os.cpu_count() or 1),
    "torch": ("torch", 1),
    "torch-int8": ("torch-int8", 1),
    "onnx": ("onnx", 1),
    "onnx-int8": ("onnx-int8", 1),
}


def measure_readers(qs: list[str], k: int, repeats: int, variants: list[str], corpus: str) -> dict:

    qa, note = open_qa(corpus)
    passages = qa.retriever.search_many(qs, k)
    readers = {v: SpanReader(backend=READER_VARIANTS[v][0], num_threads=READER_VARIANTS[v][1], abstain=False)
               for v in variants}
    timers = {v: ForwardTimer(r) for v, r in readers.items()}
    for r in readers.values():
        r.answer(qs[0], passages[0])
    times = {v: [] for v in variants}
    fwd = {v: [] for v in variants}
    texts = {v: [] for v in variants}
    for rep in range(repeats):
        for i, (q, ps) in enumerate(zip(qs, passages)):
            order = variants[i % len(variants):] + variants[:i % len(variants)]
            for v in order:
                timers[v].reset()
                t = time.perf_counter()
                a = readers[v].answer(q, ps)
                times[v].append(time.perf_counter() - t)
                fwd[v].append(timers[v].seconds)
                if rep == 0:
                    texts[v].append(a.text)
    ref = "torch" if "torch" in variants else variants[0]
    base = median(times[variants[0]])
    out = {"note": note, "baseline": variants[0], "questions": len(qs), "k": k, "variants": {}}
    for v in variants:
        out["variants"][v] = {
            "backend": readers[v].backend_used, "threads": READER_VARIANTS[v][1],
            "answer": stats(times[v]), "forward": stats(fwd[v]),
            "ratio_to_baseline": round(median(times[v]) / base, 3),
            "same_span_as_torch": round(float(np.mean([a == b for a, b in zip(texts[v], texts[ref])])), 3),
        }
    return out


def measure_f1(variants: list[str]) -> dict:

    out = {}
    for v in variants:
        backend, _ = READER_VARIANTS[v]
        if v == "torch-shipped":
            continue  # same network and logits as "torch"
        m = evaluate(SpanReader(backend=backend))
        keys = ("v11_f1", "v11_exact", "v20_f1", "v20_has_ans_f1", "v20_no_ans_acc", "seconds")
        out[v] = {key: m[key] for key in keys}
        print(v, json.dumps(out[v]), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpora", default=",".join(CORPORA))
    ap.add_argument("--n", type=int, default=60, help="questions (at least 50 for the issue)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("--readers", action="store_true", help="compare the reader backends instead")
    ap.add_argument("--variants", default=",".join(READER_VARIANTS))
    ap.add_argument("--reader-corpus", default="news", help="with --readers: whose retrieved passages are read")
    ap.add_argument("--f1", action="store_true", help="with --readers: also the validation F1 per backend")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    qs = questions(args.n)
    head = {"date": today(), "machine": machine(), "command": "python " + " ".join(sys.argv),
            "load_avg_start": os.getloadavg()}
    if args.readers:
        variants = args.variants.split(",")
        res = {**head, **measure_readers(qs, args.k, args.repeats, variants, args.reader_corpus)}
        if args.f1:
            res["f1"] = measure_f1(variants)
        res["load_avg_end"] = os.getloadavg()
        (OUT / "readers.json").write_text(json.dumps(res, indent=1) + "\n")
        print(json.dumps(res, indent=1))
        return
    for corpus in args.corpora.split(","):
        res = {**head, **measure_corpus(corpus, qs, args.repeats, args.k), "load_avg_end": os.getloadavg()}
        (OUT / f"ask-{corpus}.json").write_text(json.dumps(res, indent=1) + "\n")
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
