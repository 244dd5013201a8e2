"""Shared helpers of the benchmarks: corpora from ../shared/data (read in place, never copied)."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

from qa.reader.augment import NEWS_FILES, news_path
from qa.stats import percentile  # noqa: F401  (the one definition; benches import it from here)

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("QA_DATA_DIR", REPO.parent / "shared" / "data"))
CACHE = REPO / "bench" / ".cache"
RESULTS = REPO / "bench" / "RESULTS.md"


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def today() -> str:
    return time.strftime("%Y-%m-%d")


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def squad_bbc_corpus(version: str = "squad11") -> Path:
    """A folder with the SQuAD articles (one JSONL) and a link to the BBC corpus as distractors."""
    folder = CACHE / f"corpus-{version}-bbc"
    folder.mkdir(parents=True, exist_ok=True)
    squad = folder / "squad.jsonl"
    if not squad.exists():
        docs = read_jsonl(DATA / "squad" / version / "docs.jsonl")
        tmp = squad.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps({"id": d["id"], "title": d["title"], "text": d["text"]}) + "\n" for d in docs))
        tmp.replace(squad)
    link = folder / "bbc.jsonl"
    if not link.exists():
        link.symlink_to(DATA / "news" / "bbc.jsonl")
    return folder


def median(xs) -> float:
    return statistics.median(xs) if xs else float("nan")


def with_and_without_own_article(qa, questions: list[dict], k: int) -> list[tuple[list, list]]:
    """For SQuAD questions over :func:`squad_bbc_corpus`: the top-``k`` passages with every article
    indexed (answerable), and with the question's own article taken out (as if it were not in the
    folder: unanswerable)."""
    by_source = {a.source: a.id for a in qa.snapshot.articles.values()}
    found = qa.retriever.search_many([q["question"] for q in questions], k=qa.settings.candidates)
    out = []
    for q, ps in zip(questions, found):
        gold = by_source[f"squad.jsonl#{q['doc_id']}"]
        out.append((ps[:k], [p for p in ps if p.article_id != gold][:k]))
    return out


def news_corpus(*names: str) -> Path:
    """A folder linking the named news corpora (``bbc``, ``reuters``; default both: ~21k articles,
    ~35k chunks at the default chunk size). Build its index with
    ``qa index --articles <folder> --index bench/.cache/index-news-<names>``."""
    names = names or tuple(NEWS_FILES)
    folder = CACHE / f"corpus-news-{'-'.join(names)}"
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = news_path(name)
        link = folder / target.name
        if not link.exists():
            link.symlink_to(target)
    return folder


def write_section(marker: str, section: str) -> None:
    """Put ``section`` between ``<!-- marker -->`` and ``<!-- /marker -->`` in bench/RESULTS.md,
    replacing what was there, or append it as a new marked section."""
    begin, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    block = f"{begin}\n{section}\n{end}"
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(text)
