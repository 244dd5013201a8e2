"""qa.conversation: follow-ups rewritten into standalone questions; standalone ones untouched."""

from __future__ import annotations

import pytest

from qa.conversation import Conversation, Turn, find_entities, rewrite
from qa.types import Answer


def turn(question: str, answer: str | None, context: str | None = None) -> Turn:
    return Turn(question, question, Answer(question, answer, 0.9 if answer else 0.1, context=context))


WHO = turn("Who is Venezuela's opposition leader?",
           "About fifty countries have recognized Guaido as Venezuela's legitimate leader.")
WHERE = turn("Where did Guaido go last week?",
             "Guaido slipped out of Venezuela last week, in violation of a Supreme Court order not to leave "
             "the country, to join the aid convoys in Colombia.")
SPAN = turn("Who won the election in 2018?", "Jair Bolsonaro",
            context="The far-right candidate Jair Bolsonaro won the election in 2018.")
WHAT = turn("What did the Acme Corporation announce?", "It announced a new plant in Ohio.")


@pytest.mark.parametrize("question, expected", [
    ("Where did he go last week?", "Where did Guaido go last week?"),
    ("What did his backers do?", "What did Guaido's backers do?"),
    ("Who supports her?", "Who supports Guaido?"),
    ("What did she say about her family?", "What did Guaido say about Guaido's family?"),
    ("What did Russia say about him?", "What did Russia say about Guaido?"),
    ("Is he in Colombia?", "Is Guaido in Colombia?"),
])
def test_pronouns_after_a_who_question_take_the_name_from_the_answer(question, expected):
    assert rewrite(question, WHO)[0] == expected


def test_short_span_answers_are_the_name():
    assert rewrite("When was he born?", SPAN) == ("When was Jair Bolsonaro born?", "Jair Bolsonaro")
    assert rewrite("How old is she?", SPAN)[0] == "How old is Jair Bolsonaro?"


def test_after_other_questions_the_question_subject_is_kept():
    assert rewrite("What did he say on Thursday?", WHERE)[0] == "What did Guaido say on Thursday?"
    assert rewrite("What else did it announce?", WHAT)[0] == "What else did Acme Corporation announce?"


def test_there_is_a_place():
    assert rewrite("What happened there?", WHERE)[0] == "What happened in Colombia?"
    assert rewrite("Why did he go there?", WHERE)[0] == "Why did Guaido go to Colombia?"
    assert rewrite("Who lives there?", WHAT)[0] == "Who lives in Ohio?"


def test_elliptical_follow_ups_reuse_the_previous_question():
    assert rewrite("and in 2019?", SPAN)[0] == "Who won the election in 2019?"
    assert rewrite("And 2022?", SPAN)[0] == "Who won the election in 2022?"
    assert rewrite("Why?", WHERE)[0] == "Why did Guaido go last week?"
    assert rewrite("What about Maduro?", WHERE)[0] == "Where did Maduro go last week?"
    assert rewrite("And on Monday?", WHERE)[0] == "Where did Guaido go last week on Monday?"


@pytest.mark.parametrize("question", [
    "Who is Maduro?",
    "Is there a humanitarian crisis in Venezuela?",
    "Did Guaido say his family was threatened?",
    "What sanctions did the United States impose on Friday?",
    "Is it true that Russia vetoed the resolution?",
])
def test_standalone_questions_pass_through_unchanged(question):
    assert rewrite(question, WHO) == (question, None)


def test_without_history_nothing_changes():
    assert rewrite("Where did he go?", None) == ("Where did he go?", None)
    conv = Conversation(None)
    assert conv.understand("And in 2019?") == ("And in 2019?", None)
    with pytest.raises(ValueError):
        conv.ask("Who?")


def test_no_name_to_use_leaves_the_question_alone():
    nothing = turn("How bad is the crisis?", None)
    assert rewrite("Where did he go?", nothing) == ("Where did he go?", None)


def test_find_entities_skips_sentence_starters_and_titles():
    names = [e.text for e in find_entities(
        "Under Maduro's leadership, the economy of Venezuela has spiraled. Vice-President Mike Pence led talks. "
        "The United States imposed sanctions Friday.")]
    assert names == ["Maduro", "Venezuela", "Mike Pence", "United States"]
    pence = find_entities("Vice-President Mike Pence led talks.")[0]
    assert pence.person and pence.titled
    assert find_entities("They met in Bogota.")[0].place


def test_conversation_answers_a_follow_up_about_the_previous_answer(seed_qa):
    chat = Conversation(seed_qa)
    first = chat.ask("Who slipped out of Venezuela last week?")
    assert first.found and "Guaido" in first.text
    assert chat.last.understood_question == "Who slipped out of Venezuela last week?" and not chat.last.rewritten
    second = chat.ask("Where did he go last week?")
    assert chat.last.understood_question == "Where did Guaido go last week?" and chat.last.rewritten
    assert second.question == "Where did Guaido go last week?"
    evidence = " ".join(c.passage for c in second.citations) or " ".join(p.text for p in second.passages[:2])
    assert "slipped out of Venezuela" in evidence and "Colombia" in evidence
    assert [t.question for t in chat.turns] == ["Who slipped out of Venezuela last week?", "Where did he go last week?"]
    chat.reset()
    assert chat.last is None


@pytest.mark.parametrize("question", ["Tell me about Guaido", "Thanks!", "ok", "the economy?"])
def test_requests_and_chatter_are_not_taken_for_fragments(question):
    assert rewrite(question, WHERE) == (question, None)


def test_other_fragments_keep_the_previous_topic():
    assert rewrite("In 2019?", WHERE)[0] == "Where did Guaido go last week in 2019?"
    assert rewrite("And the economy?", WHERE)[0] == "What about the economy, regarding Guaido?"
