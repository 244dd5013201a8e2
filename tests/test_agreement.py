"""Agreement and conflict across articles (issue 18 item 2): answers that agree after normalisation cite every
agreeing article; different answers are shown with their dates; "latest" questions lead with the newer article.

Unit tests of the equivalence rules (qa.answerers.equivalence) with their negative cases, of the message and the
folding (qa.answerers.agreement) and of the serialisation, then a planted corpus asked through the real index,
embedder, reader and gate, and every place an answer is shown (qa ask, --json, batch rows, the chat)."""

from __future__ import annotations

import csv
import json

import pytest

from qa.answer_file import CSV_COLUMNS_DATED, AnswerWriter, answer_row
from qa.answerers.agreement import fold, group, long_date, message
from qa.answerers.answer_types import Expects
from qa.answerers.equivalence import Relation, relation
from qa.answerers.protocol import cite
from qa.cli import main
from qa.commands import format_answer
from qa.textio import Question
from qa.types import Alternative, Answer, Citation, Passage
from tests.conftest import assert_citations_exact, dated_qa

SAME, DIFFERENT, UNSURE = Relation.SAME, Relation.DIFFERENT, Relation.UNSURE


# ----------------------------------------------------------------------------- equivalence (pure)

@pytest.mark.parametrize("a, b", [
    ("seventy", "70"), ("twenty-three", "23"), ("two hundred and five", "205"), ("a dozen", "12"),
    ("3.2 million", "3,200,000"), ("1.75 billion", "1,750 million"), ("$3.4bn", "3.4 billion dollars"),
    ("€90m", "90 million euros"), ("£12.5m", "12.5 million pounds"), ("640 metres", "640m"), ("2.4km", "2,400 metres"),
    ("15 per cent", "15%"), ("about 70 people", "70"), ("eleven days", "11 days"), ("2 years", "24 months"),
    ("Helena Vasquez", "Vasquez"), ("Prime Minister Vasquez", "Helena Vasquez"), ("Ms Vasquez", "Vasquez's"),
    ("John F. Corrigan", "J. F. Corrigan"), ("WHO", "World Health Organization"), ("The Senate.", "the senate"),
    ("4 June 2019", "June 4, 2019"),
])
def test_the_same_answer_written_differently_is_the_same(a, b):
    assert relation(a, b) is SAME and relation(b, a) is SAME
    assert relation(a, b, Expects.PERSON) is SAME or not a[0].isupper()


@pytest.mark.parametrize("a, b, expects", [
    ("70", "80", Expects.ANY), ("seventy", "71", Expects.ANY), ("$3.4bn", "$3.6bn", Expects.NUMBER),
    ("3.4 billion", "3.4 million", Expects.ANY), ("640 metres", "650m", Expects.QUANTITY),
    ("4 June 2019", "5 June 2019", Expects.DATE), ("2019", "2020", Expects.DATE),
    ("Helena Vasquez", "Tomas Reyes", Expects.PERSON), ("Vasquez", "Reyes", Expects.PERSON),
    ("Helena Vasquez", "Marta Vasquez", Expects.PERSON),
])
def test_different_figures_dates_and_people_are_different(a, b, expects):
    assert relation(a, b, expects) is DIFFERENT and relation(b, a, expects) is DIFFERENT


@pytest.mark.parametrize("a, b, expects", [
    ("Vasquez", "Reyes", Expects.ANY),               # two names, but the question may not ask for a person
    ("Lyon", "France", Expects.PLACE),               # a city and its country can both be right
    ("New York", "York", Expects.PLACE),             # a place is never shortened to its last word
    ("$3.4bn", "£3.4bn", Expects.NUMBER),            # another currency: not the same amount, not comparable
    ("70 soldiers", "80 civilians", Expects.NUMBER),  # figures of different things
    ("more than 70", "fewer than 70", Expects.NUMBER),
    ("640 metres", "640 kg", Expects.QUANTITY),
    ("June 2019", "4 June 2019", Expects.DATE),      # one is vaguer: neither merged nor a conflict
    ("the army", "to retaliate", Expects.ANY), ("70", "the army", Expects.ANY),
    # a bound, a negation, a sign or a decade is part of the answer
    ("over 50", "under 50", Expects.NUMBER), ("not 50", "50", Expects.NUMBER), ("-5C", "5C", Expects.QUANTITY),
    ("the 1990s", "1990", Expects.DATE),
    ("50m", "50", Expects.ANY),                      # 50 metres or 50 million: neither is "50"
    ("2024-03-12", "2024-12-03", Expects.DATE), ("12/03/2024", "13/03/2024", Expects.DATE),
    # one person or two: an honorific with a surname, a middle name, a surname written first
    ("Mrs Clinton", "Bill Clinton", Expects.PERSON), ("President Bush", "First Lady Bush", Expects.PERSON),
    ("George Bush", "George W. Bush", Expects.PERSON), ("John Adams", "John Quincy Adams", Expects.PERSON),
    ("Xi Jinping", "Xi", Expects.PERSON), ("Kim Jong-un", "Kim", Expects.PERSON),
])
def test_what_the_rules_cannot_tell_is_neither_merged_nor_a_conflict(a, b, expects):
    assert relation(a, b, expects) is UNSURE


def test_two_numbers_or_two_people_never_merge():
    numbers = ["40", "50", "forty-one", "4", "400", "$40m", "40 million", "40%", "fourteen", "14 million"]
    for i, a in enumerate(numbers):
        for b in numbers[i + 1:]:
            assert relation(a, b) is not SAME or {a, b} in ({"$40m", "40 million"}, {"40", "40%"}), (a, b)
    for a, b in [("Nicolas Maduro", "Juan Guaido"), ("Maduro", "Guaido"), ("Nicolas Maduro", "Nicolas Maduro Guerra")]:
        assert relation(a, b, Expects.PERSON) is not SAME


# ----------------------------------------------------------------------------- messages, groups, folding (pure)

def _passage(article_id: str, text: str, date: str | None, date_source: str | None = "metadata") -> Passage:
    return Passage(0, article_id, f"Title {article_id}", f"{article_id}.txt", 0, len(text), text, 1.0, 0,
                   date=date, date_source=date_source)


def _cite(article_id: str, text: str, span: str, date: str | None, date_source: str | None = "metadata") -> Citation:
    p = _passage(article_id, text, date, date_source)
    return cite(p, text.index(span), text.index(span) + len(span), 0.5)


def test_long_dates_and_the_file_date_mark():
    assert long_date("2024-03-12") == "12 March 2024"
    assert long_date("2024-03-12", "file time") == "12 March 2024 (file date)"
    assert long_date(None) is None


def test_messages_count_agreeing_articles_and_name_the_others_with_their_dates():
    a = _cite("a", "The fleet has 70 buses.", "70", "2024-03-12")
    b = _cite("b", "The fleet has seventy buses.", "seventy", "2024-03-01")
    c = _cite("c", "The fleet has 60 buses.", "60", "2024-02-02")
    d = _cite("d", "The fleet has sixty buses.", "sixty", None, None)
    e = _cite("e", "The fleet has 55 buses.", "55", None, None)
    assert message([a], ()) == "Found in 1 article."
    assert message([a, b], ()) == "Found in 2 articles that agree."
    assert message([a], [Alternative("60", 0.4, (c,))], "70") == \
        "The articles differ. An article of 12 March 2024 says 70; one of 2 February 2024 says 60."
    assert message([a, b], [Alternative("60", 0.4, (c, d)), Alternative("55", 0.3, (e,))], "70") == (
        "The articles differ. 2 articles, the newest of 12 March 2024, say 70; 2 articles, the newest of "
        "2 February 2024, say 60; one without a date says 55.")


def test_group_keeps_only_clear_differences_and_groups_equal_answers():
    c1 = _cite("c1", "It has 60 buses.", "60", "2024-02-02")
    c2 = _cite("c2", "It has sixty buses.", "sixty", "2024-01-02")
    c3 = _cite("c3", "It has the most buses.", "the most buses", "2024-01-05")
    c4 = _cite("c4", "It has 70 buses.", "70", "2024-01-07")
    alts = group("70", [("60", 0.6, c1), ("the most buses", 0.5, c3), ("sixty", 0.4, c2), ("70", 0.3, c4)])
    assert [(a.text, [c.article_id for c in a.citations]) for a in alts] == [("60", ["c1", "c2"])]
    assert alts[0].citations[1].text == "sixty"


def test_fold_keeps_what_the_replaced_answer_said():
    old = Answer("How many buses?", "60", 0.8, (_cite("feb", "It has 60 buses.", "60", "2024-02-02"),),
                 alternatives=(Alternative("70", 0.5, (_cite("mar", "It has 70 buses.", "70", "2024-03-12"),
                                                       _cite("mar2", "It has seventy buses.", "seventy",
                                                             "2024-03-10"))),))
    new = Answer("How many buses?", "70", 0.9, (_cite("mar", "It has 70 buses.", "70", "2024-03-12"),))
    out = fold(new, old)
    assert out.text == "70" and [c.article_id for c in out.citations] == ["mar", "mar2"]
    assert [(a.text, [c.article_id for c in a.citations]) for a in out.alternatives] == [("60", ["feb"])]
    assert out.message == ("The articles differ. 2 articles, the newest of 12 March 2024, say 70; one of "
                           "2 February 2024 says 60.")
    alone = Answer("How many buses?", "70", 0.9, (_cite("mar", "It has 70 buses.", "70", "2024-03-12"),))
    unrelated = Answer("How many buses?", "the depot", 0.9, (_cite("x", "At the depot.", "the depot", None),))
    assert fold(alone, unrelated) is alone


# ----------------------------------------------------------------------------- the one serialisation

def test_citations_quote_their_own_text_and_old_json_still_reads():
    c = _cite("b", "The fleet has seventy buses.", "seventy", "2024-03-01")
    assert c.text == "seventy"
    a = Answer("How many?", "70", 0.7, (_cite("a", "It has 70 buses.", "70", "2024-03-12"), c),
               alternatives=(Alternative("60", 0.4, (_cite("c", "It has 60 buses.", "60", "2024-02-02"),)),))
    d = a.to_dict()
    assert [x["text"] for x in d["citations"]] == ["70", "seventy"]
    assert d["alternatives"][0]["answer"] == "60" and d["alternatives"][0]["citations"][0]["date"] == "2024-02-02"
    assert Answer.from_dict(json.loads(json.dumps(d))) == a
    # JSON written before citations quoted their text and before alternatives
    for x in d["citations"]:
        del x["text"]
    del d["alternatives"]
    old = Answer.from_dict(d)
    assert [x.text for x in old.citations] == ["70", "70"] and old.alternatives == ()
    # a citation made without its text quotes the answer
    bare = Citation("a", "T", "a.txt", 0, 2, "70", 0, 2)
    assert Answer("q", "70", 0.5, (bare,)).citations[0].text == "70"


# ----------------------------------------------------------------------------- a planted corpus, end to end

ARTICLES = {
    "mirelo-mar.json": ("Mirelo wind farm switched on", "2022-03-08",
                        "The Mirelo wind farm was switched on by the energy minister on Tuesday. The farm has 36 "
                        "turbines on the ridge above the town, and the operator says it can power forty thousand "
                        "homes."),
    "mirelo-mar-2.json": ("Birdwatchers worry about Mirelo turbines", "2022-03-21",
                          "Birdwatchers said on Monday that eagles nest near the Mirelo ridge. The Mirelo wind farm "
                          "has thirty-six turbines, and the group wants them stopped in the nesting season."),
    "mirelo-oct.json": ("Mirelo wind farm grows", "2023-10-17",
                        "Twelve more turbines were raised on the Mirelo ridge this autumn. The Mirelo wind farm now "
                        "has 48 turbines, its operator said on Tuesday."),
    "dunmore-may.json": ("Hospital wing approved", "2021-05-04",
                         "Health officials approved a new wing for Dunmore hospital on Tuesday. The new wing of "
                         "Dunmore hospital will cost £45m and should open in two years."),
    "dunmore-may-2.json": ("Nurses welcome hospital plan", "2021-05-09",
                           "Nurses at Dunmore welcomed the plan on Sunday. The new wing of Dunmore hospital will "
                           "cost 45 million pounds, according to the health board."),
    "dunmore-nov.json": ("Hospital wing costs soar", "2022-11-22",
                         "Building costs have risen sharply across the region. The new wing of Dunmore hospital "
                         "will now cost £62m, the health board said on Tuesday."),
    "veyra-2020.json": ("Rowing club names coach", "2020-09-14",
                        "Anika Solberg was named head coach of the Port Veyra Rowing Club on Monday. She rowed for "
                        "the national team for eight years."),
    "veyra-2020-b.json": ("Port Veyra crews win regatta", "2020-11-02",
                          "Port Veyra crews won four races at the autumn regatta. Head coach Anika Solberg said the "
                          "club had trained hard."),
    "veyra-2023.json": ("New coach for Port Veyra", "2023-04-03",
                        "Rafael Ostin was named head coach of the Port Veyra Rowing Club on Monday, replacing Anika "
                        "Solberg, who moved abroad. Ostin coached the junior crews for six years."),
    "calder-a.json": ("Calder dam inspected", "2024-01-09",
                      "Engineers inspected the Calder dam on Tuesday. The dam is 85 metres tall and holds back the "
                      "Loch Ure reservoir."),
    "calder-b.json": ("Walkers return to Calder", "2024-01-28",
                      "Walkers can cross the 85m Calder dam again from Saturday, the water board said. The path was "
                      "closed in winter."),
    "market.json": ("Market hall reopens", "2023-06-05",
                    "The Ketterby market hall reopened on Monday with 60 stalls. Its roof was repaired for 2 million "
                    "pounds."),
    "ferry.json": ("Ferry strike ends", "2024-02-19",
                   "Ferry workers on the Isle of Brae ended a strike on Monday. The strike had lasted 9 days and "
                   "cancelled 140 sailings."),
}
MIRELO_OLD = {"mirelo-mar.json", "mirelo-mar-2.json"}
DUNMORE_OLD = {"dunmore-may.json", "dunmore-may-2.json"}
VEYRA_OLD = {"veyra-2020.json", "veyra-2020-b.json"}
TURBINES_Q = "How many turbines does the Mirelo wind farm have?"


@pytest.fixture(scope="module")
def planted(tmp_path_factory, embedder):
    return dated_qa(tmp_path_factory.mktemp("agree"), ARTICLES, embedder)


def _sources(citations) -> set[str]:
    return {c.source for c in citations}


def _alternative(answer: Answer, text: str) -> Alternative:
    (alt,) = [a for a in answer.alternatives if relation(text, a.text) is SAME]
    return alt


@pytest.mark.parametrize("question, expected, cited", [
    ("How many turbines did the Mirelo wind farm have in March 2022?", "36", MIRELO_OLD),
    ("How much was the new wing of Dunmore hospital expected to cost in May 2021?", "£45m", DUNMORE_OLD),
    ("Who was the head coach of the Port Veyra Rowing Club in 2020?", "Anika Solberg", VEYRA_OLD),
    ("How tall is the Calder dam?", "85 metres", {"calder-a.json", "calder-b.json"}),
])
def test_merged_answers_cite_every_agreeing_article(planted, question, expected, cited):
    a = planted.ask(question)
    assert a.found and relation(expected, a.text) is SAME, (a.text, a.message)
    assert _sources(a.citations) == cited and a.alternatives == ()
    assert a.message == f"Found in {len(cited)} articles that agree."
    assert_citations_exact(a, planted)
    assert len({c.text for c in a.citations}) >= 1 and all(relation(a.text, c.text) is SAME for c in a.citations)


@pytest.mark.parametrize("question, expected, cited, other, others", [
    (TURBINES_Q, "36", MIRELO_OLD, "48", {"mirelo-oct.json"}),
    ("How much will the new wing of Dunmore hospital cost?", "£45m", DUNMORE_OLD, "£62m", {"dunmore-nov.json"}),
    ("Who is the head coach of the Port Veyra Rowing Club?", "Rafael Ostin", {"veyra-2023.json"},
     "Anika Solberg", VEYRA_OLD),
])
def test_conflicting_answers_are_shown_with_their_dates(planted, question, expected, cited, other, others):
    a = planted.ask(question)
    assert a.found and relation(expected, a.text) is SAME, (a.text, a.message)
    assert _sources(a.citations) == cited
    alt = _alternative(a, other)
    assert _sources(alt.citations) == others and len(a.alternatives) == 1
    assert all(c.date == ARTICLES[c.source][1] for c in alt.citations)
    assert a.message.startswith("The articles differ.")
    # a newer article that says otherwise keeps the answer below High: the fact may have changed
    newer = (alt.newest_date or "") > max(c.date for c in a.citations)
    assert (a.confidence_level != "High") if newer else a.score > 0
    for c in (*a.citations, *alt.citations):  # the newest date of each side is named
        assert (long_date(c.date) in a.message) or any(d.date > c.date for d in (*a.citations, *alt.citations)
                                                       if relation(d.text, c.text) is SAME)
    assert a.message.index(long_date(max(c.date for c in a.citations))) < \
        a.message.index(long_date(max(c.date for c in alt.citations)))  # the shown answer first
    assert_citations_exact(a, planted)


@pytest.mark.parametrize("question, newer, newest_source, older", [
    ("What is the latest number of turbines at the Mirelo wind farm?", "48", "mirelo-oct.json", "36"),
    ("How many turbines does the Mirelo wind farm have now?", "48", "mirelo-oct.json", "36"),
    ("What is the most recent cost of the new Dunmore hospital wing?", "£62m", "dunmore-nov.json", "£45m"),
    ("Who is the current head coach of the Port Veyra Rowing Club?", "Rafael Ostin", "veyra-2023.json",
     "Anika Solberg"),
])
def test_latest_questions_lead_with_the_newer_article_and_keep_the_older_answer(planted, question, newer,
                                                                                newest_source, older):
    a = planted.ask(question)
    assert a.found and relation(newer, a.text) is SAME, (a.text, a.message)
    assert a.citations[0].source == newest_source
    alt = _alternative(a, older)
    assert max(c.date for c in alt.citations) < a.citations[0].date
    assert a.message.startswith(f"The articles differ. An article of {long_date(a.citations[0].date)} says {a.text};")
    assert_citations_exact(a, planted)


@pytest.mark.parametrize("question, expected, source", [
    ("How long did the ferry strike on the Isle of Brae last?", "9 days", "ferry.json"),
    ("How many stalls does the Ketterby market hall have?", "60", "market.json"),
])
def test_an_answer_of_one_article_is_as_before(planted, question, expected, source):
    a = planted.ask(question)
    assert a.text == expected and _sources(a.citations) == {source}
    assert a.message == "Found in 1 article." and a.alternatives == ()


def test_without_a_conflict_window_no_alternative_is_shown(planted):
    from qa.reader import SpanReader

    reader = planted.answerer.inner if hasattr(planted.answerer, "inner") else planted.answerer
    assert isinstance(reader, SpanReader)
    passages = planted.search(TURBINES_Q, k=10)
    before = reader.answer(TURBINES_Q, passages)
    quiet = SpanReader(abstain=reader.abstain, conflict_window=0)
    after = quiet.answer(TURBINES_Q, passages)
    assert before.alternatives and after.alternatives == ()
    assert (after.text, after.score, after.citations) == (before.text, before.score, before.citations)


# ----------------------------------------------------------------------------- everywhere an answer is shown

def test_qa_ask_text_and_json_show_agreement_and_the_other_answers(planted, capsys):
    folders = ["--articles", str(planted.settings.articles_dir), "--index", str(planted.settings.index_dir)]
    assert main(["ask", TURBINES_Q, *folders, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert {c["source"] for c in d["citations"]} == MIRELO_OLD and {c["text"] for c in d["citations"]} >= {"36"}
    (alt,) = d["alternatives"]
    assert alt["answer"] == "48" and alt["citations"][0]["date"] == "2023-10-17"
    assert "17 October 2023" in d["message"]
    assert Answer.from_dict(d).alternatives[0].text == "48"
    assert main(["ask", TURBINES_Q, *folders]) == 0
    out = capsys.readouterr().out
    assert "The articles differ." in out and "Other articles say:" in out and "2023-10-17" in out
    assert format_answer(Answer.from_dict(d)) == out.rstrip("\n")


def test_batch_rows_carry_the_alternatives_and_an_older_csv_resumes_in_its_columns(planted, tmp_path):
    a = planted.ask(TURBINES_Q)
    row = answer_row(Question("t", TURBINES_Q, 1), a)
    assert row["alternatives"][0]["answer"] == "48"
    assert row["alternatives"][0]["citations"][0]["date"] == "2023-10-17"
    assert {c["source"] for c in row["citations"]} == MIRELO_OLD
    out = tmp_path / "a.csv"
    with AnswerWriter(out, warn=None) as w:
        w.write([row])
    (record,) = csv.DictReader(out.open(newline="", encoding="utf-8"))
    assert json.loads(record["alternatives"])[0]["answer"] == "48"
    with AnswerWriter(out, warn=None) as w:  # read back
        assert w.rows["t"]["alternatives"][0]["answer"] == "48"
    old = tmp_path / "dated.csv"  # begun before alternatives: resumed in its own columns
    old.write_text(",".join(CSV_COLUMNS_DATED) + "\n", encoding="utf-8")
    with AnswerWriter(old, warn=None) as w:
        w.write([row])
    (record,) = csv.DictReader(old.open(newline="", encoding="utf-8"))
    assert list(record) == CSV_COLUMNS_DATED and record["answer"] == row["answer"]


def test_the_chat_lists_agreeing_sources_and_the_other_answers_with_dates(planted):
    from ui.render import esc, render_answer, reply_text

    a = planted.ask(TURBINES_Q)
    articles = {x.id: x for x in planted.articles()}
    html = render_answer(a, articles)
    assert esc(a.message) in html and "17 October 2023" in a.message
    assert html.count('class="qa-source"') == len(a.citations) + 1  # the agreeing sources, then the other one
    assert 'class="qa-alternatives"' in html and "<strong>48</strong>" in html and esc("2023-10-17") in html
    worded = [c.text for c in a.citations if c.text != a.text]
    assert worded and all(esc(f"words it “{t}”") in html for t in worded)
    text = reply_text(a, TURBINES_Q)
    assert "Other articles say: 48" in text and "2023-10-17" in text and a.message in text


def test_the_chat_handler_answers_with_the_other_articles_answers(planted, tmp_path):
    pytest.importorskip("gradio")
    from ui.handlers import ChatApp
    from ui.render import esc

    app = ChatApp(planted, tmp_path / "feedback.jsonl")
    _, _, session, note = app.take("What is the latest number of turbines at the Mirelo wind farm?", None, "", "")
    assert note == ""
    list(app.answer_pending(session))
    reply = session.messages[-1]["content"]
    assert "Other articles say" in reply and esc("2022-03-21") in reply and "17 October 2023" in reply
    # the citation marks open the answer's own sources: the other answer's article is listed after them
    sources = reply.split('class="qa-sources"')[1].split('class="qa-alternatives"')[0]
    assert "mirelo&#45;oct.json" in sources and "mirelo&#45;mar.json" not in sources


def test_latest_lets_a_newer_different_answer_lead_even_when_retrieval_put_it_further_back(planted):
    """"latest" reads the newest close candidates alone; the passage of another article's different answer is
    one too, wherever retrieval put it."""
    from dataclasses import replace

    import numpy as np

    from qa.engine import _newest_answer
    from qa.retrieval import close_candidates

    passages = planted.search(TURBINES_Q, k=10)
    spread = float(np.std([p.score for p in passages]))
    moved = sorted((replace(p, score=p.score - spread) if p.source == "mirelo-oct.json" else p for p in passages),
                   key=lambda p: -p.score)
    assert "mirelo-oct.json" not in {p.source for p in close_candidates(moved)}
    before = planted.answerer.answer(TURBINES_Q, moved)
    assert relation(before.text, "36") is SAME and _alternative(before, "48")
    after = _newest_answer(planted.answerer, before, moved)
    assert after.text == "48" and after.citations[0].source == "mirelo-oct.json"
    assert _sources(_alternative(after, "36").citations) == MIRELO_OLD
    assert after.passages[0].source == "mirelo-oct.json"
