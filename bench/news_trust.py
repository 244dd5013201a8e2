"""The BBC news check of the answer the product shows: refusals, F1 and calibration on news it was not
trained on.

    python bench/news_trust.py [--limit 600] [--write]

Questions: the synthetic held-out news questions of the model card (:func:`training.augment.news_examples`
over the BBC corpus, which the reader never saw; seed 13, ``deleted_share=1.0``): each answerable
question is asked over its own passage; about a quarter are also asked over another article's passage
(``other``) and every one over its own passage with the answer deleted (``deleted``), both unanswerable.
Each question gets its one passage, scored like a retrieved chunk (the question-passage cosine of the
default embedder), and two answerers read it in the same run:

- *reader alone*: the span reader refusing at its own calibrated null threshold (how the model card's
  "answer deleted ... refused" figure is measured);
- *shipped*: what ``ask()`` uses, the reader proposing its best span (answer types, evidence sentences)
  behind the calibrated no-answer gate of ``qa/calibration.json``.

Right = span F1 >= 0.5 against the reference, or an evidence sentence that holds it; every answer to an
unanswerable question is wrong. Reliability: shown answers of all three kinds of question, 10 bins.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, today, write_section  # noqa: E402
from qa.answerers.gate import GatedAnswerer, NoAnswerGate  # noqa: E402
from qa.embedders import get_embedder  # noqa: E402
from qa.metrics import score_one  # noqa: E402
from qa.reader import SpanReader  # noqa: E402
from qa.types import HIGH, MEDIUM, Answer, Passage, confidence_level  # noqa: E402
from training.augment import news_examples  # noqa: E402
from training.calibrate_gate import right  # noqa: E402
from training.datasets import news_path  # noqa: E402

KINDS = ("answerable", "other", "deleted")


def kind_of(example_id: str) -> str:
    return "other" if example_id.endswith(":neg") else "deleted" if example_id.endswith(":cut") else "answerable"


def passages_for(examples, embedder) -> list[Passage]:
    """One passage per question, with the cosine a retriever would give it (title + text, as indexed)."""
    texts = [f"{e.title}\n{e.context}" for e in examples]
    qv = embedder.embed([e.question for e in examples])
    pv = embedder.embed(texts)
    cos = (qv * pv).sum(axis=1)
    return [Passage(chunk_id=i, article_id=e.doc_id, title=e.title, source="bbc", start=e.paragraph_start,
                    end=e.paragraph_start + len(e.context), text=e.context, score=float(c), rank=0,
                    dense_score=float(c))
            for i, (e, c) in enumerate(zip(examples, cos, strict=True))]


def summarise(answers: list[Answer], examples) -> dict:
    out: dict = {}
    for kind in KINDS:
        rows = [(a, e) for a, e in zip(answers, examples, strict=True) if kind_of(e.id) == kind]
        shown = [a for a, _ in rows if a.text is not None]
        out[kind] = {"n": len(rows), "answered": len(shown) / len(rows) if rows else float("nan")}
        if kind == "answerable":
            refs = [list(e.answer_texts or [t for t, _ in e.answers]) for _, e in rows]
            f1 = [score_one(a.text, r)[1] if a.text is not None else 0.0 for (a, _), r in zip(rows, refs, strict=True)]
            out[kind]["f1_with_refusals"] = 100 * sum(f1) / len(f1)
            out[kind]["f1_answered"] = 100 * sum(f for f, (a, _) in zip(f1, rows, strict=True) if a.text is not None) \
                / max(1, len(shown))
            out[kind]["right_of_shown"] = sum(right(a, r) for (a, _), r in zip(rows, refs, strict=True)
                                              if a.text is not None) / max(1, len(shown))
    pairs = []  # (confidence, right) of every shown answer
    for a, e in zip(answers, examples, strict=True):
        if a.text is None:
            continue
        refs = list(e.answer_texts or [t for t, _ in e.answers]) if kind_of(e.id) == "answerable" else None
        pairs.append((a.score, right(a, refs)))
    out["pairs"] = pairs
    out["confident_wrong"] = sum(1 for c, r in pairs if c >= HIGH and not r) / len(answers)
    out["ece"] = ece(pairs)
    return out


def ece(pairs: list[tuple[float, bool]], bins: int = 10) -> float:
    """Expected calibration error: the bins' gaps between mean confidence and share right, weighted by size."""
    if not pairs:
        return float("nan")
    return sum(n * abs(conf - share) for _, n, conf, share in reliability(pairs, bins) if n) / len(pairs)


def reliability(pairs: list[tuple[float, bool]], bins: int = 10) -> list[tuple[str, int, float, float]]:
    rows = []
    for b in range(bins):
        inside = [(c, r) for c, r in pairs if b / bins <= c < (b + 1) / bins or (b == bins - 1 and c == 1.0)]
        mean_c = sum(c for c, _ in inside) / len(inside) if inside else float("nan")
        share = sum(r for _, r in inside) / len(inside) if inside else float("nan")
        rows.append((f"{b / bins:.1f}-{(b + 1) / bins:.1f}", len(inside), mean_c, share))
    return rows


def pct(x: float) -> str:
    return "–" if x != x else f"{100 * x:.1f}%"


def report(args, examples, results: dict[str, dict], seconds: dict[str, float]) -> str:
    n = {k: results["shipped"][k]["n"] for k in KINDS}
    lines = [
        "## BBC news check of the answers shown (issue \"Trustworthy answers\", scope item 3, targets 3-4)",
        "",
        f"Command: `python bench/news_trust.py --limit {args.limit} --write` ({today()}, {machine()}). "
        f"{n['answerable']} answerable synthetic questions over BBC articles (held out from training), "
        f"{n['other']} asked over another article's passage, {n['deleted']} over their own passage with the "
        "answer deleted; one passage each. *Reader alone*: refusing at its own null threshold (the model "
        "card's measure); *shipped*: the reader behind the calibrated gate, as `ask()` runs it. Same run.",
        "",
        "| | reader alone | shipped |",
        "|---|---|---|",
    ]
    a, s = results["reader"], results["shipped"]
    rows = [
        ("answerable questions answered", pct(a["answerable"]["answered"]), pct(s["answerable"]["answered"])),
        ("F1, answerable (refusals score 0)", f"{a['answerable']['f1_with_refusals']:.1f}",
         f"{s['answerable']['f1_with_refusals']:.1f}"),
        ("F1 of the answered ones", f"{a['answerable']['f1_answered']:.1f}", f"{s['answerable']['f1_answered']:.1f}"),
        ("**answer deleted: refused**", pct(1 - a["deleted"]["answered"]), f"**{pct(1 - s['deleted']['answered'])}**"),
        ("other article's passage: refused", pct(1 - a["other"]["answered"]), pct(1 - s["other"]["answered"])),
        ("confident-wrong (shown with confidence >= 0.8 and wrong, of all questions)", pct(a["confident_wrong"]),
         pct(s["confident_wrong"])),
        ("ECE of the shown answers (10 bins)", f"{a['ece']:.3f}", f"{s['ece']:.3f}"),
        ("answers shown", str(len(a["pairs"])), str(len(s["pairs"]))),
        ("seconds", f"{seconds['reader']:.0f}", f"{seconds['shipped']:.0f}"),
    ]
    lines += [f"| {r[0]} | {r[1]} | {r[2]} |" for r in rows]
    lines += ["", "Reliability of the shown answers (*n*, mean confidence, share right):", "",
              "| confidence | reader alone: n | conf. | right | shipped: n | conf. | right |",
              "|---|---|---|---|---|---|---|"]
    for ra, rs in zip(reliability(a["pairs"]), reliability(s["pairs"]), strict=True):
        lines.append(f"| {ra[0]} | {ra[1]} | {'–' if ra[2] != ra[2] else f'{ra[2]:.2f}'} | {pct(ra[3])} "
                     f"| {rs[1]} | {'–' if rs[2] != rs[2] else f'{rs[2]:.2f}'} | {pct(rs[3])} |")
    levels: dict[str, list[bool]] = {}
    for c, r in s["pairs"]:
        levels.setdefault(confidence_level(c), []).append(r)
    lines += ["", f"Shipped, by confidence level (High >= {HIGH}, Medium >= {MEDIUM}): "
              + "; ".join(f"{lvl} {len(v)} answers, {pct(sum(v) / len(v))} right" for lvl, v in sorted(levels.items()))
              + "."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=600, help="answerable questions (the model card uses 600)")
    ap.add_argument("--write", action="store_true", help="write the section into bench/RESULTS.md")
    args = ap.parse_args(argv)

    examples = news_examples(news_path("bbc"), limit=args.limit, deleted_share=1.0)
    passages = passages_for(examples, get_embedder())
    gate = NoAnswerGate.load()
    if gate is None:
        raise SystemExit("qa/calibration.json has no gate: run python -m training.calibrate_gate")
    answerers = {"reader": SpanReader(), "shipped": GatedAnswerer(SpanReader(abstain=False), gate)}
    results, seconds = {}, {}
    for name, answerer in answerers.items():
        t = time.perf_counter()
        answers = answerer.answer_many([e.question for e in examples], [[p] for p in passages])
        seconds[name] = time.perf_counter() - t
        results[name] = summarise(answers, examples)
        print(f"{name}: done in {seconds[name]:.0f} s", file=sys.stderr, flush=True)
    text = report(args, examples, results, seconds)
    print(text)
    if args.write:
        write_section("news-trust", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
