"""SQuAD data access and the fixed train/validation split for the span reader.

The data lives outside the repository (CC BY-SA 4.0, never copied in): ``<repo>/../shared/data/squad``
by default, overridable with the ``QA_SQUAD_DIR`` environment variable or an explicit argument.
Layout: ``squad11/`` and ``squad20/``, each with ``docs.jsonl`` (``{"id","title","text"}``, one line per
article) and ``qa.jsonl`` (one line per question, offsets into the article text).

Split rule (by article, so validation articles are never trained on): an article's *name* is its doc id
without the ``squadXX-dev:`` prefix (the same article appears in both versions); the validation
articles are the 8 names with the smallest ``sha1("article-qa-split:" + name)`` among the 40 SQuAD v1.1
articles. The result is frozen in :data:`VALIDATION_ARTICLES` (a test checks the rule reproduces it).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SPLIT_SALT = "article-qa-split:"
N_VALIDATION = 8

#: Article names held out for validation (all 8 are in both SQuAD v1.1 and v2.0).
VALIDATION_ARTICLES: tuple[str, ...] = (
    "Prime_number",
    "Immune_system",
    "Computational_complexity_theory",
    "Sky_(United_Kingdom)",
    "Scottish_Parliament",
    "Victoria_(Australia)",
    "Economic_inequality",
    "Normans",
)

VERSIONS = ("squad11", "squad20")


def squad_dir(path: str | os.PathLike | None = None) -> Path:
    """The SQuAD data folder: ``path``, else ``$QA_SQUAD_DIR``, else ``<repo>/../shared/data/squad``."""
    if path:
        return Path(path)
    env = os.environ.get("QA_SQUAD_DIR")
    if env:
        return Path(env)
    return (REPO_ROOT / ".." / "shared" / "data" / "squad").resolve()


def article_name(doc_id: str) -> str:
    """``"squad20-dev:Normans"`` -> ``"Normans"`` (also strips a ``#p3`` paragraph suffix)."""
    name = doc_id.split(":", 1)[1] if ":" in doc_id else doc_id
    return name.split("#", 1)[0]


def split_hash(name: str) -> str:
    return hashlib.sha1((SPLIT_SALT + name).encode("utf-8")).hexdigest()


def compute_validation_articles(names: Iterable[str], n: int = N_VALIDATION) -> tuple[str, ...]:
    """The split rule: the ``n`` names with the smallest salted sha1."""
    return tuple(sorted(set(names), key=split_hash)[:n])


def split_of(doc_id: str) -> str:
    """``"validation"`` or ``"train"`` for an article (doc id or bare name)."""
    return "validation" if article_name(doc_id) in VALIDATION_ARTICLES else "train"


def is_validation(doc_id: str) -> bool:
    return split_of(doc_id) == "validation"


@dataclass(frozen=True)
class QAExample:
    """One question over its gold paragraph; ``answers`` hold (text, start) with starts local to ``context``."""

    id: str
    question: str
    context: str
    answers: tuple[tuple[str, int], ...]
    is_impossible: bool
    doc_id: str
    title: str
    paragraph_start: int
    version: str
    answer_texts: tuple[str, ...] = field(default=())

    @property
    def article(self) -> str:
        return article_name(self.doc_id)


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_docs(version: str, path: str | os.PathLike | None = None) -> dict[str, dict]:
    """Articles of one version, by doc id."""
    return {d["id"]: d for d in _read_jsonl(squad_dir(path) / version / "docs.jsonl")}


def load_examples(
    version: str, split: str | None = None, path: str | os.PathLike | None = None
) -> list[QAExample]:
    """Questions of ``version`` (``"squad11"`` or ``"squad20"``) over their gold paragraph.

    ``split``: ``"train"``, ``"validation"`` or ``None`` (all).
    """
    if version not in VERSIONS:
        raise ValueError(f"unknown version {version!r}; expected one of {VERSIONS}")
    root = squad_dir(path)
    docs = load_docs(version, root)
    out: list[QAExample] = []
    for q in _read_jsonl(root / version / "qa.jsonl"):
        if split is not None and split_of(q["doc_id"]) != split:
            continue
        doc = docs[q["doc_id"]]
        ps, pe = q["paragraph_span"]
        context = doc["text"][ps:pe]
        answers = []
        for text, start in zip(q["answers"], q["answer_starts"]):
            local = start - ps
            if 0 <= local and local + len(text) <= len(context) and context[local : local + len(text)] == text:
                answers.append((text, local))
        out.append(
            QAExample(
                id=q["id"],
                question=q["question"],
                context=context,
                answers=tuple(answers),
                is_impossible=bool(q.get("is_impossible")) or not q["answers"],
                doc_id=q["doc_id"],
                title=doc.get("title", ""),
                paragraph_start=ps,
                version=version,
                answer_texts=tuple(q["answers"]),
            )
        )
    return out


def validation_doc_ids(version: str | None = None, path: str | os.PathLike | None = None) -> list[str]:
    """Doc ids of the validation articles (for ``version``, or both versions when ``None``).

    Without the data on disk, the ids are built from the names (``"<version>-dev:<name>"``).
    """
    versions = VERSIONS if version is None else (version,)
    ids: list[str] = []
    for v in versions:
        try:
            docs = load_docs(v, path)
            ids.extend(d for d in docs if is_validation(d))
        except FileNotFoundError:
            ids.extend(f"{v}-dev:{n}" for n in VALIDATION_ARTICLES)
    return sorted(ids)


def training_examples(path: str | os.PathLike | None = None, versions: Iterable[str] = VERSIONS) -> list[QAExample]:
    """Training questions from the given versions, de-duplicated by question id (SQuAD 2.0 repeats the
    answerable v1.1 questions with the same id; the first version listed wins)."""
    seen: set[str] = set()
    out: list[QAExample] = []
    for v in versions:
        for ex in load_examples(v, "train", path):
            if ex.id in seen:
                continue
            if not ex.is_impossible and not ex.answers:
                continue
            seen.add(ex.id)
            out.append(ex)
    return out
