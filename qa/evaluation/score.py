"""Answer gold questions and score them: ``evaluate(engine, gold)`` returns the report as a JSON-ready dict.

Scores: exact match and F1 with the official SQuAD normalisation (:mod:`qa.metrics`, max over the
references), split into questions with and without an answer; no-answer precision and recall; retrieval
recall@k and MRR when gold ``doc_id`` s are given (a hit is a retrieved passage of a gold article);
latency p50/p95 (:func:`qa.stats.percentile`); and the settings and model versions that produced them.
Each question's row is a projection of its answer's record (:func:`qa.textio.answer_record`).
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import qa as package
from qa.batch import ask_batch, progress_bar
from qa.errors import QAError
from qa.evaluation.gold import GoldQuestion
from qa.metrics import normalize_answer, score_one
from qa.stats import percentile
from qa.textio import Warn, answer_record, warn_stderr
from qa.types import Answer

DEFAULT_EVAL_BATCH_SIZE = 16


def score_prediction(prediction: str | None, references: Sequence[str]) -> tuple[float, float]:
    """(EM, F1) in [0, 1] of one prediction against its references, official SQuAD rules.

    Empty ``references`` (or only blank ones) mean "no answer": a prediction scores 1 only when it is
    ``None``/empty too. Otherwise the best score over the references counts.
    """
    return score_one(prediction, list(references))


def is_answerable(references: Sequence[str]) -> bool:
    return any(normalize_answer(r) for r in references)


def _pct(num: float, den: int) -> float | None:
    return round(100.0 * num / den, 2) if den else None


def summarize(rows: Sequence[dict[str, Any]], k: int) -> dict[str, Any]:
    """Aggregate metrics from per-question rows (see :func:`evaluate` for the row fields)."""
    n = len(rows)
    has = [r for r in rows if r["answerable"]]
    nos = [r for r in rows if not r["answerable"]]
    ok = [r for r in rows if r["error"] is None]
    predicted_none = [r for r in ok if r["prediction"] is None]
    true_none = [r for r in ok if not r["answerable"]]
    correct_none = [r for r in predicted_none if not r["answerable"]]
    metrics: dict[str, Any] = {
        "questions": n,
        "exact": _pct(sum(r["em"] for r in rows), n),
        "f1": _pct(sum(r["f1"] for r in rows), n),
        "has_answer": {"questions": len(has), "exact": _pct(sum(r["em"] for r in has), len(has)),
                       "f1": _pct(sum(r["f1"] for r in has), len(has))},
        "no_answer": {"questions": len(nos), "exact": _pct(sum(r["em"] for r in nos), len(nos)),
                      "f1": _pct(sum(r["f1"] for r in nos), len(nos))},
        "predicted_no_answer": len(predicted_none),
        "no_answer_precision": _pct(len(correct_none), len(predicted_none)),
        "no_answer_recall": _pct(len(correct_none), len(true_none)),
        "errors": n - len(ok),
    }
    with_docs = [r for r in rows if r["doc_ids"] and r["answerable"] and r["error"] is None]
    if with_docs:
        ks = sorted({x for x in (1, 3, 5, 10, k) if x <= k})
        metrics["retrieval"] = {
            "questions": len(with_docs),
            "k": k,
            **{f"recall@{x}": _pct(sum(1 for r in with_docs if r["gold_rank"] and r["gold_rank"] <= x), len(with_docs))
               for x in ks},
            "mrr": round(sum(1.0 / r["gold_rank"] for r in with_docs if r["gold_rank"]) / len(with_docs), 4),
        }
    else:
        metrics["retrieval"] = None
    lat = [r["latency_s"] for r in ok]
    metrics["latency_s"] = {
        "p50": _round(percentile(lat, 50)),
        "p95": _round(percentile(lat, 95)),
        "mean": _round(sum(lat) / len(lat)) if lat else None,
    }
    return metrics


def _round(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(x, nd)


def doc_keys(article) -> set[str]:
    """The names a gold ``doc_id`` may use for an article: id, source, record id, file name."""
    keys = {article.id}
    for src in (article.source, *article.duplicates):
        keys.add(src)
        path, _, record = src.partition("#")
        if record:
            keys.add(record)
        else:
            keys.add(Path(path).name)
    return keys


def resolve_doc_ids(articles, doc_ids: Sequence[str]) -> tuple[dict[str, set[str]], list[str]]:
    """``{doc_id: article ids it names}`` and the doc ids that name no indexed article."""
    index: dict[str, set[str]] = {}
    for art in articles:
        for key in doc_keys(art):
            index.setdefault(key, set()).add(art.id)
    resolved = {d: index.get(d, set()) for d in set(doc_ids)}
    return resolved, sorted(d for d, ids in resolved.items() if not ids)


def evaluate(engine, gold: Sequence[GoldQuestion], *, k: int | None = None, batch_size: int = DEFAULT_EVAL_BATCH_SIZE,
             progress: bool = True, warn: Warn | None = warn_stderr) -> dict[str, Any]:
    """Answer every gold question with ``engine`` (a :class:`qa.engine.QA`) and score it; returns the report
    (JSON-ready dict)."""
    if batch_size < 1:
        raise QAError("--batch-size must be at least 1")
    k = k or engine.settings.k
    t0 = time.perf_counter()
    snapshot = engine.snapshot
    resolved, unknown = resolve_doc_ids(snapshot.articles.values(), [d for g in gold for d in g.doc_ids])
    if unknown and warn:
        warn(f"{len(unknown)} gold doc_id(s) name no indexed article (e.g. '{unknown[0]}'); use the article's "
             "source as in the citations (file path, or file.jsonl#record-id) or its article_id")
    rows: list[dict[str, Any]] = []
    bar = progress_bar(len(gold), progress)
    try:
        for b in range(0, len(gold), batch_size):
            chunk = gold[b:b + batch_size]
            for g, (answer, error, latency) in zip(chunk, ask_batch(engine, [g.question for g in chunk], k=k),
                                                   strict=True):
                rows.append(score_row(g, answer, error, latency, resolved))
            bar.update(len(chunk))
    finally:
        bar.close()
    return {
        "gold": None,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.perf_counter() - t0, 2),
        "batch_size": batch_size,
        "latency_note": ("each question answered alone" if batch_size == 1 else
                         f"per-question time amortised over batches of {batch_size}; --batch-size 1 "
                         "measures single questions"),
        "metrics": summarize(rows, k),
        "unknown_doc_ids": unknown,
        "settings": describe_setup(engine, k),
        "questions": rows,
    }


def score_row(g: GoldQuestion, answer: Answer | None, error: str | None, latency: float,
              resolved: dict[str, set[str]]) -> dict[str, Any]:
    """The report row of one gold question: its scores, and a projection of its answer's record."""
    record = answer_record(answer) if answer is not None else None
    prediction = record["answer"] if record is not None else None
    if error is None:
        em, f1 = score_prediction(prediction, g.answers)
    else:
        em = f1 = 0.0
    gold_articles: set[str] = set().union(*(resolved.get(d, set()) for d in g.doc_ids)) if g.doc_ids else set()
    retrieved = []
    gold_rank = None
    for rank, p in enumerate(record["passages"] if record is not None else [], 1):
        retrieved.append({"rank": rank, "article_id": p["article_id"], "source": p["source"], "start": p["start"],
                          "end": p["end"], "score": round(float(p["score"]), 6)})
        if gold_rank is None and p["article_id"] in gold_articles:
            gold_rank = rank
    cit = record["citations"][0] if record is not None and record["citations"] else None
    return {
        "id": g.id,
        "question": g.question,
        "answers": list(g.answers),
        "answerable": is_answerable(g.answers),
        "doc_ids": list(g.doc_ids),
        "prediction": prediction,
        "score": round(float(record["score"]), 6) if record is not None else None,
        "em": em,
        "f1": round(f1, 4),
        "citation": None if cit is None else {key: cit[key] for key in ("article_id", "source", "start", "end")},
        "gold_rank": gold_rank,
        "retrieved": retrieved,
        "latency_s": round(latency, 5),
        "error": error,
    }


def describe_setup(engine, k: int) -> dict[str, Any]:
    """Settings and versions that produced a report, to compare reports fairly."""
    answerer = engine.answerer
    snap = engine.snapshot
    manifest = snap.manifest
    return {
        "package_version": package.__version__,
        "settings": {**engine.settings.to_dict(), "k": k},
        "answerer": answerer.name,
        "answerer_class": f"{type(answerer).__module__}.{type(answerer).__qualname__}",
        "answerer_parameters": answerer.describe(),
        "embedder": engine.embedder.name,
        "index": {
            "embedder": dict(manifest.embedder),
            "splitter": dict(manifest.splitter),
            "generation": snap.generation,
            "articles": manifest.n_articles,
            "chunks": manifest.n_chunks,
            "created": manifest.created,
        },
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
    }


