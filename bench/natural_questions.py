"""Questions a person would ask of a folder of news, written by hand: what the product shows them.

    python bench/natural_questions.py [--show] [--write]

``bench/natural_questions.jsonl`` holds questions written by hand over 30 BBC articles of
``../shared/data/news/bbc.jsonl``, and ``bench/natural_questions_2.jsonl`` more, written later by
another hand over 25 other BBC articles (chosen by a hash of their ids); one line each: ``id``, the
``article`` it was written from, the ``question`` and the accepted ``answers`` (none: a near-miss question
the article does not answer, to be refused). They were written from the articles' text before the
product's answers were seen, and nothing is tuned on them: they are test sets only. Each set's
articles are indexed together (each is the others' distractor) and every question is asked with
:meth:`qa.QA.ask_many`, as the product asks it (the shipped reader, gate and defaults).

Right: an answer with token F1 >= 0.5 against an accepted answer, or an evidence sentence holding one;
a refusal of a near-miss question. Wrong answers are counted by the confidence level they were shown
with (High / Medium / Low): a High wrong answer is the failure a person remembers.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, today, write_section  # noqa: E402
from qa import QA  # noqa: E402
from qa.config import REPO_ROOT  # noqa: E402
from qa.metrics import score_one  # noqa: E402
from qa.types import Answer  # noqa: E402
from training.calibrate_gate import right  # noqa: E402
from training.datasets import news_path, read_jsonl  # noqa: E402

#: the test sets, each written blind by a different hand over different articles
SETS = (REPO_ROOT / "bench" / "natural_questions.jsonl", REPO_ROOT / "bench" / "natural_questions_2.jsonl")
MARKER = "natural-questions"
LEVELS = ("High", "Medium", "Low")


def write_articles(folder: Path, ids: set[str]) -> None:
    """The set's BBC articles as ``.json`` files (title and text, as a user's folder would hold them)."""
    folder.mkdir(parents=True, exist_ok=True)
    for row in read_jsonl(news_path("bbc")):
        if row["id"] in ids:
            (folder / f"{row['id']}.json").write_text(json.dumps({"title": row["title"], "text": row["text"]}))


def outcome(answer: Answer, refs: list[str]) -> str:
    """``right``, ``refused`` (an answerable question refused), or ``wrong <level>``."""
    if not refs:
        return "right" if not answer.found else f"wrong {answer.confidence_level}"
    if not answer.found:
        return "refused"
    return "right" if right(answer, refs) else f"wrong {answer.confidence_level}"


def ask_set(path: Path) -> tuple[list[dict], list[Answer], float, int]:
    """The set's questions, the product's answers (its articles indexed together), seconds, articles."""
    rows = list(read_jsonl(path))
    articles = {r["article"] for r in rows}
    with tempfile.TemporaryDirectory() as tmp:
        write_articles(Path(tmp) / "articles", articles)
        qa = QA(Path(tmp) / "articles", Path(tmp) / "index")
        qa.refresh()
        t0 = time.perf_counter()
        answers = qa.ask_many([r["question"] for r in rows])
        return rows, answers, time.perf_counter() - t0, len(articles)


def tally(rows: list[dict], answers: list[Answer]) -> dict:
    """Counts of one set (or of several pooled) for the table."""
    pairs = list(zip(rows, answers, strict=True))
    answerable = [(r, a) for r, a in pairs if r["answers"]]
    near_miss = [(r, a) for r, a in pairs if not r["answers"]]
    shown = [(r, a) for r, a in pairs if a.found]
    return {
        "n": len(rows),
        "answerable": len(answerable),
        "near_miss": len(near_miss),
        "got": Counter(outcome(a, r["answers"]) for r, a in answerable),
        "missed": Counter(outcome(a, r["answers"]) for r, a in near_miss),
        "f1": 100 * sum(score_one(a.text, r["answers"])[1] for r, a in answerable) / max(1, len(answerable)),
        "levels": {lv: (sum(a.confidence_level == lv for _, a in shown),
                        sum(a.confidence_level == lv and outcome(a, r["answers"]) == "right" for r, a in shown))
                   for lv in LEVELS},
    }


def pct(n: int, d: int) -> str:
    return f"{n} ({100 * n / d:.1f}%)" if d else "–"


def table(columns: dict[str, dict]) -> list[str]:
    """One row per outcome, one column per set."""
    cs = list(columns.values())

    def row(label: str, cell) -> str:
        return f"| {label} | " + " | ".join(cell(c) for c in cs) + " |"

    return [
        "| | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(cs),
        row("questions (answerable / near misses)", lambda c: f"{c['n']} ({c['answerable']} / {c['near_miss']})"),
        row("answerable: right", lambda c: pct(c["got"]["right"], c["answerable"])),
        row("answerable: refused", lambda c: pct(c["got"]["refused"], c["answerable"])),
        *(row(f"answerable: wrong, shown {lv}", lambda c, lv=lv: pct(c["got"]["wrong " + lv], c["answerable"]))
          for lv in LEVELS),
        row("near misses: refused", lambda c: pct(c["missed"]["right"], c["near_miss"])),
        *(row(f"near misses: answered, shown {lv}", lambda c, lv=lv: pct(c["missed"]["wrong " + lv], c["near_miss"]))
          for lv in LEVELS),
        row("**confident-wrong** (shown High and wrong, of all questions)",
            lambda c: pct(c["got"]["wrong High"] + c["missed"]["wrong High"], c["n"])),
        *(row(f"{lv} answers that are right", lambda c, lv=lv: pct(c["levels"][lv][1], c["levels"][lv][0]))
          for lv in LEVELS),
        row("F1 of the answerable questions (refusals score 0)", lambda c: f"{c['f1']:.1f}"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", dest="sets", action="append", type=Path, default=None,
                    help=f"question file (repeatable; default: {', '.join(p.name for p in SETS)})")
    ap.add_argument("--show", action="store_true", help="print every question with its answer")
    ap.add_argument("--write", action="store_true", help="write the section of bench/RESULTS.md")
    args = ap.parse_args()

    missing = [str(p) for p in args.sets or SETS if not p.is_file()]
    if missing:
        raise SystemExit(f"no question file {', '.join(missing)}: give JSONL files with id, article, question, answers")
    columns: dict[str, dict] = {}
    pooled: tuple[list[dict], list[Answer]] = ([], [])
    described = []
    for path in args.sets or SETS:
        rows, answers, seconds, n_articles = ask_set(path)
        columns[f"`{path.name}`"] = tally(rows, answers)
        pooled[0].extend(rows)
        pooled[1].extend(answers)
        described.append(f"`{path.name}`: {len(rows)} questions over {n_articles} articles ({seconds:.0f} s)")
        if args.show:
            for r, a in zip(rows, answers, strict=True):
                shown_as = f"{a.text!r} {a.confidence_level} {a.score:.2f}" if a.found else "refused"
                print(f"{outcome(a, r['answers']):12} {r['question']} -> {shown_as} (accepted: {r['answers']})")
    if len(columns) > 1:
        columns["all"] = tally(*pooled)
    lines = [
        f"Command: `python bench/natural_questions.py --write` ({today()}, {machine()}). "
        "Questions written by hand over BBC articles, answerable ones and near misses the articles do not "
        "answer; each set's articles indexed together, the questions asked with the shipped defaults; "
        + "; ".join(described) + ".",
        "",
        *table(columns),
    ]
    print("\n".join(lines))
    if args.write:
        write_section(MARKER, "## Questions written by hand over news (issue \"Trustworthy answers\")\n\n"
                      + "\n".join(lines))


if __name__ == "__main__":
    main()
