"""qa.conversation: follow-ups rewritten into standalone questions; standalone ones untouched; doubt said."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from qa.conversation.chat import Conversation
from qa.conversation.rewrite import resolve, rewrite
from qa.conversation.turns import Turn
from qa.entities import find_entities
from qa.types import Answer, Article
from qa.vocabulary import Vocabulary

from .conftest import SEED_FILE


def turn(question: str, answer: str | None, context: str | None = None) -> Turn:
    return Turn(question, question, Answer(question, answer, 0.9 if answer else 0.1, context=context))


@pytest.fixture(scope="module")
def seed_vocab() -> Vocabulary:
    """What the seed article says about its names (Guaido is a person, Venezuela a place ...)."""
    return Vocabulary.from_texts([SEED_FILE.read_text(encoding="utf-8")])


# An invented collection: who is a person, a woman, a group, a firm is only said by how it is written.
ACME_TEXTS = [
    "The Acme Corporation opened a plant in Toledo on Monday. Chief executive Dana Wu said she was delighted. "
    "Ms Wu, who joined in 2010, said the plant would hire 400 people. The Acme Corporation said it would "
    "expand. Bob Stone, 52, said he had backed the plan. Mr Stone said he was pleased.",
    "The Rollers have signed a new deal. The Rollers are touring in Spain. Workers in Toledo welcomed the news. "
    "In Toledo, officials said the plant was welcome. Analysts said Acme shares rose.",
]


@pytest.fixture(scope="module")
def acme_vocab() -> Vocabulary:
    return Vocabulary.from_texts(ACME_TEXTS)


WHO = turn("Who is Venezuela's opposition leader?",
           "About fifty countries have recognized Guaido as Venezuela's legitimate leader.")
WHERE = turn("Where did Guaido go last week?",
             "Guaido slipped out of Venezuela last week, in violation of a Supreme Court order not to leave "
             "the country, to join the aid convoys in Colombia.")
SPAN = turn("Who won the election in 2018?", "Jair Bolsonaro",
            context="The far-right candidate Jair Bolsonaro won the election in 2018.")
WHAT = turn("What did the Acme Corporation announce?", "It announced a new plant in Ohio.")


# ----------------------------------------------------------------------------- the reported rows
def test_why_after_how_many_is_grammatical(seed_vocab):
    prev = turn("How many countries have recognized Guaido?",
                "About fifty countries have recognized Guaido as Venezuela's legitimate leader.")
    r = resolve("Why?", prev, vocabulary=seed_vocab)
    assert r.question == "Why have countries recognized Guaido?" and r.note is None


@pytest.mark.parametrize("answer", [
    "Venezuela's Interim President Juan Guaido",
    "Guaido slipped out of Venezuela last week, in violation of a Supreme Court order",
])
def test_he_after_who_is_x_is_x_not_the_country_in_the_answer(seed_vocab, answer):
    r = resolve("Where did he go?", turn("Who is Juan Guaido?", answer), vocabulary=seed_vocab)
    assert r.question == "Where did Juan Guaido go?"
    assert r.resolved == (("he", "Juan Guaido"),)


def test_when_did_it_happen_asks_when_about_the_previous_question(seed_vocab):
    prev = turn("Who slipped out of Venezuela last week?", "Guaido")
    assert resolve("When did it happen?", prev, vocabulary=seed_vocab).question == \
        "When did Guaido slip out of Venezuela last week?"
    # nothing happened in "Who is Maduro?": asked as typed, and said so
    r = resolve("When did it happen?", turn("Who is Maduro?", "President Nicolas Maduro"), vocabulary=seed_vocab)
    assert r.question == "When did it happen?" and r.note and "'it'" in r.note


def test_what_about_swaps_the_main_name_keeping_the_form(seed_vocab):
    assert resolve("What about Maduro?", turn("Who is Juan Guaido?", "Venezuela's Interim President Juan Guaido"),
                   vocabulary=seed_vocab).question == "Who is Maduro?"
    assert rewrite("What about Maduro?", WHERE)[0] == "Where did Maduro go last week?"


# ----------------------------------------------------------------------------- pronouns and kinds
@pytest.mark.parametrize("question, expected", [
    ("Where did he go last week?", "Where did Guaido go last week?"),
    ("What did his backers do?", "What did Guaido's backers do?"),
    ("Who supports her?", "Who supports Guaido?"),
    ("What did she say about her family?", "What did Guaido say about her family?"),  # named once
    ("What did Russia say about him?", "What did Russia say about Guaido?"),
    ("Is he in Colombia?", "Is Guaido in Colombia?"),
])
def test_pronouns_after_a_who_question_take_the_name_from_the_answer(question, expected):
    assert rewrite(question, WHO)[0] == expected


def test_short_span_answers_are_the_name():
    assert rewrite("When was he born?", SPAN) == ("When was Jair Bolsonaro born?", "Jair Bolsonaro")
    assert rewrite("How old is she?", SPAN)[0] == "How old is Jair Bolsonaro?"


def test_after_other_questions_the_question_subject_is_kept(seed_vocab):
    assert resolve("What did he say on Thursday?", WHERE, vocabulary=seed_vocab).question == \
        "What did Guaido say on Thursday?"
    assert rewrite("What else did it announce?", WHAT)[0] == "What else did the Acme Corporation announce?"


def test_he_and_she_stand_only_for_people(acme_vocab):
    # the answer names a firm and a city: neither is "he"; the question's person is
    prev = turn("Where did Bob Stone work?", "The Acme Corporation plant in Toledo")
    assert resolve("What did he say?", prev, vocabulary=acme_vocab).question == "What did Bob Stone say?"
    # no person at all: asked as typed, with a note naming the pronoun
    r = resolve("What did he say?", turn("What did the Acme Corporation open?", "a plant in Toledo"),
                vocabulary=acme_vocab)
    assert r.question == "What did he say?" and r.note == "Asked as typed: could not tell who 'he' is."


def test_it_never_stands_for_a_person(acme_vocab):
    prev = turn("Who runs the Acme Corporation?", "Chief executive Dana Wu")
    r = resolve("When was it founded?", prev, vocabulary=acme_vocab)
    assert r.question == "When was the Acme Corporation founded?"
    r = resolve("Where is it based?", turn("Who is Bob Stone?", "Bob Stone, 52, backed the plan"),
                vocabulary=acme_vocab)
    assert r.question == "Where is it based?" and "'it'" in (r.note or "")


def test_she_and_he_follow_what_the_articles_call_them(acme_vocab):
    # Dana Wu is "she" and Bob Stone "he" in the articles: "she" skips the answer's man
    prev = turn("Who did Dana Wu hire?", "Bob Stone")
    assert resolve("What did she say?", prev, vocabulary=acme_vocab).question == "What did Dana Wu say?"
    assert resolve("What did he say?", prev, vocabulary=acme_vocab).question == "What did Bob Stone say?"


def test_they_is_a_group_or_several_never_one_person(acme_vocab):
    pair = turn("Who backed the plan?", "Dana Wu and Bob Stone")
    assert resolve("Why did they back it?", pair, vocabulary=acme_vocab).question == \
        "Why did Dana Wu and Bob Stone back the plan?"
    band = turn("Who signed a new deal?", "The Rollers")  # "The Rollers have ..." in the articles
    assert resolve("Where are they touring?", band, vocabulary=acme_vocab).question == \
        "Where are the Rollers touring?"
    one = turn("Who joined Acme in 2010?", "Dana Wu")
    r = resolve("What did they announce?", one, vocabulary=acme_vocab)
    assert r.question == "What did they announce?" and r.note == "Asked as typed: could not tell who 'they' are."


def test_there_is_a_place(seed_vocab):
    assert rewrite("What happened there?", WHERE)[0] == "What happened in Colombia?"
    assert rewrite("Why did he go there?", WHERE, vocabulary=seed_vocab)[0] == "Why did Guaido go to Colombia?"
    assert rewrite("Who lives there?", WHAT)[0] == "Who lives in Ohio?"
    r = resolve("What happened there?", turn("Who runs Acme?", "Dana Wu"))
    assert r.question == "What happened there?" and r.note == "Asked as typed: could not tell where 'there' is."


def test_there_after_a_where_question_is_its_answer(acme_vocab):
    prev = turn("Where did Acme open a plant?", "in Toledo, Ohio")
    assert resolve("How many people work there?", prev, vocabulary=acme_vocab).question == \
        "How many people work in Toledo?"


def test_a_repeated_verb_carries_the_roles_over(acme_vocab):
    prev = turn("Who opened the plant in Toledo?", "The Acme Corporation")
    # "it" is the subject of "open", as the answer was: the firm; the plant is not a name
    assert resolve("When did it open the plant?", prev, vocabulary=acme_vocab).question == \
        "When did the Acme Corporation open the plant?"
    prev = turn("Who blocked the merger last year?", "Bob Stone")
    assert resolve("Why did he block it?", prev, vocabulary=acme_vocab).question == \
        "Why did Bob Stone block the merger?"


def test_statements_and_acts_are_not_things(acme_vocab):
    prev = turn("Who said the plant would hire 400 people?", "Dana Wu")
    assert resolve("When did she say it?", prev, vocabulary=acme_vocab).question == "When did Dana Wu say it?"
    assert resolve("Why did she do it?", prev, vocabulary=acme_vocab).question == "Why did Dana Wu do it?"


# ----------------------------------------------------------------------------- ellipsis
def test_elliptical_follow_ups_reuse_the_previous_question():
    assert rewrite("and in 2019?", SPAN)[0] == "Who won the election in 2019?"
    assert rewrite("And 2022?", SPAN)[0] == "Who won the election in 2022?"
    assert rewrite("Why?", WHERE)[0] == "Why did Guaido go last week?"
    assert rewrite("What about Maduro?", WHERE)[0] == "Where did Maduro go last week?"
    # a time phrase replaces the time phrase
    assert rewrite("And on Monday?", WHERE)[0] == "Where did Guaido go on Monday?"
    assert rewrite("In 2019?", WHERE)[0] == "Where did Guaido go in 2019?"


def test_a_phrase_replaces_the_phrase_with_its_preposition_and_keeps_the_verb():
    prev = turn("How much did Acme's exports to Spain fall in 2003?", "12 pct")
    assert rewrite("and to France?", prev)[0] == "How much did Acme's exports to France fall in 2003?"
    assert rewrite("And in 2004?", prev)[0] == "How much did Acme's exports to Spain fall in 2004?"


@pytest.mark.parametrize("previous, answer, follow_up, expected", [
    # a subject wh-question: the answer becomes the subject, the verb its base form
    ("Who opened the plant in Toledo?", "The Acme Corporation", "Why?",
     "Why did the Acme Corporation open the plant in Toledo?"),
    ("Who quit the board last week?", "Bob Stone", "When?", "When did Bob Stone quit the board last week?"),
    # which + noun: a stranded preposition takes the answer, an object gap takes it too
    ("Which club does Bob Stone want to play for?", "Acme United", "Why?",
     "Why does Bob Stone want to play for Acme United?"),
    ("Which firm did Dana Wu join?", "Acme", "When?", "When did Dana Wu join Acme?"),
    # how much / how many: the amount leaves, the noun stays
    ("How many jobs is the plant cutting?", "400", "Why?", "Why is the plant cutting jobs?"),
    ("How much did the firm pay to Bob Stone?", "£500", "Why?", "Why did the firm pay £500 to Bob Stone?"),
    ("Did Dana Wu back the plan?", "yes", "Why?", "Why did Dana Wu back the plan?"),
    ("When did Dana Wu join Acme?", "2010", "Where?", "Where did Dana Wu join Acme?"),
])
def test_why_when_where_rebuild_the_previous_question(previous, answer, follow_up, expected):
    assert rewrite(follow_up, turn(previous, answer))[0] == expected


@pytest.mark.parametrize("previous, answer", [
    ("Who is Dana Wu?", "Acme's chief executive"),
    ("How old is Bob Stone?", "52"),
])
def test_an_ellipsis_that_cannot_be_rebuilt_is_asked_as_typed_and_said(previous, answer):
    r = resolve("Why?", turn(previous, answer))
    assert r.question == "Why?" and r.note == "Asked as typed: could not tell what 'Why?' refers to."


def test_what_about_matches_a_phrase_by_its_head_noun_or_role():
    prev = turn("How much did organisers raise from the Toledo show?", "£20,000")
    assert rewrite("What about the Dayton show?", prev)[0] == \
        "How much did organisers raise from the Dayton show?"
    prev = turn("Who is the president of Acme?", "Dana Wu")
    assert rewrite("What about the chairman?", prev)[0] == "Who is the chairman of Acme?"
    prev = turn("Where is Acme Motors' new plant?", "Toledo")
    assert rewrite("What about Zenco?", prev)[0] == "Where is Zenco's new plant?"


def test_what_about_a_pronoun_is_asked_as_typed():
    r = resolve("What about it?", WHERE)
    assert r.question == "What about it?" and r.note


# ----------------------------------------------------------------------------- left alone
@pytest.mark.parametrize("question", [
    "Who is Maduro?",
    "Is there a humanitarian crisis in Venezuela?",
    "Did Guaido say his family was threatened?",
    "What sanctions did the United States impose on Friday?",
    "Is it true that Russia vetoed the resolution?",
])
def test_standalone_questions_pass_through_unchanged(question):
    assert rewrite(question, WHO) == (question, None)
    assert resolve(question, WHO).note is None


def test_without_history_nothing_changes():
    assert rewrite("Where did he go?", None) == ("Where did he go?", None)
    conv = Conversation(None)
    assert conv.understand("And in 2019?") == ("And in 2019?", None)
    with pytest.raises(ValueError):
        conv.ask("Who?")


def test_no_name_to_use_leaves_the_question_alone_and_says_so():
    nothing = turn("How bad is the crisis?", None)
    r = resolve("Where did he go?", nothing)
    assert (r.question, r.entity) == ("Where did he go?", None)
    assert r.note == "Asked as typed: could not tell who 'he' is."


@pytest.mark.parametrize("question", ["Tell me about Guaido", "Thanks!", "ok", "the economy?"])
def test_requests_and_chatter_are_not_taken_for_fragments(question):
    assert rewrite(question, WHERE) == (question, None)


def test_other_fragments_keep_the_previous_topic_with_a_note():
    r = resolve("And the economy?", WHERE)
    assert r.question == "What about the economy, regarding Guaido?"
    assert r.note and "Guaido" in r.note


# ----------------------------------------------------------------------------- names and the vocabulary
def test_find_entities_skips_sentence_starters_and_titles():
    names = [e.text for e in find_entities(
        "Under Maduro's leadership, the economy of Venezuela has spiraled. Vice-President Mike Pence led talks. "
        "The United States imposed sanctions Friday.")]
    assert names == ["Maduro", "Venezuela", "Mike Pence", "United States"]
    pence = find_entities("Vice-President Mike Pence led talks.")[0]
    assert pence.person and pence.titled
    assert find_entities("They met in Bogota.")[0].place


def test_find_entities_keeps_initials_acronyms_and_drops_roles():
    names = [e.text for e in find_entities(
        "Dr Mary K. Jones of the U.S. Trade Office met the US Energy Agency. Culture Minister Ann Lee agreed.")]
    assert names == ["Mary K. Jones", "U.S. Trade Office", "US Energy Agency", "Ann Lee"]
    office, country = find_entities("He met the Finance Minister of France.")
    assert office.office and not office.person and country.text == "France" and not country.titled
    assert find_entities("Acme Motors, the carmaker, grew.")[0].org


def test_vocabulary_types_names_by_how_the_articles_use_them(acme_vocab):
    assert acme_vocab.kind("Dana Wu") == "person" and acme_vocab.gender("Dana Wu") == ("f", True)
    assert acme_vocab.kind("Bob Stone") == "person" and acme_vocab.gender("Bob Stone")[0] == "m"
    assert acme_vocab.kind("Acme Corporation") == "nonperson"
    assert acme_vocab.kind("Toledo") == "place"
    assert acme_vocab.kind("Rollers") == "group"
    assert acme_vocab.kind("Zenco") is None
    assert "plant" in acme_vocab.lower and "toledo" not in acme_vocab.lower


def test_new_york_keeps_its_new_when_the_articles_write_it_so():
    vocab = Vocabulary.from_texts(["Shares fell in New York on Monday. Traders in New York were calm."])
    assert [e.text for e in find_entities("New York", vocab.lower)] == ["New York"]
    assert [e.text for e in find_entities("New York")] == ["York"]  # no articles to tell


# ----------------------------------------------------------------------------- conversations
class FakeQA:
    """Answers with a fixed text: enough to drive a conversation without an index."""

    def __init__(self, answers: dict[str, str | None], texts: list[str]) -> None:
        self.answers = answers
        arts = {str(i): Article(str(i), "t", t, f"{i}.txt", str(i)) for i, t in enumerate(texts)}
        self.snapshot = SimpleNamespace(generation="g1", articles=arts)

    def ask(self, question: str, k: int | None = None) -> Answer:
        text = self.answers.get(question)
        return Answer(question, text, 0.9 if text else 0.1)


def test_turns_carry_the_rewrite_note():
    qa = FakeQA({"Who runs Acme?": "Dana Wu", "What did Dana Wu say?": "she was delighted"}, ACME_TEXTS)
    chat = Conversation(qa)
    chat.ask("Who runs Acme?")
    assert chat.last.rewrite_note is None and not chat.last.rewritten
    chat.ask("What did she say?")
    assert chat.last.understood_question == "What did Dana Wu say?" and chat.last.rewrite_note is None
    chat.ask("Where did they go?")
    assert chat.last.understood_question == "Where did they go?"
    assert chat.last.rewrite_note == "Asked as typed: could not tell who 'they' are."
    preview = chat.resolve("What about Bob Stone?")  # answers nothing
    assert preview.question == "What about Bob Stone?" and "Bob Stone" in (preview.note or "")
    assert len(chat.turns) == 3


def test_conversation_answers_a_follow_up_about_the_previous_answer(seed_qa):
    chat = Conversation(seed_qa)
    first = chat.ask("Who slipped out of Venezuela last week?")
    assert first.found and "Guaido" in first.text
    assert chat.last.understood_question == "Who slipped out of Venezuela last week?" and not chat.last.rewritten
    second = chat.ask("Where did he go last week?")
    assert chat.last.understood_question == "Where did Guaido go last week?" and chat.last.rewritten
    assert chat.last.rewrite_note is None
    assert second.question == "Where did Guaido go last week?"
    evidence = " ".join(c.passage for c in second.citations) or " ".join(p.text for p in second.passages[:2])
    assert "slipped out of Venezuela" in evidence and "Colombia" in evidence
    assert [t.question for t in chat.turns] == ["Who slipped out of Venezuela last week?", "Where did he go last week?"]
    chat.reset()
    assert chat.last is None
