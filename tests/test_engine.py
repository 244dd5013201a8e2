from __future__ import annotations

import json
import threading

import pytest

from qa import QA, Settings
from qa.errors import ArticlesNotFoundError, InvalidQuestionError, QAError

from .conftest import assert_citations_exact, write_articles


def test_answers_the_seed_question_with_exact_citation(seed_qa):
    a = seed_qa.ask("Who slipped out of Venezuela last week?")
    assert a.text is not None and "Guaido" in a.text
    assert_citations_exact(a, seed_qa)
    c = a.citations[0]
    assert c.title == "Russia Vows to Continue Supporting Maduro in Venezuela"
    assert c.source.endswith(".txt") and len(c.article_id) == 16
    d = a.to_dict()
    assert json.loads(json.dumps(d))["citations"][0]["start"] == c.start


def test_unanswerable_question_says_so_and_lists_passages(seed_qa):
    a = seed_qa.ask("What is the boiling point of water?")
    assert a.text is None and a.citations == ()
    assert "do not contain" in a.message
    assert a.passages and all(p.text for p in a.passages)
    assert_citations_exact(a, seed_qa)


def test_k_controls_the_number_of_passages(seed_qa):
    assert len(seed_qa.ask("Who is Maduro?", k=2).passages) == 2


def test_an_answer_s_passages_keep_what_retrieval_found_and_carry_the_rerank_score(seed_qa):
    q = "Who slipped out of Venezuela last week?"
    retrieved = {(p.article_id, p.start): p for p in seed_qa.search(q, k=seed_qa.answerer.read_depth)}
    a = seed_qa.ask(q, k=3)
    assert len(a.passages) == 3
    for p in a.passages:  # score and rank keep one meaning: the retriever's
        r = retrieved[(p.article_id, p.start)]
        assert (p.score, p.rank, p.dense_score) == (r.score, r.rank, r.dense_score)
    rerank = [p.rerank_score for p in a.passages]
    assert None not in rerank and rerank == sorted(rerank, reverse=True)
    c = a.citations[0]
    assert c.passage_dense_score == retrieved[(c.article_id, c.passage_start)].dense_score


def test_reader_reads_deeper_than_k_and_keeps_the_cited_passage(seed_qa):
    assert seed_qa.answerer.read_depth > 1
    a = seed_qa.ask("Who slipped out of Venezuela last week?", k=1)
    assert a.text is not None and "Guaido" in a.text
    assert len(a.passages) == 1  # the reader read more, re-ranked them, and the answer keeps k
    c = a.citations[0]
    assert (a.passages[0].article_id, a.passages[0].start) == (c.article_id, c.passage_start)
    assert_citations_exact(a, seed_qa)


def test_the_seed_rows_of_the_trust_issue_get_a_typed_answer_an_evidence_sentence_or_no_confident_one(seed_qa):
    """Regression cases from the issue "Trustworthy answers" (the rules behind them are general and measured
    on held-out questions in bench/RESULTS.md)."""
    envoy = seed_qa.ask("Who is the USA envoy to Venezuela?")
    assert envoy.text == "Elliot Abrams"  # not "Venezuela Elliot Abrams"
    maduro = seed_qa.ask("Who is Maduro?")  # not the bare title "President"
    assert maduro.kind == "evidence" and "Maduro" in (maduro.text or "") and maduro.label == "From the article"
    # the article never names the opposition leader: refused, the sentence, or a Low "possible answer"
    leader = seed_qa.ask("Who is Venezuela's opposition leader?")
    assert leader.text is None or leader.kind == "evidence" or leader.label == "Possible answer"
    for a in (envoy, maduro, leader):
        assert_citations_exact(a, seed_qa)


def test_ask_many_keeps_order_and_matches_ask(seed_qa):
    qs = ["Who slipped out of Venezuela last week?", "What is the boiling point of water?",
          "Who is Venezuela's opposition leader?"]
    many = seed_qa.ask_many(qs)
    assert [a.question for a in many] == qs
    for q, a in zip(qs, many, strict=False):
        single = seed_qa.ask(q)
        assert a.text == single.text
        assert_citations_exact(a, seed_qa)


@pytest.mark.parametrize("bad", ["", "   \n\t ", "x" * 2001])
def test_bad_questions_are_clear_errors(seed_qa, bad):
    with pytest.raises(InvalidQuestionError):
        seed_qa.ask(bad)


def test_missing_or_empty_folder(tmp_path, embedder):
    with pytest.raises(ArticlesNotFoundError, match="does not exist"):
        QA(tmp_path / "nope", tmp_path / "v", embedder=embedder).ask("Who?")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.csv").write_text("a,b")
    with pytest.raises(ArticlesNotFoundError, match="no readable articles"):
        QA(tmp_path / "empty", tmp_path / "v", embedder=embedder).ask("Who?")


def test_edits_in_the_folder_are_noticed_by_ask(tmp_path, embedder):
    folder = write_articles(tmp_path / "a", {
        "mayor.txt": "City election\n\nVoters in Springfield elected Ana Ruiz as mayor on Sunday.",
    })
    qa = QA(folder, tmp_path / "v", settings=Settings(refresh_interval=0), embedder=embedder)
    assert "Ruiz" in (qa.ask("Who was elected mayor of Springfield?").text or "")
    (folder / "mayor.txt").write_text("City election\n\nVoters in Springfield elected Tom Baker as mayor on Sunday.")
    a = qa.ask("Who was elected mayor of Springfield?")
    assert "Baker" in (a.text or "") and "Ruiz" not in (a.text or "")
    assert qa.last_report is not None and len(qa.last_report.updated) == 1
    assert_citations_exact(a, qa)


def test_add_and_remove(tmp_path, embedder):
    folder = write_articles(tmp_path / "a", {"mayor.txt": "City election\n\nVoters elected Ana Ruiz as mayor."})
    qa = QA(folder, tmp_path / "v", settings=Settings(refresh_interval=3600), embedder=embedder)
    qa.refresh()
    new = write_articles(
        tmp_path / "incoming",
        {"mayor.txt": "Harbour fire\n\nA fire destroyed three warehouses in the harbour of Brest."},
    )
    report = qa.add([new / "mayor.txt"])
    assert report is not None and len(report.added) == 1
    assert sorted(p.name for p in folder.iterdir()) == ["mayor-1.txt", "mayor.txt"]  # nothing overwritten
    a = qa.ask("What did the fire destroy in Brest?")
    assert "warehouses" in (a.text or "")
    assert_citations_exact(a, qa)
    with pytest.raises(QAError, match="not an article file"):
        qa.add([tmp_path / "x.exe"])
    report = qa.remove(["mayor-1.txt"])
    assert len(report.removed) == 1
    assert (folder / ".removed" / "mayor-1.txt").exists()  # moved aside, not deleted
    assert all("Brest" not in p.text for p in qa.search("fire in Brest", k=5))


def test_concurrent_questions_while_articles_are_added(tmp_path, embedder):
    folder = write_articles(
        tmp_path / "a", {"mayor.txt": "City election\n\nVoters elected Ana Ruiz as mayor of Springfield."}
    )
    qa = QA(folder, tmp_path / "v", settings=Settings(refresh_interval=0), embedder=embedder)
    qa.refresh()
    errors, answers = [], []

    def worker():
        try:
            for _ in range(3):
                answers.append(qa.ask("Who is the mayor of Springfield?"))
        except Exception as e:  # noqa: BLE001 - the test reports any failure
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(3):
        (folder / f"extra{i}.txt").write_text(f"Report {i}\n\nThe river level rose by {i + 2} metres overnight.")
        qa.refresh()
    for t in threads:
        t.join()
    assert errors == []
    mayor = (folder / "mayor.txt").read_text()
    for a in answers:  # the mayor's article never changed, so every answer names her, from it, exactly
        assert "Ana Ruiz" in (a.text or ""), a.text
        (c,) = [c for c in a.citations if c.source == "mayor.txt"]
        assert mayor[c.start:c.end] == a.text
        # answered from a whole index even while it was being updated: every passage and citation is
        # exactly where it says in an indexed article
        assert_citations_exact(a, qa)
    assert len(qa.snapshot.articles) == 4
