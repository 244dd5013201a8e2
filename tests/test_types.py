"""The records between the stages (qa/types.py): frozen, and an answer's one JSON form read back whole."""

from __future__ import annotations

import dataclasses
import json

import pytest

from qa.answerers.protocol import cite, no_answer
from qa.types import EVIDENCE, Answer, Passage, confidence_level

TEXT = "Storm Hits Coast\n\nOfficials said 300 homes lost power and 300 homes were flooded on Monday."


def _passage(**kw) -> Passage:
    fields = dict(chunk_id=3, article_id="a1", title="Storm Hits Coast", source="storm.txt", start=0, end=len(TEXT),
                  text=TEXT, score=0.7, rank=2, dense_score=0.61, lexical_score=None, rerank_score=4.25)
    return Passage(**{**fields, **kw})


def _answer() -> Answer:
    p, other = _passage(), _passage(chunk_id=4, article_id="a2", source="other.txt", rank=0, rerank_score=None)
    s = TEXT.index("300 homes were")
    context = TEXT[TEXT.index("Officials"):]
    return Answer(question="How many homes were flooded?", text="300 homes", score=0.83,
                  citations=[cite(p, s, s + 9, 0.83, span_score=9.25)], passages=[p, other], context=context,
                  context_offset=TEXT.index(context), message="Found in 1 article.",
                  timings={"retrieve_s": 0.01, "read_s": 0.2}, kind="span")


def test_an_answer_survives_its_json_form_whole():
    a = _answer()
    d = json.loads(json.dumps(a.to_dict()))
    assert d["context_offset"] == a.context_offset and d["confidence_level"] == "High" and d["found"] is True
    assert d["passages"][0]["rerank_score"] == 4.25 and d["citations"][0]["passage_dense_score"] == 0.61
    assert d["citations"][0]["span_score"] == 9.25
    assert Answer.from_dict(d) == a
    evidence = dataclasses.replace(a, kind=EVIDENCE, score=0.55)
    assert Answer.from_dict(evidence.to_dict()) == evidence
    refused = no_answer("What is the boiling point of water?", [_passage()], 0.12)
    assert refused.to_dict()["confidence_level"] is None
    assert Answer.from_dict(json.loads(json.dumps(refused.to_dict()))) == refused


def test_records_are_frozen_and_answers_hold_tuples():
    a = _answer()
    assert isinstance(a.citations, tuple) and isinstance(a.passages, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.score = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.passages[0].score = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.citations[0].start = 1  # type: ignore[misc]


def test_the_answer_is_found_in_its_context_by_offsets():
    a = _answer()
    start, end = a.span_in_context
    assert a.context[start:end] == "300 homes"
    assert a.context[:start].count("300 homes") == 1  # the second occurrence, where the citation points
    assert dataclasses.replace(a, context_offset=None).span_in_context is None
    assert dataclasses.replace(a, context_offset=a.context_offset + 1).span_in_context is None  # not the answer


@pytest.mark.parametrize("score, level", [(0.95, "High"), (0.8, "High"), (0.6, "Medium"), (0.5, "Medium"),
                                          (0.2, "Low")])
def test_confidence_levels(score, level):
    assert confidence_level(score) == level
