"""qa.suggestions: questions generated from the indexed articles."""

from __future__ import annotations

from qa.articles import make_article
from qa.suggestions import suggest_questions, title_question


def test_seed_suggestions_come_from_the_headline_and_names(seed_qa):
    qs = suggest_questions(seed_qa.articles(), n=6)
    assert qs[0] == "Who vows to continue supporting Maduro in Venezuela?"
    assert "Who is Juan Guaido?" in qs and "Who is Nicolas Maduro?" in qs
    assert "What happened in Venezuela?" in qs
    assert len(qs) == len(set(qs)) <= 6


def test_checked_suggestions_are_answerable(seed_qa):
    qs = suggest_questions(seed_qa.articles(), n=4, qa=seed_qa)
    assert qs, "no answerable suggestion for the seed article"
    assert all(a.found for a in seed_qa.ask_many(qs))


def test_other_articles_get_their_own_suggestions():
    text = ("Acme Opens Plant in Ohio\n\nThe Acme Corporation opened a plant in Toledo on Monday. "
            "Chief executive Dana Wu said the plant would hire 400 people. Dana Wu added that Toledo was chosen "
            "for its rail links. Workers in Toledo welcomed the news.")
    art = make_article("acme.txt", "Acme Opens Plant in Ohio", text)
    qs = suggest_questions([art], n=5)
    assert "Who is Dana Wu?" in qs
    assert "What happened in Toledo?" in qs
    assert all("Venezuela" not in q for q in qs)


def test_title_question_needs_a_name_then_a_verb():
    body = "Shares of Acme rose. The Acme Corporation opened a plant near Toledo in the state."
    common = {"shares", "of", "rose", "the", "opened", "a", "plant", "near", "in", "state"}
    assert title_question("Acme Opens Plant in Ohio", body, common) == "Who opens plant in Ohio?"
    assert title_question("The Weather Today", body, common) is None
    assert title_question("Acme", body, common) is None
    assert suggest_questions([], n=3) == []


def test_candidates_are_checked_one_at_a_time_until_enough_are_answered():
    """One question at a time, so a person's question waits for one candidate at most; and no more checks
    than needed."""
    from types import SimpleNamespace

    text = ("Acme Opens Plant in Ohio\n\nThe Acme Corporation opened a plant in Toledo on Monday. "
            "Chief executive Dana Wu said the plant would hire 400 people. Dana Wu added that Toledo was chosen "
            "for its rail links. Workers in Toledo welcomed the news. Mayor Tom Reyes said Toledo needed jobs.")
    art = make_article("acme.txt", "Acme Opens Plant in Ohio", text)
    everything = suggest_questions([art], n=10)
    assert len(everything) >= 3
    events: list[str] = []

    class OneAtATime:
        def ask(self, question):
            events.append(f"ask {question}")
            return SimpleNamespace(found=question != everything[0])

        def ask_many(self, questions):  # pragma: no cover - the batch path must not be used
            raise AssertionError("checked in one batch")

    qs = suggest_questions([art], n=2, qa=OneAtATime(), before_each=lambda: events.append("pause"))
    assert qs == everything[1:3]
    assert events == [e for q in everything[:3] for e in ("pause", f"ask {q}")]
