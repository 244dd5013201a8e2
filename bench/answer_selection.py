"""Which rule should pick the answer span among the passages the reader read?

    python bench/answer_selection.py [--n 300] [--depth 10]

Same corpus and questions as ``bench/end_to_end.py`` (SQuAD v1.1 + BBC; tune = training articles,
test = held-out articles; every article indexed, so each question is answerable). Each question's
fused top ``--depth`` passages are read once by the shipped reader; the rules below are then replayed
on those spans, and the F1 of the chosen span (always answering) is reported:

* ``rank``: the reader's rule before re-ranking: best ``margin - rank_weight * rank`` over the top
  ``k`` passages in fused order (``--depth`` ignored);
* ``rerank+rank``: passages re-ordered by ``fused + w * best margin`` over all ``--depth`` passages, then
  ``margin - rank_weight * new rank``;
* ``score``: best ``fused + w * margin`` over all spans of the ``--depth`` passages (the span's own margin,
  so the chosen span comes from the top re-ranked passage). This is what ships
  (``SpanReader.rank``, ``rerank_weight``).

``w`` and the rule are chosen on tune; test is reported.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, today  # noqa: E402
from qa import QA, Settings  # noqa: E402
from qa.metrics import score_one  # noqa: E402
from qa.reader import SpanReader  # noqa: E402
from qa.reader.reader import NO_SPAN_MARGIN  # noqa: E402
from training.datasets import (  # noqa: E402
    DATA_ROOT,
    VALIDATION_ARTICLES,
    article_name,
    read_jsonl,
    squad_bbc_corpus,
    squad_bbc_index,
)

WEIGHTS = (0.05, 0.1, 0.2, 0.3, 0.5, 1.0)


def read(qa: QA, reader, qs: list[dict], depth: int) -> list[list[tuple[float, list[tuple[str, float]]]]]:
    """Per question, per passage in fused order: (fused score, [(span text, margin), ...])."""
    found = qa.retriever.search_many([q["question"] for q in qs], k=depth)
    out = []
    for q, ps in zip(qs, found):
        pairs = reader.predict_pairs([q["question"]] * len(ps), [p.text for p in ps])
        out.append([(p.score, [(p.text[c.start_char:c.end_char], c.margin) for c in cands])
                    for p, (_, cands) in zip(ps, pairs)])
    return out


def choose(rows, rule: str, w: float, k: int, rank_weight: float) -> str | None:
    if rule == "rank":
        spans = [(m - rank_weight * r, t) for r, (_, cands) in enumerate(rows[:k]) for t, m in cands]
    elif rule == "rerank+rank":
        best = [max((m for _, m in cands), default=NO_SPAN_MARGIN) for _, cands in rows]
        order = sorted(range(len(rows)), key=lambda i: -(rows[i][0] + w * best[i]))
        spans = [(m - rank_weight * r, t) for r, i in enumerate(order) for t, m in rows[i][1]]
    else:  # score
        spans = [(f + w * m, t) for f, cands in rows for t, m in cands]
    return max(spans)[1] if spans else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=300, help="questions per split")
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    qa = QA(settings=Settings(articles_dir=squad_bbc_corpus(), index_dir=squad_bbc_index()))
    qa.refresh()
    reader = SpanReader(abstain=False)
    questions = read_jsonl(DATA_ROOT / "squad" / "squad11" / "qa.jsonl")
    rng = random.Random(0)  # the same questions as bench/end_to_end.py
    tune = rng.sample([q for q in questions if article_name(q["doc_id"]) not in VALIDATION_ARTICLES], args.n)
    test = rng.sample([q for q in questions if article_name(q["doc_id"]) in VALIDATION_ARTICLES], args.n)
    result = {"date": today(), "machine": machine(), "n": args.n, "depth": args.depth, "k": args.k, "splits": {}}
    for name, qs in (("tune", tune), ("test", test)):
        rows = read(qa, reader, qs, args.depth)
        res = {}
        for rule in ("rank", "rerank+rank", "score"):
            for w in (0.0,) if rule == "rank" else WEIGHTS:
                f1 = [score_one(choose(r, rule, w, args.k, reader.rank_weight), q["answers"])[1]
                      for r, q in zip(rows, qs)]
                res[f"{rule} w={w}"] = float(np.mean(f1))
        result["splits"][name] = res
        print(name, json.dumps(res, indent=1), flush=True)
    best = max(result["splits"]["tune"], key=result["splits"]["tune"].get)
    result["chosen_on_tune"] = best
    print("chosen on tune:", best, "test F1:", result["splits"]["test"][best], "test F1 of 'rank':",
          result["splits"]["test"]["rank w=0.0"])
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
