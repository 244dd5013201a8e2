"""Measure answer quality on labelled questions: ``qa eval gold.jsonl --articles some/folder``.

    from qa import QA
    from qa.evaluation import load_gold, evaluate, write_report
    gold = load_gold("gold.jsonl").questions
    report = evaluate(QA("my_articles", "my_index"), gold)
    write_report(report, "gold-report")            # gold-report.json and gold-report.md

Gold files:

- JSONL, one object a line: ``question``, ``answers`` (list of accepted answers; an empty list means the
  articles do not answer it), optional ``id`` (default: the line number) and optional ``doc_id`` (the
  article's source path as in ``Citation.source``, e.g. ``news.txt`` or ``feed.jsonl#42``, its record id,
  or its ``article_id``; a list for several).
- The official SQuAD JSON (v1.1 or v2.0). Without ``--articles`` its paragraphs are written as articles
  (``<report>-articles/squad_contexts.jsonl``, one record per paragraph) and indexed.

Report: exact match and F1 with the official SQuAD normalisation (max over the references), split into
questions with and without an answer; no-answer precision and recall; retrieval recall@k and MRR when
gold ``doc_id`` s are given (a hit is a retrieved passage of a gold article); latency p50/p95; and the
settings and model versions. ``qa feedback-to-gold`` turns the chat's thumbs up/down into a gold file.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.batch import Warn, _read_text, _stderr_warning, ask_batch, lines
from qa.errors import QAError
from qa.fileio import atomic_write
from qa.metrics import normalize_answer, score_one
from qa.stats import percentile

SQUAD_ARTICLES_FILE = "squad_contexts.jsonl"
DEFAULT_EVAL_BATCH_SIZE = 16


# ---------------------------------------------------------------------------------------------- metrics


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


# ---------------------------------------------------------------------------------------------- gold files


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    doc_ids: tuple[str, ...] = ()
    line: int = 0


@dataclass
class GoldFile:
    questions: list[GoldQuestion] = field(default_factory=list)
    #: for SQuAD JSON: the paragraphs as article records ``{"id", "title", "text"}``
    articles: list[dict[str, str]] | None = None
    warnings: list[str] = field(default_factory=list)


def load_gold(path: str | Path, warn: Warn | None = _stderr_warning) -> GoldFile:
    """Read a gold file: JSONL (``question``, ``answers``, optional ``id``, ``doc_id``) or SQuAD JSON."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".json"):
        raise QAError(f"'{path.name}' has an unknown suffix; give gold questions as .jsonl "
                      "({\"question\", \"answers\", \"doc_id\"} a line) or the SQuAD .json format")
    text = _read_text(path, "gold file")
    result = GoldFile()

    def note(message: str) -> None:
        result.warnings.append(message)
        if warn is not None:
            warn(message)

    if suffix == ".json":
        _load_squad(path, text, result)
    else:
        _load_gold_jsonl(path, text, result, note)
    seen: dict[str, int] = {}
    unique = []
    for g in result.questions:
        if g.id in seen:
            new = f"{g.id}@line{g.line}"
            note(f"{path.name} line {g.line}: id '{g.id}' already used on line {seen[g.id]}; kept as '{new}'")
            g = GoldQuestion(new, g.question, g.answers, g.doc_ids, g.line)
        seen[g.id] = g.line
        unique.append(g)
    result.questions = unique
    if not result.questions:
        raise QAError(f"'{path}' holds no questions; write one {{\"question\": ..., \"answers\": [...]}} "
                      "object a line, or use the SQuAD JSON format")
    return result


def _answers_of(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        out = []
        for a in value:
            if isinstance(a, dict) and isinstance(a.get("text"), str):
                a = a["text"]
            if not isinstance(a, str):
                raise QAError(f"{where}: each answer must be text, not {type(a).__name__}")
            out.append(a)
        return tuple(out)
    raise QAError(f"{where}: 'answers' must be a list of accepted answers ([] when the articles do not answer)")


def _doc_ids_of(value: Any, where: str) -> tuple[str, ...]:
    if value in (None, "", []):
        return ()
    if isinstance(value, (str, int)):
        return (str(value),)
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return tuple(str(v) for v in value)
    raise QAError(f"{where}: 'doc_id' must be an article's source or id (text), or a list of them")


def _load_gold_jsonl(path: Path, text: str, result: GoldFile, note: Warn) -> None:
    for lineno, line in enumerate(lines(text), 1):
        if not line.strip():
            note(f"{path.name} line {lineno} is blank; skipped")
            continue
        where = f"{path.name} line {lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise QAError(f"{where} is not valid JSON ({e.msg}); write one "
                          "{\"question\": ..., \"answers\": [...]} object a line") from e
        if isinstance(obj, dict) and "data" in obj and lineno == 1:
            raise QAError(f"'{path.name}' looks like SQuAD JSON; name it .json")
        if not isinstance(obj, dict) or not isinstance(obj.get("question"), str):
            raise QAError(f"{where} has no 'question' text; write one "
                          "{\"question\": ..., \"answers\": [...]} object a line")
        if "answers" not in obj or obj["answers"] is None:
            raise QAError(f"{where} has no 'answers'; list the accepted answers, or [] when the articles "
                          "do not answer the question")
        answers = () if obj.get("is_impossible") is True else _answers_of(obj["answers"], where)
        rid = obj.get("id")
        result.questions.append(GoldQuestion(
            str(rid) if rid not in (None, "") else str(lineno), obj["question"], answers,
            _doc_ids_of(obj.get("doc_id"), where), lineno))


def _load_squad(path: Path, text: str, result: GoldFile) -> None:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise QAError(f"'{path.name}' is not valid JSON ({e.msg} at line {e.lineno}); for one question a "
                      "line name the file .jsonl") from e
    if not isinstance(obj, dict) or not isinstance(obj.get("data"), list):
        raise QAError(f"'{path.name}' is not in the SQuAD format ({{\"data\": [{{\"title\", \"paragraphs\": "
                      "[{\"context\", \"qas\"}]}]}); for one question a line use .jsonl")
    articles: list[dict[str, str]] = []
    used: set[str] = set()
    n = 0
    for ai, art in enumerate(obj["data"]):
        if not isinstance(art, dict) or not isinstance(art.get("paragraphs"), list):
            raise QAError(f"'{path.name}': data[{ai}] has no 'paragraphs' list (SQuAD format)")
        title = str(art.get("title") or f"article {ai + 1}")
        slug = "_".join(title.split()) or f"article{ai + 1}"
        for pi, par in enumerate(art["paragraphs"]):
            where = f"'{path.name}': data[{ai}].paragraphs[{pi}]"
            if not isinstance(par, dict) or not isinstance(par.get("context"), str) or not isinstance(par.get("qas"), list):
                raise QAError(f"{where} needs 'context' text and a 'qas' list (SQuAD format)")
            doc_id = f"{slug}-p{pi}"
            while doc_id in used:
                doc_id += "x"
            used.add(doc_id)
            articles.append({"id": doc_id, "title": title.replace("_", " "), "text": par["context"]})
            for qi, qa in enumerate(par["qas"]):
                qwhere = f"{where}.qas[{qi}]"
                if not isinstance(qa, dict) or not isinstance(qa.get("question"), str):
                    raise QAError(f"{qwhere} has no 'question' text")
                n += 1
                answers = () if qa.get("is_impossible") else _answers_of(qa.get("answers", []), qwhere)
                qid = qa.get("id")
                result.questions.append(GoldQuestion(
                    str(qid) if qid not in (None, "") else str(n), qa["question"], answers, (doc_id,), n))
    result.articles = articles


def write_squad_articles(articles: Sequence[dict[str, str]], folder: str | Path) -> Path:
    """Write SQuAD paragraphs as one JSONL article file in ``folder`` (left untouched when unchanged)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SQUAD_ARTICLES_FILE
    data = "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles).encode("utf-8")
    if not (path.is_file() and path.read_bytes() == data):
        atomic_write(path, data)
    return folder


# ---------------------------------------------------------------------------------------------- evaluating


def doc_keys(article) -> set[str]:
    """The names a gold ``doc_id`` may use for an article: id, source, record id, file name."""
    keys = {article.id}
    for src in (article.source, *getattr(article, "duplicates", ())):
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


def evaluate(qa, gold: Sequence[GoldQuestion], *, k: int | None = None, batch_size: int = DEFAULT_EVAL_BATCH_SIZE,
             progress: bool = True, warn: Warn | None = _stderr_warning) -> dict[str, Any]:
    """Answer every gold question with ``qa`` and score it; returns the report (JSON-ready dict)."""
    from qa.batch import _progress

    if batch_size < 1:
        raise QAError("--batch-size must be at least 1")
    k = k or qa.settings.k
    t0 = time.perf_counter()
    snapshot = qa.snapshot
    resolved, unknown = resolve_doc_ids(snapshot.articles.values(), [d for g in gold for d in g.doc_ids])
    if unknown and warn:
        warn(f"{len(unknown)} gold doc_id(s) name no indexed article (e.g. '{unknown[0]}'); use the article's "
             "source as in the citations (file path, or file.jsonl#record-id) or its article_id")
    rows: list[dict[str, Any]] = []
    bar = _progress(len(gold), progress)
    try:
        for b in range(0, len(gold), batch_size):
            chunk = gold[b:b + batch_size]
            for g, (answer, error, latency) in zip(chunk, ask_batch(qa, [g.question for g in chunk], k=k)):
                rows.append(_score_row(g, answer, error, latency, resolved))
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
        "settings": describe_setup(qa, k),
        "questions": rows,
    }


def _score_row(g: GoldQuestion, answer, error: str | None, latency: float,
               resolved: dict[str, set[str]]) -> dict[str, Any]:
    prediction = answer.text if answer is not None else None
    if error is None:
        em, f1 = score_prediction(prediction, g.answers)
    else:
        em = f1 = 0.0
    gold_articles: set[str] = set().union(*(resolved.get(d, set()) for d in g.doc_ids)) if g.doc_ids else set()
    retrieved = []
    gold_rank = None
    for rank, p in enumerate(answer.passages if answer is not None else [], 1):
        retrieved.append({"rank": rank, "article_id": p.article_id, "source": p.source, "start": p.start,
                          "end": p.end, "score": round(float(p.score), 6)})
        if gold_rank is None and p.article_id in gold_articles:
            gold_rank = rank
    cit = answer.citations[0] if answer is not None and answer.citations else None
    return {
        "id": g.id,
        "question": g.question,
        "answers": list(g.answers),
        "answerable": is_answerable(g.answers),
        "doc_ids": list(g.doc_ids),
        "prediction": prediction,
        "score": round(float(answer.score), 6) if answer is not None else None,
        "em": em,
        "f1": round(f1, 4),
        "citation": None if cit is None else {"article_id": cit.article_id, "source": cit.source,
                                              "start": cit.start, "end": cit.end},
        "gold_rank": gold_rank,
        "retrieved": retrieved,
        "latency_s": round(latency, 5),
        "error": error,
    }


def describe_setup(qa, k: int) -> dict[str, Any]:
    """Settings and versions that produced a report, to compare reports fairly."""
    import qa as package

    answerer = qa.answerer
    snap = qa.snapshot
    manifest = snap.manifest
    config = getattr(answerer, "config", None)
    details = {name: getattr(answerer, name) for name in
               ("null_threshold", "threshold", "rank_weight", "max_seq_len", "stride", "max_answer_tokens")
               if isinstance(getattr(answerer, name, None), (int, float))}
    return {
        "package_version": getattr(package, "__version__", None),
        "settings": {**qa.settings.to_dict(), "k": k},
        "answerer": getattr(answerer, "name", type(answerer).__name__),
        "answerer_class": f"{type(answerer).__module__}.{type(answerer).__qualname__}",
        "answerer_parameters": details,
        "answerer_config": config if isinstance(config, dict) else None,
        "embedder": getattr(qa.embedder, "name", type(qa.embedder).__name__),
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


# ---------------------------------------------------------------------------------------------- reports


def _fmt(x: Any, unit: str = "") -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:.2f}{unit}"
    return f"{x}{unit}"


def _cell(text: Any, limit: int = 80) -> str:
    s = " ".join(str(text).split()) if text is not None else "—"
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return s.replace("|", "\\|") or "—"


def summary_table(report: dict[str, Any]) -> list[str]:
    m = report["metrics"]
    has, nos = m["has_answer"], m["no_answer"]
    table = [
        "| metric | value |",
        "|---|---|",
        f"| questions | {m['questions']} ({has['questions']} with an answer, {nos['questions']} without) |",
        f"| exact match | {_fmt(m['exact'], ' %')} |",
        f"| F1 | {_fmt(m['f1'], ' %')} |",
        f"| exact match / F1, questions with an answer | {_fmt(has['exact'], ' %')} / {_fmt(has['f1'], ' %')} |",
        f"| exact match, questions without an answer | {_fmt(nos['exact'], ' %')} |",
        f"| no-answer precision | {_fmt(m['no_answer_precision'], ' %')} "
        f"({m['predicted_no_answer']} predicted no-answer) |",
        f"| no-answer recall | {_fmt(m['no_answer_recall'], ' %')} |",
    ]
    r = m.get("retrieval")
    if r:
        recalls = ", ".join(f"@{key.split('@')[1]} {_fmt(v, ' %')}" for key, v in r.items() if key.startswith("recall@"))
        table.append(f"| retrieval recall ({r['questions']} questions with doc_id) | {recalls} |")
        table.append(f"| retrieval MRR@{r['k']} | {r['mrr']:.3f} |")
    else:
        table.append("| retrieval recall / MRR | n/a (no doc_id in the gold file) |")
    lat = m["latency_s"]
    table.append(f"| latency p50 / p95 | {_fmt(_ms(lat['p50']))} / {_fmt(_ms(lat['p95']))} ms "
                 f"({report.get('latency_note', '')}) |")
    table.append(f"| failed questions | {m['errors']} |")
    return table


def _ms(x: float | None) -> float | None:
    return None if x is None else x * 1000.0


def to_markdown(report: dict[str, Any], max_misses: int = 20) -> str:
    s = report["settings"]
    idx = s["index"]
    out = [
        f"# Evaluation of `{report.get('gold') or 'gold questions'}`",
        "",
        f"{report['created']}, {report['metrics']['questions']} questions, {report['seconds']:.1f} s. "
        f"Articles: `{s['settings']['articles_dir']}` ({idx.get('articles')} articles, {idx.get('chunks')} chunks).",
        "",
        *summary_table(report),
        "",
        "## Setup",
        "",
        "| setting | value |",
        "|---|---|",
        f"| answerer | {s['answerer']} (`{s['answerer_class']}`) {_cell(json.dumps(s['answerer_parameters']), 200)} |",
        f"| embedder | {s['embedder']} (index: {_cell(json.dumps(idx.get('embedder')), 200)}) |",
        f"| splitter | {_cell(json.dumps(idx.get('splitter')), 200)} |",
        f"| passages retrieved (k) | {s['settings']['k']} |",
        f"| other settings | {_cell(', '.join(f'{key}={value}' for key, value in s['settings'].items() if key not in ('articles_dir', 'index_dir', 'k')), 400)} |",
        f"| package version | {s['package_version']} |",
        f"| machine | {s['machine']}, Python {s['python']} |",
    ]
    if report.get("unknown_doc_ids"):
        ids = ", ".join(f"`{d}`" for d in report["unknown_doc_ids"][:5])
        out += ["", f"Gold doc_ids that name no indexed article: {len(report['unknown_doc_ids'])} ({ids}…)."]
    misses = [r for r in report["questions"] if r["em"] < 1.0]
    out += ["", f"## Misses ({len(misses)} questions not matched exactly; first {min(max_misses, len(misses))})", ""]
    if misses:
        out += ["| id | question | gold | predicted | F1 | gold rank | error |", "|---|---|---|---|---|---|---|"]
        for r in misses[:max_misses]:
            gold = " / ".join(r["answers"][:3]) if r["answers"] else "(no answer)"
            pred = r["prediction"] if r["prediction"] is not None else "(no answer)"
            out.append(f"| {_cell(r['id'], 30)} | {_cell(r['question'])} | {_cell(gold, 60)} | {_cell(pred, 60)} | "
                       f"{r['f1']:.2f} | {_cell(r['gold_rank'])} | {_cell(r['error'], 60)} |")
    out.append("")
    return "\n".join(out)


def report_base(gold: Path, report: Path | None) -> Path:
    if report is None:
        return gold.with_name(f"{gold.stem}-report")
    return report.with_suffix("") if report.suffix.lower() in (".json", ".md") else report


def write_report(report: dict[str, Any], base: str | Path) -> tuple[Path, Path]:
    """Write ``<base>.json`` (everything, per question) and ``<base>.md`` (a readable summary)."""
    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    json_path = base.with_name(base.name + ".json")
    md_path = base.with_name(base.name + ".md")
    atomic_write(json_path, (json.dumps(report, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    atomic_write(md_path, to_markdown(report).encode("utf-8"))
    return json_path, md_path


def run_eval_command(args) -> int:
    """``qa eval GOLD``: check the gold file, index the articles, answer, score, write the report."""
    from qa.config import Settings
    from qa.engine import QA

    if args.k is not None and args.k < 1:
        raise QAError("-k must be at least 1")
    batch_size = getattr(args, "batch_size", DEFAULT_EVAL_BATCH_SIZE)
    if batch_size < 1:
        raise QAError("--batch-size must be at least 1")
    base = report_base(args.gold, args.report)
    gold = load_gold(args.gold)
    articles, index = args.articles, args.index
    if gold.articles is not None and articles is None:
        articles = write_squad_articles(gold.articles, base.with_name(base.name + "-articles"))
        if index is None:
            index = base.with_name(base.name + "-index")
        if not args.quiet:
            print(f"Wrote the {len(gold.articles)} SQuAD paragraphs as articles to '{articles}'.", file=sys.stderr)
    qa = QA(articles, index, settings=Settings())
    qa.refresh(progress=False if args.quiet else None)
    report = evaluate(qa, gold.questions, k=args.k, batch_size=batch_size, progress=not args.quiet)
    report["gold"] = str(args.gold)
    json_path, md_path = write_report(report, base)
    print("\n".join(summary_table(report)))
    print(f"\nReport: '{json_path}' (per question) and '{md_path}'.")
    return 0


# ---------------------------------------------------------------------------------------------- feedback


@dataclass
class FeedbackSummary:
    answered: int = 0
    unanswerable: int = 0
    down: int = 0
    duplicates: int = 0
    bad: int = 0
    review: int = 0

    def line(self) -> str:
        return (f"{self.answered + self.unanswerable} gold questions ({self.answered} with an answer, "
                f"{self.unanswerable} without); skipped {self.down} thumbs-down (right answer unknown"
                f"{f', {self.review} written for review' if self.review else ''}), {self.duplicates} repeated "
                f"questions (the latest verdict kept), {self.bad} unreadable lines")


def feedback_to_gold(feedback: str | Path, output: str | Path, review: str | Path | None = None,
                     warn: Warn | None = _stderr_warning) -> FeedbackSummary:
    """Turn chat feedback (JSONL of thumbs up/down) into a gold JSONL file for ``qa eval``.

    Thumbs up with an answer -> ``answers: [answer]`` and ``doc_id`` = the first citation's source;
    thumbs up without an answer -> an unanswerable question (``answers: []``); thumbs down -> skipped
    (the right answer is unknown), or written to ``review`` with ``answers: null`` and the
    ``rejected_answer`` for a person to label. The question is the one the chat understood (standalone,
    follow-ups resolved). A question asked again keeps its latest verdict; a verdict "none" (a thumb
    clicked again in the chat) takes the question's earlier verdict back.
    """
    feedback, output = Path(feedback), Path(output)
    if output.suffix.lower() != ".jsonl":
        raise QAError(f"write the gold file as .jsonl, not '{output.name}'")
    if output.resolve() == feedback.resolve():
        raise QAError("the gold file would overwrite the feedback file; choose another output name")
    text = _read_text(feedback, "feedback file")
    summary = FeedbackSummary()
    latest: dict[str, tuple[int, dict[str, Any]]] = {}
    warn = warn or (lambda m: None)
    for lineno, line in enumerate(lines(text), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            summary.bad += 1
            warn(f"{feedback.name} line {lineno} is not valid JSON ({e.msg}); skipped")
            continue
        question = (obj.get("understood_question") or obj.get("question") or "") if isinstance(obj, dict) else ""
        verdict = obj.get("verdict") if isinstance(obj, dict) else None
        if not isinstance(question, str) or not question.strip() or verdict not in ("up", "down", "none"):
            summary.bad += 1
            warn(f"{feedback.name} line {lineno} needs a 'question' and a verdict 'up', 'down' or 'none'; skipped")
            continue
        key = normalize_answer(question) or question.strip().lower()
        if verdict == "none":  # the chat's thumb clicked again: the verdict given before is taken back
            latest.pop(key, None)
            continue
        if key in latest:
            summary.duplicates += 1
        latest[key] = (lineno, obj)
    if not latest and not summary.bad:
        raise QAError(f"'{feedback}' holds no feedback; rate some answers in the chat first")
    gold_rows, review_rows = [], []
    for lineno, obj in sorted(latest.values(), key=lambda t: t[0]):
        question = " ".join(str(obj.get("understood_question") or obj.get("question")).split())
        answer = obj.get("answer")
        answer = answer if isinstance(answer, str) and answer.strip() else None
        citations = obj.get("citations") if isinstance(obj.get("citations"), list) else []
        source = citations[0].get("source") if citations and isinstance(citations[0], dict) else None
        row: dict[str, Any] = {"id": f"feedback-{lineno}", "question": question}
        if obj.get("question") and obj.get("question") != question:
            row["asked"] = obj["question"]
        if obj.get("time"):
            row["time"] = obj["time"]
        if obj["verdict"] == "down":
            summary.down += 1
            if review is not None:
                review_rows.append({**row, "answers": None, "rejected_answer": answer,
                                    **({"doc_id": source} if source else {})})
            continue
        if answer is None:
            summary.unanswerable += 1
            gold_rows.append({**row, "answers": []})
        else:
            summary.answered += 1
            gold_rows.append({**row, "answers": [answer], **({"doc_id": source} if source else {})})
    atomic_write(output, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in gold_rows).encode("utf-8"))
    if review is not None:
        summary.review = len(review_rows)
        atomic_write(Path(review),
                      "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in review_rows).encode("utf-8"))
    return summary


def run_feedback_command(args) -> int:
    """``qa feedback-to-gold FEEDBACK.jsonl -o gold.jsonl``."""
    summary = feedback_to_gold(args.feedback, args.output, review=getattr(args, "review", None))
    print(f"Wrote '{args.output}': {summary.line()}.")
    return 0
