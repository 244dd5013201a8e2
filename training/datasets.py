"""The data training, calibration and benchmarks read, and the fixed train/validation split: defined once.

The data lives outside the repository (SQuAD is CC BY-SA 4.0; nothing is copied in): under
:data:`DATA_ROOT` (``$QA_DATA_DIR``, default ``<repo>/../shared/data``), read in place.

- ``squad/`` (:func:`squad_dir`; ``$QA_SQUAD_DIR`` overrides it): ``squad11/`` and ``squad20/``, each with
  ``docs.jsonl`` (``{"id","title","text"}``, one line per article) and ``qa.jsonl`` (one line per
  question, offsets into the article text);
- ``news/`` (:func:`news_path`): the Reuters-21578 corpus (reader augmentation) and the BBC corpus
  (distractors of the benchmarks, held-out news check of the reader).

Corpora built from them (:func:`squad_bbc_corpus`, :func:`news_corpus`), their indexes and cached reader
outputs go to :data:`CACHE`, shared by the benchmarks and the calibrations.

Split rule (by article, so validation articles are never trained or calibrated on): an article's *name*
is its doc id without the ``squadXX-dev:`` prefix (the same article appears in both versions); the
validation articles are the 8 names with the smallest ``sha1("article-qa-split:" + name)`` among the 40
SQuAD v1.1 articles. The result is frozen in :data:`VALIDATION_ARTICLES` (a test checks the rule
reproduces it).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.config import REPO_ROOT, default_embedder, split_embedder

#: Where the data sets are: ``$QA_DATA_DIR``, default ``<repo>/../shared/data``.
DATA_ROOT = Path(os.environ.get("QA_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))
#: Corpora, indexes and cached reads built from the data (where the benchmarks always kept them).
CACHE = REPO_ROOT / "bench" / ".cache"
#: The news corpora under ``DATA_ROOT/news``, by short name.
NEWS_FILES = {"bbc": "bbc.jsonl", "reuters": "reuters21578.jsonl"}

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
    """The SQuAD data folder: ``path``, else ``$QA_SQUAD_DIR``, else ``DATA_ROOT/squad``."""
    if path:
        return Path(path)
    env = os.environ.get("QA_SQUAD_DIR")
    if env:
        return Path(env)
    return (DATA_ROOT / "squad").resolve()


def news_path(name: str) -> Path:
    """``reuters`` / ``bbc`` -> the JSONL of that news corpus under ``DATA_ROOT/news``."""
    if name not in NEWS_FILES:
        raise ValueError(f"unknown news corpus {name!r}; expected one of {sorted(NEWS_FILES)}")
    return DATA_ROOT / "news" / NEWS_FILES[name]


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


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


def load_docs(version: str, path: str | os.PathLike | None = None) -> dict[str, dict]:
    """Articles of one version, by doc id."""
    return {d["id"]: d for d in read_jsonl(squad_dir(path) / version / "docs.jsonl")}


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
    for q in read_jsonl(root / version / "qa.jsonl"):
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


def squad_bbc_index(chunk_size: int = 1000, chunk_overlap: int = 200, embedder: str | None = None) -> Path:
    """The cached index of :func:`squad_bbc_corpus` for a chunking and an embedder (default: the
    settings'): PyTorch and ``+onnx`` share float32 vectors and one index, ``+onnx-int8`` has its own, so
    that benchmarks of different embedders never rebuild each other's index."""
    _, backend = split_embedder(embedder or default_embedder())
    return CACHE / f"index-squad-bbc-{chunk_size}-{chunk_overlap}{'-onnx-int8' if backend == 'onnx-int8' else ''}"


def squad_bbc_corpus(version: str = "squad11") -> Path:
    """A folder with the SQuAD articles (one JSONL) and a link to the BBC corpus as distractors: the
    corpus of the retrieval and end-to-end benchmarks and of the no-answer calibrations."""
    folder = CACHE / f"corpus-{version}-bbc"
    folder.mkdir(parents=True, exist_ok=True)
    squad = folder / "squad.jsonl"
    if not squad.exists():
        docs = read_jsonl(squad_dir() / version / "docs.jsonl")
        tmp = squad.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps({"id": d["id"], "title": d["title"], "text": d["text"]}) + "\n"
                               for d in docs))
        tmp.replace(squad)
    link = folder / "bbc.jsonl"
    if not link.exists():
        link.symlink_to(news_path("bbc"))
    return folder


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


def with_and_without_own_article(qa: Any, questions: list[dict], k: int) -> list[tuple[list, list]]:
    """For SQuAD questions over :func:`squad_bbc_corpus`: the top-``k`` passages with every article
    indexed (answerable), and with the question's own article taken out (as if it were not in the
    folder: unanswerable). ``qa`` is a :class:`qa.engine.QA` over that corpus."""
    by_source = {a.source: a.id for a in qa.snapshot.articles.values()}
    found = qa.retriever.search_many([q["question"] for q in questions], k=qa.settings.candidates)
    out = []
    for q, ps in zip(questions, found):
        gold = by_source[f"squad.jsonl#{q['doc_id']}"]
        out.append((ps[:k], [p for p in ps if p.article_id != gold][:k]))
    return out
