"""Which signals tell "the right passage without the answer" from "the answer"? An ablation of the
no-answer gate's features and training questions, measured on held-out questions only.

    python bench/gate_ablation.py [--write]

Questions (all read by the shipped reader, ``SpanReader(abstain=False)``; reads cached under
``bench/.cache`` like ``bench/end_to_end.py``'s):

- SQuAD end to end (:func:`training.calibrate_gate.questions`, 300 + 300): answerable (every article
  indexed) and article-out, as ``bench/end_to_end.py`` reads them;
- SQuAD *answer deleted*, over the question's own paragraph, two ways: the answer's sentence taken out
  (*sentence deleted*) or every reference string taken out of the paragraph (*span deleted*, the words
  around it stay, as in the news check); kept only when no reference is left in the paragraph;
- BBC: the questions of ``bench/news_trust.py`` (held out), and a *fit split* made the same way
  (:func:`training.augment.news_examples`, seed 7) from BBC articles none of those questions come from.

Each gate is a logistic regression (:func:`training.calibration.fit_gate`) fitted on questions of the
SQuAD training articles (and, where a row says so, on deleted-answer questions of those articles or the
BBC fit split), its threshold the lowest that refuses 85% of the article-out training questions (the
rule of ``python -m training.calibrate_gate``). Rows take one signal from or add one to the five of
:data:`qa.answerers.gate.FEATURES` (the first four were the gate's until the best span's raw score
joined them); signals the gate cannot see (the reader's null score, the gap to the next span) are taken
from the reader's candidate spans here.
Reported on the held-out SQuAD articles (answered, refused, deleted-answer refusals, F1 with the gate,
ECE of the shown answers of the 50/50 mix) and on the BBC check (answered, deleted refused).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, today, write_section  # noqa: E402
from bench.end_to_end import reliability  # noqa: E402
from bench.news_trust import kind_of, passages_for  # noqa: E402
from qa.answerers.answer_types import agreement, question_type  # noqa: E402
from qa.answerers.gate import NoAnswerGate, features  # noqa: E402
from qa.answerers.protocol import passages_to_read  # noqa: E402
from qa.embedders import get_embedder  # noqa: E402
from qa.lexical import content_terms  # noqa: E402
from qa.metrics import normalize_answer, score_one  # noqa: E402
from qa.reader import SpanReader  # noqa: E402
from qa.sentences import sentence_around  # noqa: E402
from qa.stats import sigmoid  # noqa: E402
from qa.types import EVIDENCE, Answer, Passage  # noqa: E402
from training.augment import news_examples  # noqa: E402
from training.calibrate_gate import READS_CACHE, ReadCache, corpus_qa, questions, read_all, right  # noqa: E402
from training.calibration import fit_gate  # noqa: E402
from training.datasets import load_docs, news_path  # noqa: E402

BASE = ("logit", "cosine", "sentence", "evidence")
#: the signals of :data:`qa.answerers.gate.FEATURES`, in its order
SHIPPED = (*BASE, "span score")
#: characters either side of the span for the "question terms near the span" signal
WINDOW = 30
MIN_REFUSAL = 0.85


@dataclass(frozen=True)
class Shown:
    """The reader's answer to one question and every signal a gate could use."""

    answer: Answer
    signals: dict[str, float]


def read_single(reader: SpanReader, cache: ReadCache, qs: Sequence[str], passages: Sequence[Passage]) -> list[list]:
    """Candidate spans of each question over its one passage, through the read cache."""
    keys = [ReadCache.key(q, [p], reader) for q, p in zip(qs, passages, strict=True)]
    missing = [j for j, k in enumerate(keys) if k not in cache.data]
    if missing:
        found = reader.read_many([qs[j] for j in missing], [[passages[j]] for j in missing])
        for j, cands in zip(missing, found, strict=True):
            cache.data[keys[j]] = [(0, k, c) for _, k, c in cands]
        cache.save()
    return [[(p, k, c) for _, k, c in cache.data[key]] for p, key in zip(passages, keys, strict=True)]


def squad_deleted(qs: list[dict], how: str) -> list[tuple[dict, str, str, int]]:
    """(question, title, paragraph without the answer, paragraph start) for each question whose paragraph
    holds no reference after the deletion: ``how`` "sentence" takes out the answer's sentence, "span"
    every reference string."""
    docs = load_docs("squad11")
    out = []
    for q in qs:
        d = docs[q["doc_id"]]
        a, b = q["paragraph_span"]
        para = d["text"][a:b]
        if how == "sentence":
            s = q["paragraph_answer_starts"][0]
            lo, hi = sentence_around(para, s, s + len(q["answers"][0]))
            cut = (para[:lo] + para[hi:]).strip()
        else:
            cut = para
            for r in sorted({r for r in q["answers"] if r.strip()}, key=len, reverse=True):
                cut = re.sub(r"\s*" + re.escape(r), "", cut)
        low = f" {normalize_answer(cut)} "
        if cut == para or len(cut) < 150 or any(f" {normalize_answer(r)} " in low
                                                 for r in q["answers"] if normalize_answer(r)):
            continue
        out.append((q, d["title"], cut, a))
    return out


def one_passage(items: list[tuple[str, str, str, str, int]], embedder) -> list[Passage]:
    """(question, article id, title, text, start) -> a passage scored by its question cosine, as
    ``bench/news_trust.py`` scores them."""
    qv = embedder.embed([q for q, *_ in items])
    pv = embedder.embed([f"{t}\n{x}" for _, _, t, x, _ in items])
    cos = (qv * pv).sum(axis=1)
    return [Passage(chunk_id=i, article_id=aid, title=t, source="squad", start=s, end=s + len(x), text=x,
                    score=float(c), rank=0, dense_score=float(c))
            for i, ((_, aid, t, x, s), c) in enumerate(zip(items, cos, strict=True))]


def signals(reader: SpanReader, question: str, passages: list[Passage], cands: list) -> Shown:
    """The answer the shipped reader shows and its signals: the gate's five, the reader's null score for
    the span shown, its margin's gap to the best span elsewhere, the span's type
    agreement, the share of the question's terms within :data:`WINDOW` characters of the span, and the
    share of the span's own terms that are the question's."""
    a = reader.decide(question, list(passages), list(cands))
    base = dict(zip(SHIPPED, features(a), strict=True))
    if a.text is None:
        return Shown(a, base)
    ranked = reader.rank(list(passages), list(cands))
    p, _, c = ranked.spans[0]
    if a.kind != EVIDENCE:  # the span shown may be a typed stand-in for the best one
        p, _, c = next(((q, k, s) for q, k, s in ranked.spans[:20] if q.text[s.start_char:s.end_char] in a.text
                        or a.text in q.text[s.start_char:s.end_char]), ranked.spans[0])
    others = [s.margin for q, _, s in ranked.spans
              if not (q is p and s.start_char < c.end_char and c.start_char < s.end_char)]
    q_terms = content_terms(question)
    near = p.text[max(0, c.start_char - WINDOW):c.start_char] + " " + p.text[c.end_char:c.end_char + WINDOW]
    span_terms = content_terms(a.text) if a.kind != EVIDENCE else set()
    return Shown(a, {
        **base,
        "null": c.null_score,
        "gap": min(c.margin - max(others), 10.0) if others else 10.0,
        "type": float(agreement(question_type(question), a.text, question)) if a.kind != EVIDENCE else 0.0,
        "near": len(q_terms & content_terms(near)) / len(q_terms) if q_terms else 0.0,
        "span repeats question": len(span_terms & q_terms) / len(span_terms) if span_terms else 0.0,
    })


@dataclass(frozen=True)
class Gate:
    names: tuple[str, ...]
    weights: list[float]
    bias: float
    threshold: float

    def p(self, s: Shown) -> float:
        if s.answer.text is None:
            return 0.0
        return sigmoid(sum(w * s.signals[n] for w, n in zip(self.weights, self.names, strict=True)) + self.bias)


def fit(names: tuple[str, ...], right_rows: list[tuple[Shown, bool]], article_out: list[Shown]) -> Gate:
    kept = [(s, y) for s, y in right_rows if s.answer.text is not None]
    w, b = fit_gate([[s.signals[n] for n in names] for s, _ in kept], [int(y) for _, y in kept])
    gate = Gate(names, w, b, 0.5)
    neg = [gate.p(s) for s in article_out]
    grid = sorted(set(neg + [gate.p(s) for s, _ in kept]))
    return Gate(names, w, b, next(t for t in grid if np.mean([p < t for p in neg]) >= MIN_REFUSAL))


def measure(gate: Gate, sets: dict) -> dict[str, float]:
    t = gate.threshold
    pos, refs = sets["test answerable"], sets["test refs"]
    pp, pn = [gate.p(s) for s in pos], [gate.p(s) for s in sets["test article out"]]
    ok = [right(s.answer, r) for s, r in zip(pos, refs, strict=True)]
    f1 = [score_one(s.answer.text, r)[1] if p >= t else 0.0 for s, r, p in zip(pos, refs, pp, strict=True)]
    shown = [p for p in pp + pn if p >= t]
    shown_ok = [o for p, o in zip(pp, ok, strict=True) if p >= t] + [False] * sum(p >= t for p in pn)

    def refused(key: str) -> float:
        return float(np.mean([gate.p(s) < t for s in sets[key]]))

    return {"answered": 1 - refused("test answerable"), "refused": refused("test article out"),
            "sentence deleted": refused("test sentence deleted"), "span deleted": refused("test span deleted"),
            "f1": float(np.mean(f1)), "ece": reliability(shown, shown_ok)[1],
            "bbc answered": 1 - refused("bbc answerable"), "bbc deleted": refused("bbc deleted"),
            "bbc other": refused("bbc other")}


def cross_validated(names: tuple[str, ...], sets: dict, folds: int = 5, repeats: int = 4) -> dict[str, float]:
    """Noise check, not a fit to ship: the same fit on the training and held-out SQuAD questions pooled,
    split by question into ``folds`` parts ``repeats`` times; each part measured by the gate fitted on the
    rest. Means (and the ECE's standard error) over the parts."""
    shown = sets["tune answerable"] + sets["test answerable"]
    out = sets["tune article out"] + sets["test article out"]
    ok = [right(s.answer, r) for s, r in zip(shown, sets["tune refs"] + sets["test refs"], strict=True)]
    figures: dict[str, list[float]] = {"answered": [], "refused": [], "ece": [], "bbc deleted": []}
    for rep in range(repeats):
        order = list(range(len(shown)))
        random.Random(rep).shuffle(order)
        for k in range(folds):
            held = set(order[k::folds])
            train = [i for i in order if i not in held]
            gate = fit(names, [(shown[i], ok[i]) for i in train] + [(out[i], False) for i in train],
                       [out[i] for i in train])
            pp = [gate.p(shown[i]) for i in held]
            pn = [gate.p(out[i]) for i in held]
            t = gate.threshold
            conf = [p for p in pp + pn if p >= t]
            conf_ok = [ok[i] for i, p in zip(held, pp, strict=True) if p >= t] + [False] * sum(p >= t for p in pn)
            figures["answered"].append(float(np.mean([p >= t for p in pp])))
            figures["refused"].append(float(np.mean([p < t for p in pn])))
            figures["ece"].append(reliability(conf, conf_ok)[1])
            figures["bbc deleted"].append(float(np.mean([gate.p(s) < t for s in sets["bbc deleted"]])))
    means = {k: float(np.mean(v)) for k, v in figures.items()}
    return means | {"ece se": float(np.std(figures["ece"]) / np.sqrt(len(figures["ece"])))}


def gather() -> dict:
    reader = SpanReader(abstain=False)
    embedder = get_embedder()
    cache = ReadCache(READS_CACHE)
    qa = corpus_qa()
    tune, test = questions(300)
    sets: dict = {}
    for split, qs in (("tune", tune), ("test", test)):
        pos, neg = read_all(qa, reader, cache, qs, passages_to_read(reader, 5))
        sets[f"{split} answerable"] = [signals(reader, r.question, r.passages, r.candidates) for r in pos]
        sets[f"{split} article out"] = [signals(reader, r.question, r.passages, r.candidates) for r in neg]
        sets[f"{split} refs"] = [q["answers"] for q in qs]
        for how in ("sentence", "span"):
            cuts = squad_deleted(qs, how)
            ps = one_passage([(q["question"], q["doc_id"], t, x, s) for q, t, x, s in cuts], embedder)
            reads = read_single(reader, cache, [q["question"] for q, *_ in cuts], ps)
            sets[f"{split} {how} deleted"] = [signals(reader, q["question"], [p], r)
                                              for (q, *_), p, r in zip(cuts, ps, reads, strict=True)]
        print(f"  {split}: read", file=sys.stderr, flush=True)
    bench = news_examples(news_path("bbc"), limit=600, deleted_share=1.0)
    held_out = {e.doc_id for e in bench}
    fit_split = [e for e in news_examples(news_path("bbc"), limit=1500, seed=7, deleted_share=1.0)
                 if e.doc_id not in held_out]
    for name, examples in (("bbc fit", fit_split), ("bbc", bench)):
        ps = passages_for(examples, embedder)
        reads = read_single(reader, cache, [e.question for e in examples], ps)
        shown = [signals(reader, e.question, [p], r) for e, p, r in zip(examples, ps, reads, strict=True)]
        for kind, label in (("answerable", "answerable"), ("other", "other"), ("deleted", "deleted")):
            sets[f"{name} {label}"] = [s for s, e in zip(shown, examples, strict=True) if kind_of(e.id) == kind]
        sets[f"{name} refs"] = [list(e.answer_texts or [t for t, _ in e.answers]) for e in examples
                                if kind_of(e.id) == "answerable"]
        print(f"  {name}: read", file=sys.stderr, flush=True)
    return sets


ROWS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("refit, the shipped five", SHIPPED, ()),
    ("the four before (no raw score)", BASE, ()),
    ("four + reader's null score instead", (*BASE, "null"), ()),
    ("+ reader's null score", (*SHIPPED, "null"), ()),
    ("+ gap to the next span", (*SHIPPED, "gap"), ()),
    ("+ type agreement", (*SHIPPED, "type"), ()),
    (f"+ question terms within {WINDOW} chars of the span", (*SHIPPED, "near"), ()),
    ("+ span repeats the question", (*SHIPPED, "span repeats question"), ()),
    ("five, fitted + SQuAD sentence-deleted", SHIPPED, ("tune sentence deleted",)),
    ("five, fitted + SQuAD span-deleted", SHIPPED, ("tune span deleted",)),
    ("five, fitted + BBC fit split", SHIPPED, ("bbc fit",)),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="write the table into bench/RESULTS.md")
    args = ap.parse_args(argv)
    sets = gather()
    shipped = NoAnswerGate.load()
    if shipped is None:
        raise SystemExit("qa/calibration.json has no gate: run python -m training.calibrate_gate")
    as_stored = Gate(SHIPPED[:len(shipped.weights)], list(shipped.weights), shipped.bias, shipped.threshold)
    gates = [("shipped gate (qa/calibration.json)", as_stored)]
    tune_right = [(s, right(s.answer, r)) for s, r in zip(sets["tune answerable"], sets["tune refs"], strict=True)]
    for label, names, extra in ROWS:
        rows = tune_right + [(s, False) for s in sets["tune article out"]]
        for key in extra:
            if key == "bbc fit":
                rows += [(s, right(s.answer, r)) for s, r in zip(sets["bbc fit answerable"], sets["bbc fit refs"],
                                                                 strict=True)]
                rows += [(s, False) for s in sets["bbc fit other"] + sets["bbc fit deleted"]]
            else:
                rows += [(s, False) for s in sets[key]]
        gates.append((label, fit(names, rows, sets["tune article out"])))
    n = {k: len(v) for k, v in sets.items() if not k.endswith("refs")}
    lines = [
        "## Gate features against deleted-answer questions: ablation (issue \"Trustworthy answers\", target 3)",
        "",
        f"Command: `python bench/gate_ablation.py --write` ({today()}, {machine()}). Held out: SQuAD validation "
        f"articles ({n['test answerable']} answerable / {n['test article out']} article-out questions end to end, "
        f"{n['test sentence deleted']} sentence-deleted and {n['test span deleted']} span-deleted over their own "
        f"paragraph) and the BBC check of `bench/news_trust.py` ({n['bbc answerable']} answerable, "
        f"{n['bbc deleted']} answer deleted, {n['bbc other']} other article). Fitted on the SQuAD training "
        f"articles ({n['tune answerable']} + {n['tune article out']}; deleted: {n['tune sentence deleted']} / "
        f"{n['tune span deleted']}) and, in one row, on a BBC split of other articles ({n['bbc fit answerable']} "
        f"answerable, {n['bbc fit deleted']} deleted, {n['bbc fit other']} other). Threshold: the lowest that "
        "refuses 85% of the article-out training questions. Percentages: answered (answerable) or refused (the rest).",
        "",
        "| gate | SQuAD answered | article out refused | sentence deleted refused | span deleted refused "
        "| F1 with the gate | ECE (shown) | BBC answered | **BBC deleted refused** | BBC other refused |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, gate in gates:
        m = measure(gate, sets)
        lines.append(f"| {label} | {100 * m['answered']:.1f} | {100 * m['refused']:.1f} "
                     f"| {100 * m['sentence deleted']:.1f} | {100 * m['span deleted']:.1f} | {100 * m['f1']:.1f} "
                     f"| {m['ece']:.3f} | {100 * m['bbc answered']:.1f} | **{100 * m['bbc deleted']:.1f}** "
                     f"| {100 * m['bbc other']:.1f} |")
    lines += ["", "Noise check (not a fit to ship): the same fits on the 600 + 600 SQuAD questions of both splits "
              "pooled, split by question, 5 folds x 4 repeats, each fold measured by the gate fitted on the rest "
              "(means; ECE with its standard error; 120-question folds bias every ECE upwards):", "",
              "| gate | SQuAD answered | article out refused | ECE (shown) | BBC deleted refused |",
              "|---|---|---|---|---|"]
    for label, names in (("the four before", BASE), ("the shipped five", SHIPPED),
                         ("five + reader's null score", (*SHIPPED, "null"))):
        c = cross_validated(names, sets)
        lines.append(f"| {label} | {100 * c['answered']:.1f} | {100 * c['refused']:.1f} "
                     f"| {c['ece']:.3f} +- {c['ece se']:.3f} | {100 * c['bbc deleted']:.1f} |")
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section("gate-ablation", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
