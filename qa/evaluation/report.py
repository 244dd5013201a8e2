"""The ``qa eval`` report: ``<base>.json`` (everything, per question) and ``<base>.md`` (a summary table,
the setup, and the first misses), and the summary table the command prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qa.fileio import atomic_write


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
        recalls = ", ".join(f"@{key.split('@')[1]} {_fmt(v, ' %')}" for key, v in r.items()
                            if key.startswith("recall@"))
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
    other = ", ".join(f"{key}={value}" for key, value in s["settings"].items()
                      if key not in ("articles_dir", "index_dir", "k"))
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
        f"| other settings | {_cell(other, 400)} |",
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


