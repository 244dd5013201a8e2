from __future__ import annotations

import math
from dataclasses import replace

import pytest

from qa.answerers.gate import FEATURES, GatedAnswerer, NoAnswerGate, features, question_overlap
from qa.answerers.protocol import Answerer, cite
from qa.types import Answer, Passage
from training.calibration import fit_gate

from .conftest import assert_citations_exact


def _answer(score: float, dense: float, lexical: float | None) -> Answer:
    p = Passage(chunk_id=1, article_id="a", title="T", source="s.txt", start=10, end=40, text="x" * 30,
                score=1.0, rank=0, dense_score=dense, lexical_score=lexical)
    return Answer(question="q", text="xxx", score=score, citations=[cite(p, 2, 5, score)], passages=[p])


def test_features_come_from_the_cited_passage():
    f = features(_answer(0.5, 0.6, math.e - 1))
    assert f[:3] == [0.0, 0.6, 0.0] and len(f) == len(FEATURES)
    # the cosine is the cited passage's, carried by the citation, not looked up among the passages
    assert features(replace(_answer(0.5, 0.6, None), passages=()))[1] == 0.6


def test_an_evidence_sentence_is_a_feature():
    a = _answer(0.5, 0.6, None)
    assert features(a)[3] == 0.0
    assert features(replace(a, kind="evidence"))[3] == 1.0


def test_the_reader_s_raw_span_score_is_a_feature():
    a = _answer(0.5, 0.6, None)
    assert features(a)[4] == 0.0  # a citation without one
    scored = replace(a, citations=(replace(a.citations[0], span_score=7.5),))
    assert features(scored)[4] == 7.5
    # a higher raw score at the same margin-based confidence: the gate's weight on it decides
    gate = NoAnswerGate([0.0, 0.0, 0.0, 0.0, 1.0], -5.0, 0.5)
    assert gate.probability(scored) > 0.9 > 0.1 > gate.probability(a)


def test_a_gate_with_fewer_weights_uses_the_first_features():
    old = NoAnswerGate([1.0, 5.0, 0.0], -3.0, 0.5)
    new = NoAnswerGate([1.0, 5.0, 0.0, -10.0], -3.0, 0.5)
    a = replace(_answer(0.9, 0.9, 1.0), kind="evidence")
    assert old.probability(a) > 0.5 > new.probability(a)


def test_question_overlap_counts_stemmed_content_words_of_the_answer_sentence():
    a = replace(_answer(0.5, 0.6, None), question="Which countries recognized Guaido as leader?",
                context="About fifty countries have recognised Guaido as Venezuela's legitimate leader.")
    # content terms of the question: which, countri, recogn, guaido, leader ("as" is a stop word);
    # the sentence holds countri, guaido, leader ("recognised" stems to "recognis", not "recogn")
    assert features(a)[2] == pytest.approx(3 / 5)
    # no sentence: the cited passage stands in
    assert features(replace(a, context=None))[2] == 0.0
    assert question_overlap("the of and", "anything") == 0.0


def test_fit_gate_separates_and_gate_refuses_below_threshold():
    xs = [[2.0, 0.7, 0.5]] * 20 + [[-2.0, 0.1, 0.5]] * 20
    w, b = fit_gate(xs, [1] * 20 + [0] * 20)
    gate = NoAnswerGate(w, b, 0.5)
    assert gate.probability(_answer(0.9, 0.7, 6.0)) > 0.9
    assert gate.probability(_answer(0.1, 0.1, 0.2)) < 0.1


class _AlwaysAnswers:
    name = "fixed"
    read_depth = 0

    def __init__(self, answer):
        self.fixed = answer

    def answer(self, question, passages):
        return self.fixed

    def answer_many(self, questions, passages_per_question):
        return [self.fixed for _ in questions]

    def describe(self):
        return {"fixed": True}


def test_gated_answerer_refuses_or_rescores():
    gate = NoAnswerGate([1.0, 5.0, 0.0], -3.0, 0.5)
    weak = GatedAnswerer(_AlwaysAnswers(_answer(0.5, 0.1, 1.0)), gate).answer("q", [])
    assert weak.text is None and weak.score < 0.5 and weak.citations == ()
    proposed = _answer(0.9, 0.9, 1.0)
    gated = GatedAnswerer(_AlwaysAnswers(proposed), gate)
    assert isinstance(gated, Answerer) and gated.read_depth == 0 and gated.name == "fixed+gate"
    # a report names what decides the answers: the wrapped answerer's settings and the gate's
    assert gated.describe() == {"fixed": True, "gate": {"weights": list(gate.weights), "bias": gate.bias,
                                                        "threshold": gate.threshold}}
    strong = gated.answer("q", [])
    assert strong.text == "xxx" and strong.score == strong.citations[0].score > 0.5
    assert proposed.score == 0.9 and proposed.citations[0].score == 0.9  # a new answer; the reader's is untouched
    assert gated.answer_many(["q", "q"], [[], []]) == [strong, strong]
    assert strong.to_dict()["confidence_level"] in ("High", "Medium") and strong.to_dict()["kind"] == "span"
    assert weak.to_dict()["confidence_level"] is None


def test_gated_answerer_keeps_an_evidence_answer_s_kind():
    evidence = replace(_answer(0.9, 0.9, 1.0), kind="evidence")
    a = GatedAnswerer(_AlwaysAnswers(evidence), NoAnswerGate([1.0, 5.0, 0.0], -3.0, 0.5)).answer("q", [])
    assert a.kind == "evidence" and a.text == "xxx"


def test_shipped_gate_on_the_seed_article(seed_qa):
    gate = NoAnswerGate.load()
    assert gate is not None and 0 < gate.threshold < 1 and len(gate.weights) == len(FEATURES)
    assert isinstance(seed_qa.answerer, GatedAnswerer)
    a = seed_qa.ask("Who slipped out of Venezuela last week?")
    assert a.text and "Guaido" in a.text and len(a.text) < 40
    assert_citations_exact(a, seed_qa)
    assert seed_qa.ask("What is the boiling point of water?").text is None



@pytest.mark.parametrize(("context", "capped"), [
    ("Talks went on in Lisbon, where Ana Duarte arrived on Monday with two aides.", True),
    ("The trade delegate Ana Duarte arrived in Lisbon on Monday.", False),
    ("Ana Duarte, the head of the trade mission, arrived in Lisbon on Monday.", False),
])
def test_who_is_name_gets_low_confidence_when_the_sentence_does_not_say_who(context, capped):
    from qa.answerers.gate import UNDESCRIBED_CAP
    from qa.types import MEDIUM, confidence_level

    evidence = replace(_answer(0.99, 0.9, 1.0), kind="evidence", context=context)
    gate = NoAnswerGate([1.0, 5.0, 0.0, 0.0], 0.0, 0.1)
    shown = GatedAnswerer(_AlwaysAnswers(replace(evidence, question="Who is Ana Duarte?")), gate).answer("", [])
    assert shown.text is not None
    if capped:
        assert shown.score == UNDESCRIBED_CAP and confidence_level(shown.score) == "Low"
    else:
        assert shown.score > MEDIUM
    # the rule is about "Who is <name>?" only: another evidence question keeps the gate's confidence
    why = replace(evidence, question="Why did Ana Duarte go to Lisbon?")
    assert GatedAnswerer(_AlwaysAnswers(why), gate).answer("", []).score > MEDIUM
