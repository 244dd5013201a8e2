"""Fixtures shared by the tests: the real embedder (loaded once), article folders, a built index."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
SEED_FILE = next(SEEDS.glob("*.txt"))


@pytest.fixture(scope="session")
def embedder():
    from qa.embedding import get_embedder

    return get_embedder()


@pytest.fixture(scope="session")
def seed_text() -> str:
    return SEED_FILE.read_text(encoding="utf-8")


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture(scope="session")
def seed_qa(tmp_path_factory, embedder):
    """A QA over a private copy of seeds/ with the default answerer, indexed once for the session."""
    from qa import QA

    base = tmp_path_factory.mktemp("seedqa")
    shutil.copytree(SEEDS, base / "articles")
    qa = QA(base / "articles", base / "index", embedder=embedder)
    qa.refresh()
    return qa


def assert_citations_exact(answer, qa) -> None:
    """The citation invariant: the article text at the cited offsets is exactly the answer."""
    articles = qa.snapshot.articles
    for c in answer.citations:
        art = articles[c.article_id]
        assert art.text[c.start:c.end] == answer.text, (c, answer.text)
        assert art.text[c.passage_start:c.passage_end] == c.passage
        assert c.passage_start <= c.start < c.end <= c.passage_end
        assert c.title == art.title and c.source == art.source
    for p in answer.passages:
        assert articles[p.article_id].text[p.start:p.end] == p.text
    if answer.text is not None:
        assert answer.citations, "an answer without a citation"
        assert 0.0 <= answer.score <= 1.0


def write_articles(folder: Path, articles: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in articles.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
