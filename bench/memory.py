"""Memory: peak RSS of serving an index (load it, answer questions) and of indexing it.

    python bench/memory.py [--index bench/.cache/index-news-bbc-reuters] [--questions 20] [--repeats 2]
                           [--embedders default,all-MiniLM-L6-v2+onnx] [--before] [--stand-in]
                           [--index-log bench/.cache/logs/index-news.log]

**Serving**: each repeat and embedder starts a fresh process that loads the index read-only (the
``ChunkIndex`` / ``HybridRetriever`` / answerer a ``QA`` builds; no refresh, so nothing is written)
and answers ``--questions`` questions one at a time, reading its RSS (``/proc/self/status``) after
each step: imports, index loaded (FAISS + metadata + BM25), first question embedded (embedder
loaded), first answer (reader loaded), all answers; and the peak (``VmHWM``). Baselines in the same
run: a process that only imports the libraries, and the raw size of the vectors (chunks x dim x 4 bytes).
An embedder other than the one the index was built with is measured for memory only (its answers are
not the point). ``default`` is the working tree's default embedder; ``--before`` adds the committed code
(``git archive HEAD``, same virtualenv) with its default embedder, the baseline. Before the measured
repeats each configuration serves once unmeasured, so that what ``make install`` and ``qa index`` leave
behind (ONNX exports, the saved BM25 index) exists, as it does for a user.

**Indexing**: the peak RSS of a ``qa index`` run is read from its ``/usr/bin/time -v`` log.

``--stand-in`` first builds (once) ``bench/.cache/index-news-stand-in``: the BBC + Reuters articles
chunked as ``qa index`` does, but with random unit vectors instead of embeddings, so an index of the
full corpus's size exists in minutes instead of an hour on this machine; serving memory does not
depend on the vectors' values (answers over it are meaningless and not reported).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, median, today  # noqa: E402
from qa.config import REPO_ROOT  # noqa: E402
from training.datasets import CACHE  # noqa: E402

SERVE = r"""
import json, sys, time
def rss():
    d = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
    return {"rss_mb": int(d["VmRSS"].split()[0]) / 1024, "peak_mb": int(d["VmHWM"].split()[0]) / 1024}
steps = {}
index_dir, embedder_name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
import numpy, faiss, bm25s
from qa.config import Settings
from qa.embedders import get_embedder
from qa.engine import default_answerer
from qa.store import ChunkIndex
from qa.retrieval import HybridRetriever
steps["imports"] = rss()
if sys.argv[4] == "imports-only":
    print(json.dumps(steps)); sys.exit()
settings = Settings(index_dir=index_dir, embedder=embedder_name)
embedder = get_embedder(embedder_name)
snap = ChunkIndex(index_dir, settings, embedder).load()
retriever = HybridRetriever(snap, embedder, settings)
steps["index_loaded"] = rss()
titles = [a.title for a in list(snap.articles.values())[:: max(1, len(snap.articles) // n)][:n]]
questions = [f"What happened in {t.strip()[:80]}?" for t in titles]
embedder.embed([questions[0]])
steps["first_embed"] = rss()
answerer = default_answerer(embedder)
t = time.perf_counter()
passages = retriever.search(questions[0])
answerer.answer(questions[0], passages)
steps["first_answer"] = rss()
for q in questions[1:]:
    answerer.answer(q, retriever.search(q))
steps["all_answers"] = rss()
steps["chunks"] = len(snap.chunks)
steps["vectors_mb"] = len(snap.vectors) * snap.vectors.dim * 4 / 2**20
steps["answerer"] = type(answerer).__name__
print(json.dumps(steps))
"""


def serve(index: Path, embedder: str, questions: int, mode: str = "serve", root: Path = REPO_ROOT) -> dict:
    out = subprocess.run([sys.executable, "-c", SERVE, str(index), embedder, str(questions), mode],
                         capture_output=True, text=True, cwd=root)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def time_v(log: Path) -> dict:
    """Peak RSS and elapsed time of each ``/usr/bin/time -v`` report in a log (a log may hold several
    runs, e.g. a build in steps; the last is the whole corpus), with what each run embedded."""
    text = log.read_text(errors="replace")
    peaks = [int(x) / 1024 for x in re.findall(r"Maximum resident set size \(kbytes\): (\d+)", text)]
    walls = re.findall(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text)
    chunks = re.findall(r"Embedding (\d+) chunks of (\d+) articles", text)
    return {"log": str(log), "runs": [{"peak_rss_mb": p, "elapsed": w} for p, w in zip(peaks, walls)],
            "embedded": chunks}


class RandomVectors:
    """A stand-in embedder for memory measurements: deterministic random unit vectors."""

    name = "random"
    dim = 384

    def embed(self, texts, progress: bool = False):
        import numpy as np

        v = np.random.default_rng(len(texts)).standard_normal((len(texts), self.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def stand_in_index() -> Path:
    """An index of the BBC + Reuters corpus with random vectors (built once)."""
    from qa.articles import load_articles
    from qa.config import Settings
    from qa.store import ChunkIndex
    from training.datasets import news_corpus

    folder = CACHE / "index-news-stand-in"
    if not (folder / "CURRENT").exists():
        loaded = load_articles(news_corpus(), progress=False)
        # the manifest names the stand-in embedder: qa never mistakes this index for a real one
        settings = Settings(index_dir=folder, embedder="random-stand-in")
        ChunkIndex(folder, settings, RandomVectors()).sync(loaded.articles)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--index", type=Path, default=CACHE / "index-news-bbc-reuters")
    ap.add_argument("--embedders", default="default")
    ap.add_argument("--before", action="store_true", help="also serve with the committed code (git HEAD)")
    ap.add_argument("--questions", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--index-log", type=Path, default=CACHE / "logs" / "index-news.log")
    ap.add_argument("--stand-in", action="store_true", help="serve a random-vector index of the full corpus")
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    args = ap.parse_args()
    if args.stand_in:
        args.index = stand_in_index()

    import shutil
    import tempfile

    from qa.config import Settings

    configs: dict[str, tuple[Path, str]] = {}
    tmp = None
    if args.before:
        tmp = Path(tempfile.mkdtemp(prefix="memory-before-"))
        subprocess.run(f"git -C {REPO_ROOT} archive HEAD | tar -x -C {tmp}", shell=True, check=True)
        print_default = "from qa.config import Settings; print(Settings().embedder)"
        head_default = subprocess.run([sys.executable, "-c", print_default],
                                      cwd=tmp, capture_output=True, text=True, check=True).stdout.strip()
        configs[f"before (HEAD): {head_default}"] = (tmp, head_default)
    for emb in args.embedders.split(","):
        emb = Settings().embedder if emb == "default" else emb
        configs[f"after: {emb}"] = (REPO_ROOT, emb)
    runs: dict[str, list[dict]] = {}
    try:
        for root, emb in configs.values():
            serve(args.index, emb, 1, root=root)  # exports and saved BM25 in place, as after install + indexing
        names = list(configs)
        for r in range(args.repeats):
            runs.setdefault("imports only", []).append(serve(args.index, "all-MiniLM-L6-v2", 1, "imports-only"))
            for name in names[r % len(names):] + names[:r % len(names)]:
                root, emb = configs[name]
                runs.setdefault(name, []).append(serve(args.index, emb, args.questions, root=root))
            print(f"repeat {r + 1}/{args.repeats} done", flush=True)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    summary = {}
    for name, rs in runs.items():
        s = {step: {k: median([x[step][k] for x in rs]) for k in ("rss_mb", "peak_mb")}
             for step in rs[0] if isinstance(rs[0][step], dict)}
        s.update({k: v for k, v in rs[0].items() if not isinstance(v, dict)})
        summary[name] = s
    result = {"index": str(args.index), "questions": args.questions, "repeats": args.repeats, "serving": summary,
              "indexing": time_v(args.index_log) if args.index_log.exists() else None,
              "machine": machine(), "date": today()}
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
