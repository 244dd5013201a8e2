"""Questions a person would ask of a folder of news, written by hand: what the product shows them.

    python bench/natural_questions.py [--show] [--write]

``bench/natural_questions.jsonl`` holds questions written by hand over 30 BBC articles of
``../shared/data/news/bbc.jsonl`` (one line each: ``id``, the ``article`` it was written from, the
``question`` and the accepted ``answers``; no answers: a near-miss question the article does not
answer, to be refused). They were written from the articles' text before the product's answers were
seen, and nothing is tuned on them: they are a test set only. The 30 articles are indexed together
(each is the others' distractor) and every question is asked with :meth:`qa.QA.ask_many`, as the
product asks it (the shipped reader, gate and defaults).

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

SET = REPO_ROOT / "bench" / "natural_questions.jsonl"
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--show", action="store_true", help="print every question with its answer")
    ap.add_argument("--write", action="store_true", help="write the section of bench/RESULTS.md")
    args = ap.parse_args()

    rows = list(read_jsonl(SET))
    with tempfile.TemporaryDirectory() as tmp:
        write_articles(Path(tmp) / "articles", {r["article"] for r in rows})
        qa = QA(Path(tmp) / "articles", Path(tmp) / "index")
        qa.refresh()
        t0 = time.perf_counter()
        answers = qa.ask_many([r["question"] for r in rows])
        seconds = time.perf_counter() - t0

    answerable = [(r, a) for r, a in zip(rows, answers, strict=True) if r["answers"]]
    near_miss = [(r, a) for r, a in zip(rows, answers, strict=True) if not r["answers"]]
    got = Counter(outcome(a, r["answers"]) for r, a in answerable)
    missed = Counter(outcome(a, r["answers"]) for r, a in near_miss)
    f1 = sum(score_one(a.text, r["answers"])[1] for r, a in answerable) / len(answerable)
    shown = [(r, a) for r, a in zip(rows, answers, strict=True) if a.found]
    by_level = []
    for lv in LEVELS:
        at = [(r, a) for r, a in shown if a.confidence_level == lv]
        by_level.append((lv, len(at), sum(outcome(a, r["answers"]) == "right" for r, a in at)))

    def pct(n: int, d: int) -> str:
        return f"{100 * n / d:.1f}%" if d else "–"

    lines = [
        f"Command: `python bench/natural_questions.py --write` ({today()}, {machine()}). "
        f"{len(rows)} questions written by hand over 30 BBC articles ({len(answerable)} answerable, "
        f"{len(near_miss)} near misses the articles do not answer), all asked over the 30 articles indexed "
        f"together, with the shipped defaults ({seconds:.0f} s for all).",
        "",
        "| | count | share |",
        "|---|---|---|",
        f"| answerable: right | {got['right']} | {pct(got['right'], len(answerable))} |",
        f"| answerable: refused | {got['refused']} | {pct(got['refused'], len(answerable))} |",
        *(f"| answerable: wrong, shown {lv} | {got['wrong ' + lv]} | {pct(got['wrong ' + lv], len(answerable))} |"
          for lv in LEVELS),
        f"| near misses: refused | {missed['right']} | {pct(missed['right'], len(near_miss))} |",
        *(f"| near misses: answered, shown {lv} | {missed['wrong ' + lv]} | "
          f"{pct(missed['wrong ' + lv], len(near_miss))} |" for lv in LEVELS),
        f"| **confident-wrong** (shown High and wrong, of all questions) | "
        f"{got['wrong High'] + missed['wrong High']} | "
        f"{pct(got['wrong High'] + missed['wrong High'], len(rows))} |",
        *(f"| {lv} answers that are right | {n_right} of {n} | {pct(n_right, n)} |"
          for lv, n, n_right in by_level),
        f"| F1 of the answerable questions (refusals score 0) | {100 * f1:.1f} | |",
    ]
    print("\n".join(lines))
    if args.show:
        for r, a in zip(rows, answers, strict=True):
            shown_as = f"{a.text!r} {a.confidence_level} {a.score:.2f}" if a.found else "refused"
            print(f"{outcome(a, r['answers']):12} {r['question']} -> {shown_as} (accepted: {r['answers']})")
    if args.write:
        write_section(MARKER, "## Questions written by hand over news (issue \"Trustworthy answers\")\n\n"
                      + "\n".join(lines))


if __name__ == "__main__":
    main()
