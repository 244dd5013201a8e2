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


def test_search_reports_stage_timings_and_restores_faiss_threads(small_qa):
    import faiss

    before = faiss.omp_get_max_threads()
    import time

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    passages = small_qa.retriever.search_many(["Which port closed?"], 2, timings=timings)[0]
    wall = time.perf_counter() - t0
    assert passages[0].source == "port.txt"
    assert set(timings) == {"embed_s", "dense_s", "lexical_s", "fuse_s"}
    # each stage was timed (a stage that never ran would leave 0.0), and the stages add up to no more
    # than the whole call
    assert all(v > 0 for v in timings.values()), timings
    assert sum(timings.values()) <= wall
    assert faiss.omp_get_max_threads() == before


def test_faiss_threads_context_restores_the_count():
    import faiss

    from qa.runtime.threads import faiss_threads

    before = faiss.omp_get_max_threads()
    with faiss_threads(1):
        assert faiss.omp_get_max_threads() == 1
    assert faiss.omp_get_max_threads() == before


def test_lexical_search_matches_bm25s_own_retrieval(seed_text):
    """Our top-k over bm25s's scores gives exactly bm25s's own rows and scores (ties: lower row first),
    also with duplicated texts (tied scores) and more matches than k."""
    from qa.lexical import LexicalIndex

    base = [p for p in seed_text.split("\n") if p.strip()] + list(ARTICLES.values())
    texts = base + base[::2]  # duplicates: tied scores
    lex = LexicalIndex(texts, k1=0.9, b=0.4)
    queries = ["Who slipped out of Venezuela?", "Russia Maduro support", "storm port Rotterdam", "XQ-7731",
               "zzzqqq", "the of a", "Venezuela Venezuela"]
    for k in (1, 3, 5, len(texts)):
        got = lex.search(queries, k=k)
        ids = lex._tokenizer.tokenize(queries, update_vocab=False, return_as="ids", show_progress=False)
        rows, scores = lex._bm25.retrieve(ids, k=k, show_progress=False, n_threads=0)
        want = [sorted(((int(i), float(v)) for i, v in zip(r, s) if v > 0), key=lambda t: (-t[1], t[0]))
                for r, s in zip(rows, scores)]
        for g, w in zip(got, want):  # the same scores at each rank; the same rows up to the order of ties
            assert [v for _, v in g] == [v for _, v in w]
            top = {v for _, v in w}
            assert {(i, v) for i, v in g if v != min(top)} == {(i, v) for i, v in w if v != min(top)}
            assert g == sorted(g, key=lambda t: (-t[1], t[0]))
    assert got[3] and texts[got[3][0][0]].startswith("Software release")
    assert got[4] == [] and got[5] == []
    tied = lex.search([base[0]], k=2)[0]  # base[0] and its copy at len(base) score the same
    assert [r for r, _ in tied] == [0, len(base)] and tied[0][1] == tied[1][1]


def test_bm25_from_term_ids_equals_bm25s_index_bit_for_bit(seed_text):
    """The store builds BM25 from saved term ids with score_arrays; it must be bm25s's own index."""
    import bm25s
    import numpy as np

    from qa.lexical import LexicalIndex, score_arrays, tokenize

    base = [p for p in seed_text.split("\n") if p.strip()] + list(ARTICLES.values())
    for texts in (base, base + ["", "the of a", base[0]]):  # with and without texts that have no terms
        terms = tokenize(texts)
        for k1, b in ((0.9, 0.4), (1.2, 0.75)):
            ref = bm25s.BM25(k1=k1, b=b)
            ref.index(terms.docs, show_progress=False)
            ours = score_arrays(terms.docs, k1, b)
            for name in ("data", "indices", "indptr"):
                assert ours[name].dtype == ref.scores[name].dtype
                assert np.array_equal(ours[name], ref.scores[name])
            queries = ["Who slipped out of Venezuela?", "XQ-7731", "zzzqqq", "the of a"]
            built = LexicalIndex(texts, k1, b)
            assert LexicalIndex.from_terms(terms, k1, b).search(queries, 5) == built.search(queries, 5)
