"""Cold start: ``qa ask`` from a new process on an existing index, what it spends its time on.

    python bench/cold_start.py [--index-of squad-bbc|seeds] [--repeats 5] [--before]

Each repeat starts fresh processes (one per configuration, in turn) that answer one question over an
index that is already built and up to date:

* ``qa ask``: the real command, ``python -m qa ask Q --articles A --index I -q``, timed from outside
  (wall and CPU seconds of the child);
* its phases, timed inside a process that runs the same steps one at a time: interpreter start, imports
  (``qa.cli`` and the engine), opening the index (read + SHA-256 verify + BM25 build), the first query
  embedding (loads the embedder), the first answer (loads the reader), and a second, warm answer.

Baselines in the same run: ``python -c pass`` (the interpreter alone) and the warm answer. ``--before``
adds the committed code (``git archive HEAD`` into a temporary folder, same virtualenv) as a "before"
configuration. Configurations: the default embedder and ``+onnx-int8`` (``QA_EMBEDDER``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CACHE, REPO, machine, median, squad_bbc_corpus, today  # noqa: E402

QUESTION = "Who slipped out of Venezuela last week?"
HEAVY = ("torch", "sentence_transformers", "transformers", "onnxruntime", "onnx", "faiss", "bm25s", "scipy",
         "sklearn", "pandas", "langchain_text_splitters", "gradio", "ui")

PHASES = r"""
import json, sys, time
t = {"start": time.perf_counter()}
c = {"start": time.process_time()}
def mark(name):
    t[name] = time.perf_counter(); c[name] = time.process_time()
import qa.cli
from qa.engine import QA
mark("imports")
qa = QA(sys.argv[1], sys.argv[2])
qa.refresh(progress=False); qa.retriever
mark("open_index")
qa.embedder.embed([sys.argv[3]])
mark("first_embed")
a = qa.ask(sys.argv[3])
mark("first_answer")
qa.ask(sys.argv[3])
mark("warm_answer")
names = list(t)
out = {n: {"wall": t[n] - t[p], "cpu": c[n] - c[p]} for p, n in zip(names, names[1:])}
out["modules"] = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[4].split(",")))
out["answer"] = a.text
print(json.dumps(out))
"""


def child(cmd: list[str], cwd: Path, env: dict) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system) and stdout of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"{cmd} failed: {out.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out.stdout


def prepare(which: str, embedders: list[str]) -> tuple[Path, dict[str, Path]]:
    """The articles folder and, per embedder, a private index built and up to date (built once)."""
    from qa import QA, Settings

    if which == "seeds":
        articles = CACHE / "cold-start" / "seeds"
        if not articles.exists():
            shutil.copytree(REPO / "seeds", articles)
    else:
        articles = squad_bbc_corpus()
    indexes = {}
    for name in embedders:
        index = CACHE / "cold-start" / f"index-{which}-{name.replace('+', '-')}"
        src = CACHE / f"index-squad-bbc-1000-200{'-onnx-int8' if name.endswith('onnx-int8') else ''}"
        if which != "seeds" and not index.exists() and src.exists():
            shutil.copytree(src, index)  # a private copy of the built index: this benchmark may rewrite it
        QA(settings=Settings(articles_dir=articles, index_dir=index, embedder=name)).refresh(progress=True)
        indexes[name] = index
    # the committed code gets its own copy, in the format it writes (it would rebuild a newer one)
    before = CACHE / "cold-start" / f"index-{which}-before"
    src = CACHE / "index-squad-bbc-1000-200"
    if which != "seeds" and not before.exists() and src.exists():
        shutil.copytree(src, before)
    indexes["before"] = before
    return articles, indexes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--index-of", choices=("squad-bbc", "seeds"), default="squad-bbc")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--embedders", default="all-MiniLM-L6-v2,all-MiniLM-L6-v2+onnx-int8")
    ap.add_argument("--before", action="store_true", help="also run the committed code (git HEAD)")
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    args = ap.parse_args()

    embedders = args.embedders.split(",")
    articles, indexes = prepare(args.index_of, embedders)
    configs = {f"after {e}": (REPO, e) for e in embedders}
    tmp = None
    if args.before:
        tmp = Path(tempfile.mkdtemp(prefix="cold-before-"))
        subprocess.run(f"git -C {REPO} archive HEAD | tar -x -C {tmp}", shell=True, check=True)
        configs = {f"before {embedders[0]}": (tmp, "before"), **configs}
    py = sys.executable
    runs: dict[str, dict[str, list]] = {name: {} for name in ["python -c pass", *configs]}
    try:
        for r in range(args.repeats):
            wall, cpu, _ = child([py, "-c", "pass"], REPO, dict(os.environ))
            runs["python -c pass"].setdefault("total", []).append({"wall": wall, "cpu": cpu})
            for name, (root, emb) in configs.items():
                env = {**os.environ, "QA_EMBEDDER": embedders[0] if emb == "before" else emb, "HF_HUB_OFFLINE": "1"}
                wall, cpu, out = child([py, "-m", "qa", "ask", QUESTION, "--articles", str(articles), "--index",
                                        str(indexes[emb]), "-q", "--json"], root, env)
                runs[name].setdefault("total", []).append({"wall": wall, "cpu": cpu})
                runs[name].setdefault("answers", []).append(json.loads(out)["answer"])
                wall, cpu, out = child([py, "-c", PHASES, str(articles), str(indexes[emb]), QUESTION, ",".join(HEAVY)], root, env)
                phases = json.loads(out)
                runs[name].setdefault("modules", phases.pop("modules"))
                phases.pop("answer")
                phases["process"] = {"wall": wall, "cpu": cpu}
                for k, v in phases.items():
                    runs[name].setdefault(k, []).append(v)
            print(f"repeat {r + 1}/{args.repeats} done", flush=True)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    summary = {}
    for name, d in runs.items():
        s = {k: {"wall": median([x["wall"] for x in v]), "cpu": median([x["cpu"] for x in v])}
             for k, v in d.items() if k not in ("modules", "answers")}
        s["modules"] = d.get("modules")
        s["answers"] = sorted(set(d.get("answers", [])), key=str)
        summary[name] = s
    result = {"index_of": args.index_of, "repeats": args.repeats, "question": QUESTION, "runs": summary,
              "machine": machine(), "date": today()}
    print(f"\n{'configuration':<36} {'qa ask wall':>11} {'cpu':>6}   phases (wall s): imports / open index / first embed / first answer / warm answer")
    for name, s in summary.items():
        ph = " / ".join(f"{s[k]['wall']:.2f}" for k in ("imports", "open_index", "first_embed", "first_answer", "warm_answer") if k in s)
        print(f"{name:<36} {s['total']['wall']:11.2f} {s['total']['cpu']:6.2f}   {ph}")
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
