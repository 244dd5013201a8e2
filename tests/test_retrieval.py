from __future__ import annotations

import pytest

from qa import QA, Settings

from .conftest import write_articles

ARTICLES = {
    "port.txt": "Storm closes port\n\nA storm closed the port of Rotterdam for two days, stranding 40 ships.",
    "vaccine.txt": "Vaccine trial\n\nThe malaria vaccine trial enrolled 4,000 children in Kenya and Ghana.",
    "code.txt": "Software release\n\nVersion XQ-7731 of the accounting software ships on Tuesday.",
    "football.txt": "Cup final\n\nThe home team won the cup final 3-1 after extra time in front of 60,000 fans.",
}


@pytest.fixture(scope="module")
def small_qa(tmp_path_factory, embedder):
    base = tmp_path_factory.mktemp("retr")
    write_articles(base / "a", ARTICLES)
    qa = QA(base / "a", base / "v", settings=Settings(chunk_size=300, chunk_overlap=50), embedder=embedder)
    qa.refresh()
    return qa


def test_dense_search_finds_paraphrases(small_qa):
    passages = small_qa.search("Which harbour was shut by bad weather?", k=2)
    assert passages[0].source == "port.txt"
    assert passages[0].dense_score is not None and passages[0].dense_score > 0.2


def test_lexical_search_finds_rare_codes(small_qa):
    passages = small_qa.search("XQ-7731", k=1)
    assert passages[0].source == "code.txt" and passages[0].lexical_score > 0


def test_passages_are_ranked_with_offsets_and_k(small_qa):
    passages = small_qa.search("How many children joined the malaria trial?", k=3)
    assert len(passages) == 3
    assert [p.rank for p in passages] == [0, 1, 2]
    assert passages[0].score >= passages[1].score >= passages[2].score
    arts = small_qa.snapshot.articles
    for p in passages:
        assert arts[p.article_id].text[p.start:p.end] == p.text and p.title == arts[p.article_id].title
    assert len(small_qa.search("storm", k=10)) == 4  # k larger than the corpus: all chunks


def test_batched_search_matches_single(small_qa):
    qs = ["Who won the cup final?", "Which port closed?"]
    many = small_qa.retriever.search_many(qs, 3)
    for q, ps in zip(qs, many):
        assert [p.chunk_id for p in ps] == [p.chunk_id for p in small_qa.search(q, k=3)]
