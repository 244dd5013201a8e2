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
    from qa.embedders import get_embedder

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
    """The citation invariant: the article text at the cited offsets is exactly what the citation quotes, and
    that is the answer for the article it was copied from (another article may word it differently)."""
    articles = qa.snapshot.articles
    if answer.citations:
        assert answer.citations[0].text == answer.text
    for c in [*answer.citations, *(c for alt in answer.alternatives for c in alt.citations)]:
        art = articles[c.article_id]
        assert art.text[c.start:c.end] == c.text, (c, answer.text)
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


def dated_qa(base: Path, articles: dict[str, tuple[str, str, str]], embedder):
    """The engine over ``articles`` (file name -> (title, date, text), written as JSON records with their
    date), indexed under ``base``."""
    import json

    from qa import QA

    write_articles(base / "articles", {name: json.dumps({"title": title, "date": day, "text": text})
                                       for name, (title, day, text) in articles.items()})
    qa = QA(base / "articles", base / "index", embedder=embedder)
    qa.refresh()
    return qa


# ----------------------------------------------------------------------------- what was skipped, said at the end
SKIP_GROUPS = (  # (group, where its tests live, how to run them)
    ("browser tests", "tests/ui/test_browser.py",
     "install Debian's chromium (sudo apt-get install -y chromium), then: make test"),
    ("Ray tests", "tests/distributed/", "pip install -e '.[ray]' (make install does), then: make test"),
)


def pytest_terminal_summary(terminalreporter) -> None:
    """Name each group of skipped tests and how to run it, so a green run never hides what it left out."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    counts: dict[str, int] = {}
    for report in skipped:
        path = report.nodeid.split("::")[0] if report.nodeid else str(report.location[0])
        group = next((g for g, where, _ in SKIP_GROUPS if path.startswith(where)), "other tests")
        counts[group] = counts.get(group, 0) + 1
    terminalreporter.section("skipped groups")
    for group, _where, how in SKIP_GROUPS:
        if group in counts:
            terminalreporter.write_line(f"{counts[group]} {group} skipped: to run them, {how}")
    if "other tests" in counts:
        terminalreporter.write_line(f"{counts['other tests']} other tests skipped (pytest -rs lists why)")
