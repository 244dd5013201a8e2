"""Cold start: ``qa ask`` and ``qa chat`` from a new process on an existing index, against the committed code.

    python bench/cold_start.py [--index-of squad-bbc|seeds] [--repeats 5] [--before] [--chat]
                               [--embedders default,all-MiniLM-L6-v2+onnx]

Each repeat starts fresh processes, one per configuration, the order rotating from repeat to repeat,
over an index that is already built and up to date (each configuration has its own copy, in the format
and with the vectors its code and embedder use; models exported and BM25 saved beforehand, as
``make install`` + ``qa index`` leave them):

* ``qa ask``: the real command, ``python -m qa ask Q --articles A --index I -q``, timed from outside
  (wall and CPU seconds of the child);
* its phases, timed inside a process that runs the same steps one at a time: imports (``qa.cli`` and
  the engine), opening the index (read + verify + BM25), the first query embedding (loads the embedder),
  the first answer (loads the reader), and a second, warm answer; and which heavy libraries it imported;
* with ``--chat``, ``qa chat``: seconds from starting the command until its page answers HTTP 200.

Baselines in the same run: ``python -c pass`` and, with ``--before``, the committed code (``git archive
HEAD`` into a temporary folder, same virtualenv) with its default settings. ``default`` in
``--embedders`` is the working tree's default settings (no ``QA_EMBEDDER``); other names set it.
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

from bench.common import machine, median, today  # noqa: E402
from qa.config import REPO_ROOT  # noqa: E402
from training.datasets import CACHE, squad_bbc_corpus  # noqa: E402

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


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chat_start(cmd: list[str], cwd: Path, env: dict, timeout: float = 600) -> float:
    """Seconds from starting ``qa chat`` until its page answers HTTP 200 (then it is stopped)."""
    import signal
    import urllib.request

    port = free_port()
    t = time.perf_counter()
    proc = subprocess.Popen([*cmd, "--port", str(port)], cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        while time.perf_counter() - t < timeout:
            if proc.poll() is not None:
                raise RuntimeError(f"qa chat exited: {proc.stderr.read()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    if r.status == 200:
                        return time.perf_counter() - t
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("qa chat did not serve within the timeout")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def index_source(which: str, embedder: str | None) -> Path:
    """The cached index of SQuAD + BBC holding the vectors ``embedder`` makes (float32 for PyTorch and
    ``+onnx``; its own for ``+onnx-int8``)."""
    from qa.config import Settings

    int8 = Settings(embedder=embedder).index_signature()["embedder"].endswith("onnx-int8") if embedder else False
    return CACHE / f"index-squad-bbc-1000-200{'-onnx-int8' if int8 else ''}"


def prepare(which: str, configs: dict[str, tuple[Path, dict]]) -> tuple[Path, dict[str, Path]]:
    """The articles folder and, per configuration, a private index built and up to date (built once; a
    copy of the cached SQuAD + BBC index with the right vectors when there is one), with the models
    exported and the BM25 index saved as ``make install`` and ``qa index`` leave them."""
    if which == "seeds":
        articles = CACHE / "cold-start" / "seeds"
        if not articles.exists():
            shutil.copytree(REPO_ROOT / "seeds", articles)
    else:
        articles = squad_bbc_corpus()
    indexes = {}
    for name, (root, env) in configs.items():
        slug = name.replace(" ", "-").replace("+", "-").replace(":", "").replace(",", "")
        index = CACHE / "cold-start" / f"index-{which}-{slug}"
        embedder = env.get("QA_EMBEDDER") or (None if name.startswith("before") else _default_embedder(root, env))
        src = index_source(which, embedder)
        if which != "seeds" and not index.exists() and src.exists():
            shutil.copytree(src, index)  # a private copy of the built index: this benchmark may rewrite it
        if (root / "qa" / "prepare.py").exists():
            subprocess.run([sys.executable, "-m", "qa", "prepare"], cwd=root, env=env, check=True, capture_output=True)
        # --force: an index copied from an older version gains its saved BM25 (nothing is re-embedded)
        child([sys.executable, "-m", "qa", "index", "--articles", str(articles), "--index", str(index), "--force"],
              root, env)
        indexes[name] = index
    return articles, indexes


def _default_embedder(root: Path, env: dict) -> str:
    out = subprocess.run([sys.executable, "-c", "from qa.config import Settings; print(Settings().embedder)"],
                         cwd=root, env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index-of", choices=("squad-bbc", "seeds"), default="squad-bbc")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--embedders", default="default",
                    help="working-tree configurations: 'default' (its settings) or QA_EMBEDDER values, comma-separated")
    ap.add_argument("--before", action="store_true", help="also run the committed code (git HEAD), default settings")
    ap.add_argument("--chat", action="store_true", help="also time `qa chat` until its page is served")
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    args = ap.parse_args()

    base_env = {k: v for k, v in os.environ.items() if k not in ("QA_EMBEDDER", "QA_READER_BACKEND", "QA_ANSWERER")}
    base_env["HF_HUB_OFFLINE"] = "1"
    configs: dict[str, tuple[Path, dict]] = {}
    tmp = None
    if args.before:
        tmp = Path(tempfile.mkdtemp(prefix="cold-before-"))
        subprocess.run(f"git -C {REPO_ROOT} archive HEAD | tar -x -C {tmp}", shell=True, check=True)
        configs["before: HEAD, default settings"] = (tmp, dict(base_env))
    for e in args.embedders.split(","):
        env = dict(base_env) if e == "default" else {**base_env, "QA_EMBEDDER": e}
        configs[f"after: {'default settings' if e == 'default' else e}"] = (REPO_ROOT, env)
    py = sys.executable
    runs: dict[str, dict[str, list]] = {name: {} for name in ["python -c pass", *configs]}
    try:
        articles, indexes = prepare(args.index_of, configs)
        names = list(configs)
        for r in range(args.repeats):
            wall, cpu, _ = child([py, "-c", "pass"], REPO_ROOT, base_env)
            runs["python -c pass"].setdefault("total", []).append({"wall": wall, "cpu": cpu})
            for name in names[r % len(names):] + names[:r % len(names)]:  # rotate who goes first
                root, env = configs[name]
                wall, cpu, out = child([py, "-m", "qa", "ask", QUESTION, "--articles", str(articles), "--index",
                                        str(indexes[name]), "-q", "--json"], root, env)
                runs[name].setdefault("total", []).append({"wall": wall, "cpu": cpu})
                runs[name].setdefault("answers", []).append(json.loads(out)["answer"])
                argv = [py, "-c", PHASES, str(articles), str(indexes[name]), QUESTION, ",".join(HEAVY)]
                wall, cpu, out = child(argv, root, env)
                phases = json.loads(out)
                runs[name]["modules"] = phases.pop("modules")
                phases.pop("answer")
                phases["process"] = {"wall": wall, "cpu": cpu}
                for k, v in phases.items():
                    runs[name].setdefault(k, []).append(v)
                if args.chat:
                    secs = chat_start([py, "-m", "qa", "chat", "--articles", str(articles),
                                       "--index", str(indexes[name])],
                                      root, env)
                    runs[name].setdefault("chat", []).append({"wall": secs, "cpu": float("nan")})
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
    base = next((n for n in summary if n.startswith("before")), None)
    if base:  # ratios within each repeat: the machine's load moves less within a repeat than across them
        for name in configs:
            for k in ("total", "chat"):
                if k in runs[name]:
                    summary[name][f"{k}_x_before"] = median([b["wall"] / a["wall"]
                                                              for a, b in zip(runs[name][k], runs[base][k])])
    result = {"index_of": args.index_of, "repeats": args.repeats, "question": QUESTION, "runs": summary,
              "machine": machine(), "date": today(), "load_average": os.getloadavg()}
    print(f"\n{'configuration':<40} {'qa ask wall':>11} {'cpu':>6} {'x before':>8} {'chat':>6}   phases (wall s): "
          "imports / open index / first embed / first answer / warm answer")
    for name, s in summary.items():
        phases = ("imports", "open_index", "first_embed", "first_answer", "warm_answer")
        ph = " / ".join(f"{s[k]['wall']:.2f}" for k in phases if k in s)
        ratio = s.get("total_x_before", float("nan"))
        chat = f"{s['chat']['wall']:6.2f}" if "chat" in s else "      "
        print(f"{name:<40} {s['total']['wall']:11.2f} {s['total']['cpu']:6.2f} {ratio:8.2f} {chat}   {ph}   "
              f"{s.get('modules')}")
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
