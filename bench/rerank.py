"""Does re-ranking the fused top-N chunks with the span reader's best-span margin lift retrieval?

    python bench/rerank.py [--limit 600] [--depth 10]

Same corpus, questions and hit rule as ``bench/retrieval.py`` (SQuAD v1.1 + BBC; a hit is a chunk of the
question's article holding a reference answer). Each question's fused top ``--depth`` chunks are read by
the shipped reader; a chunk's new score is ``fused score + w * margin`` (margin: its best span's score
over that window's no-answer score). ``w`` is chosen on the training articles (tune) and reported on
the held-out ones (test). The chosen w ships as the reader's ``rerank_weight`` (``SpanReader.rank``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, today  # noqa: E402
from bench.retrieval import gold_spans  # noqa: E402
from qa import QA, Settings  # noqa: E402
from qa.reader import SpanReader  # noqa: E402
from training.datasets import (  # noqa: E402
    DATA_ROOT,
    VALIDATION_ARTICLES,
    article_name,
    read_jsonl,
    squad_bbc_corpus,
    squad_bbc_index,
)

WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 100.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit", type=int, default=600, help="questions per split (random, seed 0)")
    ap.add_argument("--depth", type=int, default=10, help="fused chunks re-ranked per question")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    qa = QA(settings=Settings(articles_dir=squad_bbc_corpus(), index_dir=squad_bbc_index()))
    qa.refresh()
    reader = SpanReader(abstain=False)
    by_source = {a.source: a.id for a in qa.snapshot.articles.values()}
    questions = read_jsonl(DATA_ROOT / "squad" / "squad11" / "qa.jsonl")
    rng = np.random.default_rng(0)
    splits = {"tune": [], "test": []}
    for q in questions:
        splits["test" if article_name(q["doc_id"]) in VALIDATION_ARTICLES else "tune"].append(q)
    splits = {k: [v[i] for i in sorted(rng.choice(len(v), min(args.limit, len(v)), replace=False))]
              for k, v in splits.items()}

    out = {"date": today(), "machine": machine(), "limit": args.limit, "depth": args.depth, "splits": {}}
    for split, qs in splits.items():
        t0 = time.perf_counter()
        found = qa.retriever.search_many([q["question"] for q in qs], k=args.depth)
        rows = []  # per question: (fused scores, reader margins, correct flags)
        for q, ps in zip(qs, found):
            aid = by_source[f"squad.jsonl#{q['doc_id']}"]
            spans = gold_spans(q)
            correct = [p.article_id == aid and any(p.start <= s and e <= p.end for s, e in spans) for p in ps]
            pairs = reader.predict_pairs([q["question"]] * len(ps), [p.text for p in ps])
            margins = [max((c.margin for c in cands), default=-50.0) for _, cands in pairs]
            rows.append((np.array([p.score for p in ps]), np.array(margins), np.array(correct)))
        res = {}
        for w in WEIGHTS:
            top1 = top5 = 0
            for fused, margin, correct in rows:
                order = np.argsort(-(fused + w * margin), kind="stable")
                pos = next((r for r, i in enumerate(order) if correct[i]), None)
                if pos is not None:
                    top1 += pos == 0
                    top5 += pos < 5
            res[str(w)] = {"top1": top1 / len(rows), "top5": top5 / len(rows)}
        out["splits"][split] = {"n": len(rows), "seconds_per_question": (time.perf_counter() - t0) / len(rows),
                                "by_weight": res}
        print(split, json.dumps(res), flush=True)
    best = max(WEIGHTS[1:], key=lambda w: (out["splits"]["tune"]["by_weight"][str(w)]["top5"],
                                            out["splits"]["tune"]["by_weight"][str(w)]["top1"]))
    out["chosen_on_tune"] = best
    print("chosen on tune:", best, "test:", out["splits"]["test"]["by_weight"][str(best)],
          "baseline test:", out["splits"]["test"]["by_weight"]["0.0"])
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
