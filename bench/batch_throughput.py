"""Batch answering vs a loop of single ``ask()`` calls, in the same run, on SQuAD questions.

    python bench/batch_throughput.py [--questions 240] [--repeats 3] [--batch-size 32] [--write]

The corpus is the first few SQuAD v1.1 dev articles (enough to hold ``--questions`` questions), written
to ``bench/.cache/batch-corpus/`` and indexed once. Each repeat times, back to back and alternating
which goes first, (a) ``qa.ask(q)`` for every question and (b) :func:`qa.batch.run_batch` over the same
questions (``QA.ask_many`` in batches, rows written to a JSONL file with fsync, as ``qa batch`` does).
Printed: median seconds per question for each, median throughput, and the ratio. ``--write`` writes
the figures into ``bench/RESULTS.md`` (the marked section for the answerer used). ``QA_ANSWERER=sentence``
or ``reader`` picks the answerer (default: the reader when its weights are installed).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, machine, today, write_section  # noqa: E402
from qa import QA, Settings  # noqa: E402
from qa.batch import run_batch  # noqa: E402
from qa.config import REPO_ROOT  # noqa: E402
from qa.textio import Question  # noqa: E402
from training.datasets import CACHE, DATA_ROOT, read_jsonl  # noqa: E402


def corpus(n_questions: int) -> tuple[Path, list[dict]]:
    """The first SQuAD dev articles holding at least ``n_questions`` questions, and those questions."""
    docs = read_jsonl(DATA_ROOT / "squad" / "squad11" / "docs.jsonl")
    qs = read_jsonl(DATA_ROOT / "squad" / "squad11" / "qa.jsonl")
    by_doc: dict[str, list[dict]] = {}
    for q in qs:
        by_doc.setdefault(q["doc_id"], []).append(q)
    chosen, questions = [], []
    for d in docs:
        if len(questions) >= n_questions:
            break
        chosen.append(d)
        questions.extend(by_doc.get(d["id"], []))
    folder = CACHE / "batch-corpus"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "squad.jsonl"
    data = "".join(json.dumps({"id": d["id"], "title": d["title"], "text": d["text"]}) + "\n" for d in chosen)
    if not path.exists() or path.read_text() != data:
        path.write_text(data)
    return folder, questions[:n_questions]


def time_single(qa: QA, texts: list[str]) -> list[float]:
    out = []
    for t in texts:
        t0 = time.perf_counter()
        qa.ask(t)
        out.append(time.perf_counter() - t0)
    return out


def time_batch(qa: QA, questions: list[Question], batch_size: int, out: Path) -> float:
    t0 = time.perf_counter()
    run_batch(qa, questions, out, batch_size=batch_size, overwrite=True, progress=False, warn=None)
    return time.perf_counter() - t0


class WithoutAnswerMany:
    """The answerer with only ``answer()``: what batching gains when the answerer cannot batch."""

    def __init__(self, answerer) -> None:
        self.inner = answerer
        self.name = answerer.name

    def answer(self, question, passages):
        return self.inner.answer(question, passages)


def profile(fn, top: int = 18) -> str:
    pr = cProfile.Profile()
    pr.enable()
    fn()
    pr.disable()
    s = io.StringIO()
    pstats.Stats(pr, stream=s).sort_stats("cumulative").print_stats(top)
    return s.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=int, default=240)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--ablation", action="store_true",
                    help="also time batches with the answerer's answer_many hidden (answers then one by one)")
    ap.add_argument("--profile", action="store_true", help="also print where the time goes (one batch, 10 singles)")
    ap.add_argument("--write", action="store_true", help=f"write the figures into {RESULTS.relative_to(REPO_ROOT)}")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    folder, gold = corpus(args.questions)
    qa = QA(settings=Settings(articles_dir=folder, index_dir=CACHE / "batch-index"))
    qa.refresh(progress=False)
    texts = [q["question"] for q in gold]
    questions = [Question(str(i + 1), t, i + 1) for i, t in enumerate(texts)]
    answerer = qa.answerer.name
    family = answerer.split("+")[0]  # "span-reader+gate" -> "span-reader": one RESULTS.md section per answerer kind
    print(f"{len(texts)} questions, {len(qa.snapshot.articles)} articles, {len(qa.snapshot.chunks)} chunks, "
          f"answerer {answerer}, batch size {args.batch_size}, k {qa.settings.k}")
    qa.ask_many(texts[:8])  # warm up: model loading, first-call allocations
    qa.ask(texts[0])

    has_many = hasattr(qa.answerer, "answer_many")
    plain = WithoutAnswerMany(qa.answerer)
    single_s, batch_s, ablation_s, single_lat = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "answers.jsonl"
        for r in range(args.repeats):
            order = ["single", "batch"] if r % 2 == 0 else ["batch", "single"]
            if args.ablation and has_many:
                order.append("ablation")
            for what in order:
                if what == "single":
                    lat = time_single(qa, texts)
                    single_lat.extend(lat)
                    single_s.append(sum(lat))
                elif what == "batch":
                    batch_s.append(time_batch(qa, questions, args.batch_size, out))
                else:
                    inner, qa._answerer = qa._answerer, plain
                    try:
                        ablation_s.append(time_batch(qa, questions, args.batch_size, Path(tmp) / "ablation.jsonl"))
                    finally:
                        qa._answerer = inner
            extra = f", batch without answer_many {ablation_s[-1]:.1f} s" if ablation_s else ""
            print(f"repeat {r + 1}: single {single_s[-1]:.1f} s, batch {batch_s[-1]:.1f} s{extra}, "
                  f"ratio {single_s[-1] / batch_s[-1]:.2f}x", flush=True)
        rows = [json.loads(line) for line in out.read_text().splitlines()]
    n = len(texts)
    med_single, med_batch = statistics.median(single_s), statistics.median(batch_s)
    ratio = med_single / med_batch
    ratios = sorted(s / b for s, b in zip(single_s, batch_s))
    print(f"single ask(): median {med_single:.2f} s per run = {1000 * med_single / n:.1f} ms/question "
          f"({n / med_single:.1f} q/s); median single-call latency {1000 * statistics.median(single_lat):.1f} ms")
    print(f"batch ({args.batch_size}): median {med_batch:.2f} s per run = {1000 * med_batch / n:.1f} ms/question "
          f"({n / med_batch:.1f} q/s)")
    print(f"ratio of medians: {ratio:.2f}x (per-repeat ratios {', '.join(f'{x:.2f}' for x in ratios)}); "
          f"{sum(1 for r in rows if r['answer'])} answered, {sum(1 for r in rows if r['error'])} errors")

    med_ablation = statistics.median(ablation_s) if ablation_s else None
    if med_ablation:
        print(f"batch without answer_many: median {med_ablation:.2f} s per run = {1000 * med_ablation / n:.1f} "
              f"ms/question; ratio {med_single / med_ablation:.2f}x")

    if args.profile:
        print("\n--- profile: one batch of", args.batch_size)
        print(profile(lambda: qa.ask_many(texts[: args.batch_size])))
        print("--- profile: 10 single ask() calls")
        print(profile(lambda: [qa.ask(t) for t in texts[:10]]))

    cmd = (f"python bench/batch_throughput.py --questions {args.questions} --repeats {args.repeats} "
           f"--batch-size {args.batch_size}{' --ablation' if args.ablation else ''}")
    section = "\n".join([
        f"## Answerer `{answerer}`",
        "",
        f"Command: `QA_ANSWERER={'reader' if family == 'span-reader' else family} {cmd}`  ",
        f"Machine: {machine()} (shared with other jobs while measured)  ",
        f"Date: {today()}  ",
        f"Corpus: {len(qa.snapshot.articles)} SQuAD v1.1 dev articles ({len(qa.snapshot.chunks)} chunks), "
        f"their first {n} questions, k = {qa.settings.k}",
        "",
        "| | median s per run | ms per question | questions/s |",
        "|---|---|---|---|",
        f"| loop of `ask()` | {med_single:.2f} | {1000 * med_single / n:.1f} | {n / med_single:.1f} |",
        f"| `run_batch` (`ask_many`, batches of {args.batch_size}, fsync per batch) | {med_batch:.2f} | "
        f"{1000 * med_batch / n:.1f} | {n / med_batch:.1f} |",
        *([f"| same, answerer's `answer_many` hidden (answers one by one) | {med_ablation:.2f} | "
           f"{1000 * med_ablation / n:.1f} | {n / med_ablation:.1f} |"] if med_ablation else []),
        "",
        f"Answerer `{answerer}` {'has' if has_many else 'has no'} `answer_many`.",
        f"Ratio of medians: **{ratio:.2f}x** (per repeat: {', '.join(f'{x:.2f}' for x in ratios)}; "
        f"{args.repeats} repeats, alternating order). Median single-call latency "
        f"{1000 * statistics.median(single_lat):.1f} ms.",
    ])
    if args.write:
        write_section(f"batch:{family}", section)
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
