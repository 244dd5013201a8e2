"""Question typing and span typing (qa/answerers/answer_types.py): pure functions, no model."""

from __future__ import annotations

import pytest

from qa.answerers.answer_types import (
    Agreement,
    Expects,
    agreement,
    is_bare_title,
    question_type,
    repeats_question,
)
from qa.types import EVIDENCE, SPAN, confidence_level


@pytest.mark.parametrize("question, expects", [
    ("How long is the bridge over the river?", Expects.QUANTITY),
    ("How far is the airport from the city?", Expects.QUANTITY),
    ("How old was the singer when she died?", Expects.QUANTITY),
    ("How many countries signed the treaty?", Expects.NUMBER),
    ("How much did the stadium cost?", Expects.NUMBER),
    ("What percentage of voters backed the plan?", Expects.NUMBER),
    ("When did the strike end?", Expects.DATE),
    ("In what year was the company founded?", Expects.DATE),
    ("Who chairs the committee?", Expects.PERSON),
    ("The report was written by whom?", Expects.PERSON),
    ("Where did the talks take place?", Expects.PLACE),
    ("The delegates travelled to which city?", Expects.PLACE),
    ("What did the minister announce?", Expects.ANY),
])
def test_question_types(question, expects):
    qt = question_type(question)
    assert qt.kind == SPAN and qt.expects is expects


@pytest.mark.parametrize("question", [
    "Why did the talks collapse?",
    "For what reason was the match cancelled?",
    "How did the company recover?",
    "How does the new tax work?",
    "Is the bridge open to traffic?",
    "Did the minister resign?",
    "Summarise the article.",
    "What happened at the summit?",
    "Who is Ana Duarte?",
    "What was Interpol?",
])
def test_questions_no_span_can_answer(question):
    assert question_type(question).kind == EVIDENCE


def test_a_choice_between_alternatives_is_answered_by_a_span():
    assert question_type("Was the vote held in March or in April?").kind == SPAN
    assert not repeats_question("in April", "Was the vote held in March or in April?")


@pytest.mark.parametrize("question, span, expected", [
    ("How long is the bridge?", "480 metres", Agreement.MATCH),
    ("How long is the bridge?", "3 March 2024", Agreement.MISMATCH),
    ("How long did the strike last?", "three weeks", Agreement.MATCH),
    ("How long has the law been in force?", "since the 1960s", Agreement.UNKNOWN),
    ("How many countries signed?", "about fifty", Agreement.MATCH),
    ("How many countries signed?", "2,300", Agreement.MATCH),
    ("How many countries signed?", "the European Union", Agreement.MISMATCH),
    ("How much did it cost?", "$5 million", Agreement.MATCH),
    ("When did the strike end?", "on 3 March 2024", Agreement.MATCH),
    ("When did the strike end?", "in the 18th century", Agreement.MATCH),
    ("When did the strike end?", "480 metres", Agreement.MISMATCH),
    ("What year was it built?", "the old town", Agreement.MISMATCH),
    ("Who chairs the committee?", "Maria Lopez", Agreement.MATCH),
    ("Who chairs the committee?", "President", Agreement.MISMATCH),
    ("Who chairs the committee?", "the prime minister", Agreement.MISMATCH),
    ("Who chairs the committee?", "farmers", Agreement.UNKNOWN),
    ("Who chairs the committee?", "1998", Agreement.MISMATCH),
    ("Where did the talks take place?", "Geneva", Agreement.MATCH),
    ("Where did the talks take place?", "in the capital", Agreement.MATCH),
    ("Where did the talks take place?", "last week", Agreement.MISMATCH),
    ("What did the minister announce?", "a new tax", Agreement.UNKNOWN),
    # a price measures no size or time, unless the question is about money
    ("How big is the new reservoir?", "$40m", Agreement.MISMATCH),
    ("How long is the tunnel?", "£25,000", Agreement.MISMATCH),
    ("How big was the takeover?", "$47bn", Agreement.MATCH),
    ("How high did the oil price climb?", "$50 a barrel", Agreement.MATCH),
    ("How long is the contract?", "five years", Agreement.MATCH),
    ("How long is the tunnel?", "$2m over 3 km", Agreement.MATCH),
    # a bare age or count is no date
    ("On what date did the singer die?", "87", Agreement.MISMATCH),
    ("When did the singer die?", "aged 87", Agreement.MISMATCH),
    ("When did the singer die?", "1987", Agreement.MATCH),
    # a calendar question ("what date / day / month") wants the calendar; "when" may be an event
    ("On what date did the singer die?", "Leeds aged 87", Agreement.MISMATCH),
    ("What day does the market open?", "the town square", Agreement.MISMATCH),
    ("What day does the market open?", "Boxing Day", Agreement.UNKNOWN),
    ("On what date was the treaty signed?", "the 14th", Agreement.UNKNOWN),
    ("What month did the shop open?", "the following spring", Agreement.MATCH),
    ("When did the shop open?", "after the war", Agreement.UNKNOWN),
])
def test_span_agreement(question, span, expected):
    assert agreement(question_type(question), span, question) is expected


def test_asking_for_a_name_is_not_asking_for_a_description():
    assert question_type("Who is the trade delegate to Portugal?").expects is Expects.PERSON
    assert question_type("Who is Ana Duarte's deputy?").kind == SPAN


def test_a_span_that_restates_the_question_never_agrees():
    q = "Who chaired the meeting with Ana Duarte?"
    assert repeats_question("Duarte", q) and repeats_question("Ana Duarte", q)
    assert agreement(question_type(q), "Ana Duarte", q) is Agreement.MISMATCH
    assert agreement(question_type(q), "Rui Costa", q) is Agreement.MATCH
    assert not repeats_question("Rui Costa", q)


def test_mentions_a_name_whole_by_its_last_word_or_by_its_owner():
    from qa.answerers.answer_types import mentions

    assert mentions("Nicolas Maduro", "President Maduro spoke on Friday.")
    assert not mentions("Ian Harris", "Ian Brown was arrested after the concert.")
    assert not mentions("Ian Harris", "Harrison said nothing.")  # whole words only
    assert mentions("Guy's Rival", "They backed Guy against his rival.")


def test_bare_titles():
    for title in ("President", "the Prime Minister", "Interim President", "foreign minister", "spokesman"):
        assert is_bare_title(title), title
    for name in ("President Ana Duarte", "the president of the council of Porto", "Elliot Abrams"):
        assert not is_bare_title(name), name


def test_confidence_levels():
    assert confidence_level(0.95) == "High"
    assert confidence_level(0.6) == "Medium"
    assert confidence_level(0.2) == "Low"
    assert [confidence_level(x) for x in (0.0, 0.5, 0.8, 1.0)] == ["Low", "Medium", "High", "High"]


@pytest.mark.parametrize(("name", "sentence", "says_who"), [
    ("Ana Duarte", "Trade delegate Ana Duarte flew to Lisbon.", True),
    ("Duarte", "President Ana Duarte flew to Lisbon.", True),  # the rest of the name is skipped
    ("Ana Duarte", "Ana Duarte, the head of the trade mission, flew to Lisbon.", True),
    ("Kestrel Group", "The Kestrel Group is a shipping firm based in Porto.", True),
    ("Ana Duarte", "Ana Duarte said the talks would go on.", False),
    ("Ana Duarte", "Critics want to remove Ana Duarte from the mission.", False),
    ("Ana Duarte", "Mr Silva met Ms Ana Duarte in Lisbon.", False),  # an honorific says nothing
    ("Kestrel Group", "Shares in the Kestrel Group fell.", False),
])
def test_describes_needs_a_title_an_apposition_or_a_copula(name, sentence, says_who):
    from qa.answerers.answer_types import describes

    assert describes(name, sentence) is says_who
