"""Time in questions: cues in the question (qa.timecues), since/until in ask(), qa ask and qa batch, the newer
article on ties and for "latest" (qa.retrieval)."""

from __future__ import annotations

import html
import json
from datetime import date

import pytest

from qa.batch import run_batch
from qa.cli import main
from qa.errors import InvalidDateError, QAError
from qa.retrieval import in_range, newest_within_margin, rank_fused
from qa.textio import read_questions
from qa.timecues import check_date, check_range, time_cue
from qa.types import NO_CUE, TimeCue
from tests.conftest import dated_qa

NEWEST = date(2024, 3, 14)


# ----------------------------------------------------------------------------- cues in the question (pure)

@pytest.mark.parametrize("question, since, until", [
    ("How many buses did the city have in 2019?", "2019-01-01", "2019-12-31"),
    ("Who won the vote in March 2019?", "2019-03-01", "2019-03-31"),
    ("What happened during 2021?", "2021-01-01", "2021-12-31"),
    ("What changed in Sept. 2020?", "2020-09-01", "2020-09-30"),
    ("What did the board decide in early 2023?", "2023-01-01", "2023-12-31"),
    ("What has the board done since 2022?", "2022-01-01", None),
    ("What did the report from 2022 find?", "2022-01-01", "2022-12-31"),
    ("What happened after March 2019?", "2019-04-01", None),
    ("Who led the party before 2019?", None, "2018-12-31"),
    ("What was the plan as of June 2020?", None, "2020-06-30"),
    ("What did the council say in February?", "2024-02-01", "2024-02-29"),  # the last February before NEWEST
    ("What did the council say in April?", "2023-04-01", "2023-04-30"),  # April 2024 is after NEWEST
])
def test_an_explicit_year_or_month_sets_a_range(question, since, until):
    cue = time_cue(question, NEWEST)
    assert (cue.since, cue.until) == (since, until)
    assert not cue.prefer_recent


@pytest.mark.parametrize("question, since, until", [
    ("What happened last week?", "2024-03-07", "2024-03-14"),
    ("What did the mayor say yesterday?", "2024-03-13", "2024-03-14"),
    ("What opened today?", "2024-03-14", "2024-03-14"),
    ("What happened this month?", "2024-03-01", "2024-03-14"),
    ("Who resigned last month?", "2024-02-01", "2024-02-29"),
    ("What happened this week?", "2024-03-11", "2024-03-14"),  # 14 March 2024 is a Thursday
    ("Who was elected last year?", "2023-01-01", "2023-12-31"),
    ("What happened in the past 10 days?", "2024-03-04", "2024-03-14"),
])
def test_a_relative_period_counts_back_from_the_newest_article(question, since, until):
    cue = time_cue(question, NEWEST)
    assert (cue.since, cue.until) == (since, until)


@pytest.mark.parametrize("question, since, until", [
    ("What changed in the fleet from 2019 to 2021?", "2019-01-01", "2021-12-31"),
    ("Who chaired the board between March and May 2020?", "2020-03-01", "2020-05-31"),
    ("How many stations opened from March 2019 to May 2020?", "2019-03-01", "2020-05-31"),
    ("What did the council spend in 2019-21?", "2019-01-01", "2021-12-31"),
    ("What happened in 2019-2020?", "2019-01-01", "2020-12-31"),
    ("What did the council spend during 2018\u20132020?", "2018-01-01", "2020-12-31"),
    ("Who won the vote between 1999 and 2001?", "1999-01-01", "2001-12-31"),
])
def test_a_span_of_periods_sets_its_range(question, since, until):
    cue = time_cue(question, NEWEST)
    assert (cue.since, cue.until) == (since, until)


@pytest.mark.parametrize("question", [
    "Who won between 2021 and 2019?",       # backwards: no range at all
    "Who scored most in the 2019-2020 season?",   # a season named as an adjective
])
def test_spans_that_set_nothing(question):
    assert not time_cue(question, NEWEST).filters


def test_a_relative_period_without_any_dated_article_sets_nothing():
    assert time_cue("What happened last week?", None) == NO_CUE


@pytest.mark.parametrize("question", [
    "What is the latest count of electric buses?",
    "What is the most recent figure?",
    "Which is the newest station?",
    "How many buses does the city have now?",
    "Who is currently in charge?",
    "Who is the current mayor?",
    "What do people say these days?",
])
def test_recency_words_prefer_newer_articles_without_a_range(question):
    cue = time_cue(question, NEWEST)
    assert cue.prefer_recent and not cue.filters


@pytest.mark.parametrize("question", [
    "What is in the 2019 budget?",          # a year as an adjective: a budget is reported the year before too
    "What did 2019's election decide?",
    "Why was the train late?",              # "late" is not "latest"
    "What has the board said lately?",
    "Who shovelled the snow?",              # "now" only as a word
    "How many buses does the city have?",
    "May the council raise fares?",         # "May" the verb
])
def test_words_that_are_not_cues(question):
    assert time_cue(question, NEWEST) == NO_CUE


def test_a_range_and_recency_come_together():
    cue = time_cue("What was the latest figure in 2019?", NEWEST)
    assert (cue.since, cue.until, cue.prefer_recent) == ("2019-01-01", "2019-12-31", True)


@pytest.mark.parametrize("bad", ["2024-3-1", "March 2024", "2024/03/01", "2024-02-30", "yesterday"])
def test_a_bad_date_says_the_expected_format(bad):
    with pytest.raises(ValueError, match="since must be a date written YYYY-MM-DD") as e:
        check_date(bad, "since")
    assert "\n" not in str(e.value)


def test_check_range():
    assert check_range(" 2024-03-01 ", "") == ("2024-03-01", None)
    with pytest.raises(ValueError, match="after until"):
        check_range("2024-03-02", "2024-03-01")


# ----------------------------------------------------------------------------- ranking by date (pure)

def test_in_range_is_inclusive_and_leaves_out_undated_articles_when_filtering():
    assert in_range("2024-03-01", "2024-03-01", "2024-03-31") and in_range("2024-03-31", None, "2024-03-31")
    assert not in_range("2024-04-01", "2024-03-01", "2024-03-31")
    assert not in_range(None, "2024-03-01", None)
    assert in_range(None, None, None)


def test_equal_scores_put_the_newer_article_first():
    fused = {1: 2.0, 2: 2.0, 3: 1.0, 4: 2.0}
    dates = {1: 20240202, 2: 20240312, 3: 20250101, 4: 0}
    assert [c for c, _ in rank_fused(fused, dates)] == [2, 1, 4, 3]


def test_latest_orders_the_close_candidates_by_date_and_keeps_the_scores_falling():
    ranked = [(1, 3.0), (2, 2.9), (3, 1.0), (4, 0.5), (5, 0.0)]
    dates = {1: 20240202, 2: 20240312, 3: 20250101, 4: 20250101, 5: 20250101}
    out = newest_within_margin(ranked, dates, 0.25)
    # median 1.0, lead 2.0: within 0.5 of the best are chunks 1 and 2; the far newer chunk 3 is not close
    assert out == [(2, 3.0), (1, 2.9), (3, 1.0), (4, 0.5), (5, 0.0)]


# ----------------------------------------------------------------------------- a dated corpus, end to end

ARTICLES = {
    "buses-2019.json": ("Riverton starts an electric fleet", "2019-06-10",
                        "The Riverton transit board said the city fleet has 12 electric buses. "
                        "The first ones arrived in the spring, and drivers were trained over the winter."),
    "buses-feb.json": ("Riverton fleet grows", "2024-02-02",
                       "The Riverton transit board said on Friday that the city fleet now has 40 electric buses. "
                       "The board chair, Mara Quist, said more would follow later in the year."),
    "buses-mar.json": ("Riverton fleet grows again", "2024-03-12",
                       "The Riverton transit board said on Tuesday that the city fleet now has 50 electric buses. "
                       "The board chair, Mara Quist, said the depot on Hale Street would be extended."),
    "library.json": ("Riverton library reopens", "2024-03-14",
                     "The Riverton library reopened on Thursday after a renovation that cost 3 million dollars. "
                     "The library now opens on Sundays as well."),
}
BUSES_Q = "How many electric buses does the Riverton fleet have?"


@pytest.fixture(scope="module")
def dated(tmp_path_factory, embedder):
    return dated_qa(tmp_path_factory.mktemp("dated"), ARTICLES, embedder)


def _source(answer) -> str:
    assert answer.found, answer.message
    return answer.citations[0].source


def test_the_corpus_dates_come_from_metadata(dated):
    assert {a.source: (a.date, a.date_source) for a in dated.articles()} == {
        name: (day, "metadata") for name, (_, day, _) in ARTICLES.items()}


@pytest.mark.parametrize("question", [
    "What is the latest number of electric buses in the Riverton fleet?",
    "How many electric buses does the Riverton fleet have, according to the most recent report?",
    "How many electric buses does the Riverton fleet have now?",
    "What is the newest count of electric buses in Riverton?",
])
def test_latest_questions_pick_the_newer_article(dated, question):
    a = dated.ask(question)
    assert a.text == "50" and _source(a) == "buses-mar.json"
    assert a.question == question  # the reader reads the question as asked


def test_in_2019_answers_from_2019s_article(dated):
    a = dated.ask("How many electric buses did the Riverton fleet have in 2019?")
    assert a.text == "12" and _source(a) == "buses-2019.json"
    assert {p.date[:4] for p in a.passages} == {"2019"}


def test_last_week_counts_back_from_the_newest_article(dated):
    # the newest article is of 14 March 2024: "last week" is 7-14 March, so February's count is out
    a = dated.ask("How many electric buses did the Riverton transit board report last week?")
    assert a.text == "50" and all(p.date >= "2024-03-07" for p in a.passages)


def test_a_cue_range_without_articles_is_dropped(dated):
    a = dated.ask("How many electric buses did the Riverton fleet have in 2015?")
    assert a.found and a.passages
    # and the answer says so, with the words that asked for it
    assert a.time_cue.dropped and a.time_cue.describe() == (
        'No article is dated from 2015-01-01 to 2015-12-31 ("in 2015"), so all articles were read.')


def test_a_cue_range_that_holds_every_article_is_not_reported(dated):
    # all the articles are of 2019 or 2024: "since 2019" leaves none out, so the answer says nothing of dates
    a = dated.ask("How many electric buses has the Riverton fleet had since 2019?")
    assert a.found and not a.time_cue.applies and a.to_dict()["time_cue"] is None


def test_the_answer_says_which_dates_it_was_read_from(dated):
    a = dated.ask("How many electric buses did the Riverton fleet have from 2018 to 2020?")
    assert a.text == "12" and {p.date[:4] for p in a.passages} == {"2019"}
    assert a.time_cue.describe() == (
        'Only articles published from 2018-01-01 to 2020-12-31 were read ("from 2018 to 2020").')
    assert dated.ask(BUSES_Q, since="2024-02-01").time_cue.describe() == (
        "Only articles published on or after 2024-02-01 were read.")
    assert dated.ask("What is the latest number of electric buses in the Riverton fleet?").time_cue.describe() == (
        'Newer articles were preferred ("latest").')
    plain = dated.ask(BUSES_Q)
    assert not plain.time_cue.applies and plain.to_dict()["time_cue"] is None
    # the one serialisation carries it and reads it back
    d = a.to_dict()
    assert d["time_cue"]["phrase"] == "from 2018 to 2020"
    assert type(a).from_dict(d).time_cue == a.time_cue


def test_since_until_in_ask_filter_and_win_over_the_question_s_cue(dated):
    a = dated.ask(BUSES_Q, since="2024-02-01", until="2024-02-29")
    assert a.text == "40" and {p.source for p in a.passages} == {"buses-feb.json"}
    a = dated.ask("What is the latest number of electric buses in the Riverton fleet in 2019?",
                  since="2024-02-01", until="2024-02-29")
    assert a.text == "40"
    # the caller's range is never dropped, even when no article is in it
    a = dated.ask(BUSES_Q, since="2030-01-01")
    assert not a.found and a.passages == ()


def test_a_range_still_gives_k_passages_when_enough_articles_are_in_it(dated):
    passages = dated.search(BUSES_Q, k=3, since="2024-01-01")
    assert len(passages) == 3
    assert {p.source for p in passages} == {"buses-feb.json", "buses-mar.json", "library.json"}


def test_ask_many_takes_one_range_per_question(dated):
    answers = dated.ask_many([BUSES_Q, BUSES_Q], since=["2019-01-01", "2024-03-01"],
                             until=["2019-12-31", None])
    assert [a.text for a in answers] == ["12", "50"]


@pytest.mark.parametrize("kw", [
    {"since": "2024-3-1"}, {"until": "12/03/2024"}, {"since": "2024-03-02", "until": "2024-03-01"},
])
def test_bad_dates_in_ask_raise_a_one_line_error(dated, kw):
    with pytest.raises(InvalidDateError) as e:
        dated.ask(BUSES_Q, **kw)
    assert "\n" not in str(e.value) and ("YYYY-MM-DD" in str(e.value) or "after" in str(e.value))


# ----------------------------------------------------------------------------- qa ask and qa batch

def test_qa_ask_since_until(capsys, dated):
    folders = ["--articles", str(dated.settings.articles_dir), "--index", str(dated.settings.index_dir)]
    code = main(["ask", BUSES_Q, *folders, "--since", "2024-02-01", "--until", "2024-02-29", "--json"])
    out, _ = capsys.readouterr()
    d = json.loads(out)
    assert code == 0 and d["answer"] == "40"
    assert {c["date"] for c in d["citations"]} == {"2024-02-02"}
    assert (d["time_cue"]["since"], d["time_cue"]["until"]) == ("2024-02-01", "2024-02-29")
    main(["ask", "How many electric buses did the Riverton fleet have in 2019?", *folders])
    out, _ = capsys.readouterr()
    assert out.splitlines()[0] == 'Only articles published from 2019-01-01 to 2019-12-31 were read ("in 2019").'


def test_qa_ask_bad_date_is_one_line_naming_the_format(capsys, dated):
    code = main(["ask", BUSES_Q, "--articles", str(dated.settings.articles_dir), "--since", "March 2024"])
    out, err = capsys.readouterr()
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and "--since must be a date written YYYY-MM-DD" in err


def test_batch_files_give_dates_per_question_and_options_the_default(tmp_path, dated):
    src = tmp_path / "q.csv"
    src.write_text(f"id,question,since,until\nold,{BUSES_Q},2019-01-01,2019-12-31\nfeb,{BUSES_Q},,2024-02-29\n"
                   f"plain,{BUSES_Q},,\n", encoding="utf-8")
    qs = read_questions(src).questions
    assert [(q.since, q.until) for q in qs] == [("2019-01-01", "2019-12-31"), (None, "2024-02-29"), (None, None)]
    out = tmp_path / "a.jsonl"
    # the default range fills the bounds a question leaves open: "feb" keeps its own until
    run_batch(dated, qs, out, since="2024-02-01", until="2024-03-31", progress=False)
    rows = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert rows["old"]["answer"] == "12" and rows["feb"]["answer"] == "40"
    assert rows["plain"]["answer"] in ("40", "50")  # February and March are both in the default range

    jl = tmp_path / "q.jsonl"
    jl.write_text(json.dumps({"id": "x", "question": BUSES_Q, "since": "2024-02-01", "until": "2024-02-29"}) + "\n",
                  encoding="utf-8")
    assert [(q.since, q.until) for q in read_questions(jl).questions] == [("2024-02-01", "2024-02-29")]


@pytest.mark.parametrize("name, text", [
    ("q.csv", f"question,since\n{BUSES_Q},March 2024\n"),
    ("q.jsonl", json.dumps({"question": BUSES_Q, "until": "2024-13-01"}) + "\n"),
    ("q.jsonl", json.dumps({"question": BUSES_Q, "until": 20240301}) + "\n"),
])
def test_a_bad_date_in_a_questions_file_names_its_line_and_the_format(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(QAError, match=r"line \d+: .*YYYY-MM-DD") as e:
        read_questions(path)
    assert "\n" not in str(e.value)


def test_qa_batch_bad_default_date(capsys, tmp_path):
    src = tmp_path / "q.txt"
    src.write_text(BUSES_Q + "\n", encoding="utf-8")
    code = main(["batch", str(src), "-o", str(tmp_path / "a.jsonl"), "--until", "soon"])
    _, err = capsys.readouterr()
    assert code != 0 and "--until must be a date written YYYY-MM-DD" in err


def test_time_cue_is_a_value():
    assert TimeCue("2024-01-01", None).filters and not NO_CUE.filters
    assert not TimeCue("2024-01-01", None, dropped=True).filters


def test_the_chat_reply_says_which_dates_were_read(dated):
    from ui.render import render_reply, reply_text

    a = dated.ask("How many electric buses did the Riverton fleet have in 2019?")
    sentence = 'Only articles published from 2019-01-01 to 2019-12-31 were read ("in 2019").'
    assert reply_text(a).splitlines()[0] == sentence
    assert f'<p class="qa-time">{sentence}</p>' in html.unescape(render_reply(a))
    assert "qa-time" not in render_reply(dated.ask(BUSES_Q))


def test_a_conversation_passes_its_date_filter_on(dated):
    from qa.conversation.chat import Conversation

    chat = Conversation(dated)
    assert chat.ask_turn(BUSES_Q, since="2024-02-01", until="2024-02-29").answer.text == "40"
    assert chat.ask_turn(BUSES_Q, since="2019-01-01", until="2019-12-31").answer.text == "12"
