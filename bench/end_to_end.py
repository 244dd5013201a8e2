"""End-to-end answer quality: retrieval over SQuAD + BBC, then the answerer, against SQuAD references.

    python -m training.calibrate_gate [--n 300]     # first, to refit the gate of qa/calibration.json
    python bench/end_to_end.py [--n 300] [--write] [--rerank W] [--weights DIR]

Corpus: the retrieval benchmark's index (40 SQuAD v1.1 articles + 2,225 BBC articles). For each
question the reader reads the top passages (answerable case) and the top passages with the question's
own article taken out (unanswerable case: the article is not in the folder). Questions of the
*training* articles fit the no-answer gates; every figure is reported on the held-out validation
articles (``training.datasets.VALIDATION_ARTICLES``).

Two pipelines are measured on the same reads (the network runs once per question; its candidate spans
are cached under ``bench/.cache``):

- **before**: the reader without answer types or span-edge repair (``SpanReader(answer_types=False,
  repair_edges=False)``), behind a 3-feature gate fitted here the way the shipped one was: labels
  "the question's article is indexed", threshold the lowest that refuses ``--min-refusal`` of the
  unanswerable training questions;
- **now**: the reader as it ships (answer types, evidence sentences, edge repair) behind the gate of
  ``qa/calibration.json`` (fitted by ``python -m training.calibrate_gate`` on the same training
  questions: all :data:`qa.answerers.gate.FEATURES`, labels "the answer shown is right", same threshold rule).

An answer is *right* when it is a span with token F1 >= 0.5 against a reference, or an evidence
sentence that holds a reference (SQuAD normalisation); every answer to an unanswerable question is
wrong. Reported: F1 always answering and with the gate (refusals score 0), answered / refused shares,
the *confident-wrong rate* (answered with confidence >= 0.8 and wrong), a 10-bin reliability table of
the shown answers and its expected calibration error (ECE), over the 50/50 mix of answerable and
unanswerable questions. ``--write`` puts the tables in ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, today, write_section  # noqa: E402
from qa.answerers.answer_types import question_type, wrong_type_message  # noqa: E402
from qa.answerers.gate import NoAnswerGate  # noqa: E402
from qa.answerers.protocol import passages_to_read  # noqa: E402
from qa.metrics import score_one  # noqa: E402
from qa.reader import SpanReader  # noqa: E402
from qa.types import EVIDENCE, HIGH, MEDIUM, SPAN, Answer, confidence_level  # noqa: E402
from training.calibrate_gate import (  # noqa: E402
    READS_CACHE,
    Read,
    ReadCache,
    corpus_qa,
    decide_all,
    fit,
    probability,
    questions,
    read_all,
    right,
)

CONFIDENT = 0.8
BINS = 10
BASELINE_FEATURES = 3


def reliability(conf: list[float], ok: list[bool], bins: int = BINS) -> tuple[list[dict], float]:
    """Equal-width bins of confidence: count, mean confidence, share right; and the ECE (the
    count-weighted mean gap between confidence and share right)."""
    rows, ece = [], 0.0
    c, y = np.asarray(conf, dtype=float), np.asarray(ok, dtype=float)
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        m = (c >= lo) & ((c < hi) if b < bins - 1 else (c <= hi))
        n = int(m.sum())
        row = {"bin": f"{lo:.1f}-{hi:.1f}", "n": n}
        if n:
            row |= {"confidence": float(c[m].mean()), "right": float(y[m].mean())}
            ece += n / max(1, len(c)) * abs(row["confidence"] - row["right"])
        rows.append(row)
    return rows, float(ece)


def measure(pos: list[Answer], neg: list[Answer], refs: list[list[str]], gate: NoAnswerGate) -> dict:
    """Held-out figures of one pipeline (see the module docstring)."""
    p_pos = [probability(gate, a) for a in pos]
    p_neg = [probability(gate, a) for a in neg]
    t = gate.threshold
    f1 = [score_one(a.text, r)[1] for a, r in zip(pos, refs)]
    ok_pos = [right(a, r) for a, r in zip(pos, refs)]
    shown_conf = [p for p in p_pos if p >= t] + [p for p in p_neg if p >= t]
    shown_ok = [o for p, o in zip(p_pos, ok_pos) if p >= t] + [False for p in p_neg if p >= t]
    table, ece = reliability(shown_conf, shown_ok)
    levels = {}
    for name in ("High", "Medium", "Low"):
        sel = [o for p, o in zip(shown_conf, shown_ok) if confidence_level(p) == name]
        levels[name] = {"n": len(sel), "right": float(np.mean(sel)) if sel else None}
    evidence = [(p >= t, o) for a, p, o in zip(pos, p_pos, ok_pos) if a.kind == EVIDENCE]
    f1_gated = [f if p >= t else 0.0 for f, p in zip(f1, p_pos)]
    span_kind = [question_type(a.question).kind == SPAN for a in pos]
    refused = float(np.mean([p < t for p in p_neg]))
    n_all = len(pos) + len(neg)
    return {
        "f1_always_answer": float(np.mean(f1)),
        "em_always_answer": float(np.mean([score_one(a.text, r)[0] for a, r in zip(pos, refs)])),
        "right_always_answer": float(np.mean(ok_pos)),
        "f1_with_no_answer": float(np.mean(f1_gated)),
        "f1_with_no_answer_span_questions": float(np.mean([f for f, k in zip(f1_gated, span_kind) if k])),
        "span_questions": int(sum(span_kind)),
        "answered_when_answerable": float(np.mean([p >= t for p in p_pos])),
        "refused_when_unanswerable": refused,
        "overall_f1_50_50_mix": (float(np.mean(f1_gated)) + refused) / 2,
        "confident_wrong_mix": (sum(p >= CONFIDENT and not o for p, o in zip(p_pos, ok_pos))
                                + sum(p >= CONFIDENT for p in p_neg)) / n_all,
        "confident_wrong_answerable": sum(p >= CONFIDENT and not o for p, o in zip(p_pos, ok_pos)) / len(pos),
        "confident_wrong_unanswerable": sum(p >= CONFIDENT for p in p_neg) / len(neg),
        "shown": len(shown_conf), "shown_right": float(np.mean(shown_ok)) if shown_ok else None,
        "ece_shown": ece, "ece_all": reliability(p_pos + p_neg, ok_pos + [False] * len(neg))[1],
        "reliability": table, "levels": levels,
        "evidence_answers": len(evidence), "evidence_shown": sum(s for s, _ in evidence),
        "evidence_right": sum(o for _, o in evidence),
        "wrong_type_refusals": sum(a.text is None and a.message == wrong_type_message(question_type(a.question))
                                   for a in pos),
        "threshold": t,
    }


def pipelines(reader) -> dict[str, Callable[[list[Read]], list[Answer]]]:
    """The decision rules compared: before (no answer types, no edge repair), edge repair alone, now."""
    def with_flags(types: bool, repair: bool):
        def run(reads: list[Read]) -> list[Answer]:
            old = reader.answer_types, reader.repair_edges
            reader.answer_types, reader.repair_edges = types, repair
            try:
                return decide_all(reader, reads)
            finally:
                reader.answer_types, reader.repair_edges = old
        return run

    return {"before": with_flags(False, False), "repair only": with_flags(False, True), "now": with_flags(True, True)}


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def markdown(result: dict) -> str:
    b, n = result["test"]["before"], result["test"]["now"]
    cmd = result["command"]
    lines = [
        "## Trustworthy answers: answer types, evidence sentences, calibrated confidence",
        "",
        f"Command: `{cmd}` ({result['date']}, {result['machine']}; {result['n']} + {result['n']} questions of the "
        f"training articles fit the gates, {result['n']} + {result['n']} of the held-out articles are reported, "
        "each asked with every article indexed (answerable) and with its own article taken out (unanswerable)). "
        "*before*: the reader without answer types or edge repair, behind a 3-feature gate fitted in the same run "
        "the way the shipped one was (labels: article indexed); *now*: answer types, evidence sentences, edge "
        "repair, behind the gate of `qa/calibration.json` (labels: answer right). Right = span F1 >= 0.5, or an "
        "evidence sentence that holds a reference; every answer to an unanswerable question is wrong.",
        "",
        "| held-out articles | before | now |",
        "|---|---|---|",
        f"| confident-wrong rate, 50/50 mix (shown with confidence >= {CONFIDENT} and wrong) "
        f"| {pct(b['confident_wrong_mix'])} | **{pct(n['confident_wrong_mix'])}** |",
        f"| confident-wrong, answerable questions / unanswerable ones "
        f"| {pct(b['confident_wrong_answerable'])} / {pct(b['confident_wrong_unanswerable'])} "
        f"| {pct(n['confident_wrong_answerable'])} / {pct(n['confident_wrong_unanswerable'])} |",
        f"| ECE of the shown answers (10 bins) | {b['ece_shown']:.3f} | **{n['ece_shown']:.3f}** |",
        f"| ECE of every question's confidence | {b['ece_all']:.3f} | {n['ece_all']:.3f} |",
        f"| F1 / EM always answering | {100 * b['f1_always_answer']:.1f} / {100 * b['em_always_answer']:.1f} "
        f"| {100 * n['f1_always_answer']:.1f} / {100 * n['em_always_answer']:.1f} |",
        f"| F1 with the gate (refusals score 0) | {100 * b['f1_with_no_answer']:.1f} "
        f"| **{100 * n['f1_with_no_answer']:.1f}** |",
        f"| same, the {n['span_questions']} questions of a kind a short span can answer (evidence kinds left out) "
        f"| {100 * b['f1_with_no_answer_span_questions']:.1f} | {100 * n['f1_with_no_answer_span_questions']:.1f} |",
        f"| answerable questions answered | {pct(b['answered_when_answerable'])} "
        f"| {pct(n['answered_when_answerable'])} |",
        f"| unanswerable questions refused | {pct(b['refused_when_unanswerable'])} "
        f"| **{pct(n['refused_when_unanswerable'])}** |",
        f"| overall F1 on the 50/50 mix | {100 * b['overall_f1_50_50_mix']:.1f} "
        f"| {100 * n['overall_f1_50_50_mix']:.1f} |",
        f"| answers shown (of {2 * result['n']}), share right | {b['shown']}, {pct(b['shown_right'])} "
        f"| {n['shown']}, {pct(n['shown_right'])} |",
        f"| evidence answers to answerable questions: given / shown / holding a reference | – "
        f"| {n['evidence_answers']} / {n['evidence_shown']} / {n['evidence_right']} |",
        f"| answerable questions the reader refused for want of a span of the asked-for type | – "
        f"| {n['wrong_type_refusals']} |",
        f"| gate threshold | {b['threshold']:.3f} | {n['threshold']:.3f} |",
        "",
        "Reliability of the shown answers (50/50 mix; *n*, mean confidence, share right):",
        "",
        "| confidence | before: n | before: conf. | before: right | now: n | now: conf. | now: right |",
        "|---|---|---|---|---|---|---|",
    ]
    for rb, rn in zip(b["reliability"], n["reliability"]):
        cells = []
        for r in (rb, rn):
            cells += [str(r["n"]), f"{r['confidence']:.2f}" if r["n"] else "–", pct(r.get("right"))]
        lines.append(f"| {rb['bin']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Confidence levels of the shown answers (`qa.types.confidence_level`: High >= {HIGH}, "
        f"Medium >= {MEDIUM}):",
        "",
        "| level | before: n, right | now: n, right |",
        "|---|---|---|",
    ]
    for level in ("High", "Medium", "Low"):
        lb, ln = b["levels"][level], n["levels"][level]
        lines.append(f"| {level} | {lb['n']}, {pct(lb['right'])} | {ln['n']}, {pct(ln['right'])} |")
    rep = result["test"]["repair only"]
    lines += [
        "",
        f"Span-edge repair alone (the *before* reader plus `repair_span`), F1 always answering: training articles "
        f"{100 * result['tune']['before']['f1_always_answer']:.2f} -> "
        f"{100 * result['tune']['repair only']['f1_always_answer']:.2f}, "
        f"held-out {100 * b['f1_always_answer']:.2f} -> {100 * rep['f1_always_answer']:.2f} "
        f"({result['repair_changed']['tune']} and {result['repair_changed']['test']} answers changed).",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=300, help="questions per split")
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("--rerank", type=float, default=None,
                    help="the reader's re-ranking weight (default: the shipped one; 0 = read only the top k in "
                         "retrieval order); when on, the reader reads its read_depth passages")
    ap.add_argument("--weights", default=None, help="reader weights folder (default: the shipped ones)")
    ap.add_argument("--min-refusal", type=float, default=0.85,
                    help="the gates' threshold: the lowest that refuses at least this share of the unanswerable "
                         "training questions")
    ap.add_argument("--write", action="store_true", help="put the tables in bench/RESULTS.md")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    qa = corpus_qa()
    reader = SpanReader(args.weights, abstain=False, rerank_weight=args.rerank)
    depth = passages_to_read(reader, args.k)
    tune, test = questions(args.n)
    command = "python bench/end_to_end.py " + " ".join(sys.argv[1:])
    result = {"date": today(), "machine": machine(), "command": command.strip(), "n": args.n, "k": args.k,
              "rerank_weight": reader.rerank_weight, "passages_read": depth}

    cache = ReadCache(READS_CACHE)
    t0 = time.perf_counter()
    reads = {"tune": read_all(qa, reader, cache, tune, depth), "test": read_all(qa, reader, cache, test, depth)}
    result["read_seconds"] = time.perf_counter() - t0
    refs = {"tune": [q["answers"] for q in tune], "test": [q["answers"] for q in test]}
    runs = pipelines(reader)
    answers = {split: {name: (run(reads[split][0]), run(reads[split][1])) for name, run in runs.items()}
               for split in reads}
    result["repair_changed"] = {split: sum(a.text != b.text for a, b in zip(answers[split]["before"][0],
                                                                           answers[split]["repair only"][0]))
                                for split in reads}

    before_gate = fit(*answers["tune"]["before"], refs["tune"], BASELINE_FEATURES, label_right=False,
                      min_refusal=args.min_refusal)
    gate = NoAnswerGate.load()
    if gate is None:
        raise SystemExit("no gate in qa/calibration.json: run python -m training.calibrate_gate")
    result["before_gate"] = {"weights": before_gate.weights, "bias": before_gate.bias,
                            "threshold": before_gate.threshold}
    gates = {"before": before_gate, "repair only": before_gate, "now": gate}
    for split in reads:
        result[split] = {name: measure(*answers[split][name], refs[split], gates[name]) for name in runs}
    print(json.dumps({k: v for k, v in result.items() if k not in ("tune", "test")}, indent=1))
    for split in ("tune", "test"):
        for name in runs:
            r = result[split][name]
            print(f"{split:5s} {name:12s} F1 {100 * r['f1_always_answer']:.1f} "
                  f"gated {100 * r['f1_with_no_answer']:.1f} "
                  f"answered {pct(r['answered_when_answerable'])} refused {pct(r['refused_when_unanswerable'])} "
                  f"conf-wrong mix {pct(r['confident_wrong_mix'])} ans {pct(r['confident_wrong_answerable'])} "
                  f"ECE {r['ece_shown']:.3f}/{r['ece_all']:.3f}")
    print(markdown(result))
    if args.write:
        write_section("end-to-end-trust", markdown(result))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
