"""Synthetic news questions (training.augment): patterns, exact offsets, unanswerable pairs, determinism."""

from __future__ import annotations

import json

import pytest

from training.augment import answer_deleted, facts, news_examples, normalise_text, passages, squad_sentence_deleted
from training.datasets import QAExample, news_path

ARTICLES = [
    {
        "id": "a1",
        "title": "Oil talks",
        "text": "Saudi Arabian Oil Minister Hisham Nazer said on Monday that output\nwould stay unchanged.\n"
        "    John Smith, the chairman of Texaco, told reporters the company expected\nhigher prices.\n"
        "    Analysts said the market was calm.",
    },
    {
        "id": "a2",
        "title": "Football",
        "text": "Liverpool manager Rafael Benitez praised his players after the match. " * 3
        + "\n\nThe club said the new stadium would open in two years and hold 60,000 fans. " * 4,
    },
    {
        "id": "a3",
        "title": "Weather",
        "text": "Heavy rain fell across the region for the third day running, flooding roads and fields. " * 6,
    },
]


def test_normalise_text_joins_wrapped_lines_and_keeps_paragraphs():
    text = normalise_text(ARTICLES[0]["text"])
    assert "output would stay unchanged." in text
    assert "\n\nJohn Smith, the chairman of Texaco," in text
    assert "\n\nAnalysts said" in text


def test_facts_find_titles_and_appositives_with_exact_offsets():
    text = normalise_text(ARTICLES[0]["text"])
    found = {(name, role) for name, ns, role, rs in facts(text)
             if text[ns : ns + len(name)] == name and text[rs : rs + len(role)] == role}
    assert ("Hisham Nazer", "Saudi Arabian Oil Minister") in found
    assert ("John Smith", "the chairman of Texaco") in found
    # no leading function words in roles, no month/day names taken as people
    assert all(not role.lower().startswith(("but ", "and ")) for _, role in found)
    assert not any("Monday" in name for name, _ in found)


def test_passages_cover_text_without_overlap():
    text = normalise_text(ARTICLES[1]["text"])
    spans = passages(text, min_chars=200, max_chars=400)
    assert spans[0][0] == 0
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert all(e - s <= 400 or "\n" not in text[s:e] for s, e in spans)


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "news.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    return path


def test_news_examples_answers_reproduce_from_context(corpus):
    examples = news_examples(corpus, limit=10, unanswerable_share=1.0, seed=1)
    answerable = [e for e in examples if not e.is_impossible]
    assert answerable, "the title and appositive patterns gave no question"
    for e in answerable:
        (text, start), = e.answers
        assert e.context[start : start + len(text)] == text
        assert e.question.endswith("?")
    pairs = {(e.question, e.answers[0][0]) for e in answerable}
    assert any(a == "Rafael Benitez" and "Liverpool manager" in q for q, a in pairs) or any(
        a == "Liverpool manager" and "Rafael Benitez" in q for q, a in pairs
    )
    for e in examples:
        if e.is_impossible:
            source = next(p for p in answerable if p.id == e.id.removesuffix(":neg"))
            assert source.answers[0][0].lower() not in e.context.lower()
            assert e.answers == ()


def test_news_examples_are_deterministic_and_capped(corpus):
    a = news_examples(corpus, limit=10, seed=3)
    b = news_examples(corpus, limit=10, seed=3)
    assert [(e.question, e.context, e.answers) for e in a] == [(e.question, e.context, e.answers) for e in b]
    per_article: dict[str, int] = {}
    for e in a:
        if not e.is_impossible:
            per_article[e.doc_id] = per_article.get(e.doc_id, 0) + 1
    assert max(per_article.values()) <= 2
    assert len([e for e in news_examples(corpus, limit=1, seed=3) if not e.is_impossible]) == 1


def _fact(text: str, name: str) -> tuple[str, int, str, int]:
    return next(f for f in facts(text) if f[0] == name)


@pytest.mark.parametrize("text, name, without_name, without_role", [
    (  # a title before a name
        "Oil prices rose. Saudi Arabian Oil Minister Hisham Nazer said output would stay unchanged.",
        "Hisham Nazer",
        "Oil prices rose. Saudi Arabian Oil Minister said output would stay unchanged.",
        "Oil prices rose. Hisham Nazer said output would stay unchanged.",
    ),
    (  # an appositive: one side is kept, the sentence start capitalised
        "John Smith, the chairman of Texaco, told reporters the company expected higher prices.",
        "John Smith",
        "The chairman of Texaco told reporters the company expected higher prices.",
        "John Smith told reporters the company expected higher prices.",
    ),
])
def test_answer_deleted_takes_the_name_or_the_role_out_of_the_fact(text, name, without_name, without_role):
    name, ns, role, rs = _fact(text, name)
    assert answer_deleted(text, name, ns, role, rs, delete_name=True) == without_name
    assert answer_deleted(text, name, ns, role, rs, delete_name=False) == without_role


def test_answer_deleted_refuses_when_the_answer_is_still_in_the_passage():
    text = "Liverpool manager Rafael Benitez praised his players. Benitez said the win mattered."
    name, ns, role, rs = _fact(text, "Rafael Benitez")
    assert answer_deleted(text, name, ns, role, rs, delete_name=True) is None  # "Benitez" is still there
    text = "Liverpool manager Rafael Benitez praised them. Rafael Benitez, the Liverpool boss, smiled."
    name, ns, role, rs = _fact(text, "Rafael Benitez")
    assert answer_deleted(text, name, ns, role, rs, delete_name=False) is None  # another title still says who


def test_news_examples_with_the_answer_deleted_are_unanswerable_and_leave_the_rest_alone(corpus):
    plain = news_examples(corpus, limit=10, seed=1)
    both = news_examples(corpus, limit=10, seed=1, deleted_share=1.0)
    cut = [e for e in both if e.id.endswith(":cut")]
    assert cut, "no question could have its answer deleted"
    assert [e for e in both if not e.id.endswith(":cut")] == plain  # the same other questions
    for e in cut:
        source = next(p for p in plain if p.id == e.id.removesuffix(":cut"))
        assert e.is_impossible and e.answers == () and e.question == source.question
        assert source.answers[0][0] not in e.context
        assert len(e.context) < len(source.context)  # the same passage, shorter by the deleted words


def _squad(qid: str, context: str, answer: str) -> QAExample:
    return QAExample(id=qid, question="When did the bridge open?", context=context,
                     answers=((answer, context.index(answer)),), is_impossible=False, doc_id="squad11-dev:Bridge",
                     title="Bridge", paragraph_start=0, version="squad11", answer_texts=(answer,))


def test_squad_sentence_deleted_takes_out_the_answers_sentence_only_when_the_answer_goes_with_it():
    filler = "The bridge crosses the river north of the town and carries four lanes of traffic. " * 3
    gone = _squad("q1", filler + "It opened in 1932 after six years of work. It is painted grey.", "1932")
    stays = _squad("q2", filler + "It opened in 1932. A plaque says 1932 too.", "1932")
    short = _squad("q3", "It opened in 1932. It is grey.", "1932")
    out = squad_sentence_deleted([gone, stays, short], share=1.0)
    assert [e.id for e in out] == ["q1:cut"]
    cut = out[0]
    assert cut.is_impossible and cut.answers == () and cut.question == gone.question
    assert "1932" not in cut.context and "six years" not in cut.context
    assert cut.context.endswith("It is painted grey.") and cut.context.startswith(filler.strip()[:40])
    assert squad_sentence_deleted([gone], share=0.0) == []
    assert squad_sentence_deleted([gone], share=0.5, seed=1) == squad_sentence_deleted([gone], share=0.5, seed=1)


def test_news_path_names_the_corpora():
    assert news_path("bbc").name == "bbc.jsonl"
    with pytest.raises(ValueError, match="unknown news corpus"):
        news_path("cnn")
