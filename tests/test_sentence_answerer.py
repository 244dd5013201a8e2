from __future__ import annotations

from qa.answerers.protocol import Answerer
from qa.answerers.sentence import SentenceAnswerer

from .conftest import assert_citations_exact


def test_picks_the_answering_sentence(seed_qa, embedder):
    answerer = SentenceAnswerer(embedder)
    q = "Who slipped out of Venezuela last week?"
    a = answerer.answer(q, seed_qa.search(q))
    assert a.text is not None and a.text.startswith("Guaido slipped out of Venezuela last week")
    assert a.text.endswith("Colombia.")
    assert_citations_exact(a, seed_qa)
    assert a.span_in_context == (0, len(a.text))  # the sentence is its own context, located by offset
    assert isinstance(answerer, Answerer) and answerer.read_depth == 0


def test_unrelated_question_gets_no_answer(seed_qa, embedder):
    answerer = SentenceAnswerer(embedder)
    q = "What is the boiling point of water?"
    a = answerer.answer(q, seed_qa.search(q))
    assert a.text is None and a.citations == () and a.passages
    assert "do not contain" in a.message


def test_threshold_comes_from_calibration_file(embedder):
    import json

    from qa.answerers.calibration import CALIBRATION_FILE

    data = json.loads(CALIBRATION_FILE.read_text())["sentence"]
    assert SentenceAnswerer(embedder).threshold == data["threshold"]
    assert data["n_answerable"] > 100 and data["n_unanswerable"] > 100


def test_answer_many_matches_answer(seed_qa, embedder):
    answerer = SentenceAnswerer(embedder)
    qs = ["Who slipped out of Venezuela last week?", "What is the boiling point of water?",
          "Who is Venezuela's opposition leader?"]
    passages = [seed_qa.search(q) for q in qs]
    many = answerer.answer_many(qs, passages)
    for q, ps, a in zip(qs, passages, many, strict=False):
        single = answerer.answer(q, ps)
        assert a.question == q and a.text == single.text
        assert abs(a.score - single.score) < 1e-4
