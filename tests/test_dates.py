"""Article dates (qa.dates, qa.articles): from JSON fields, HTML metadata, JSON-LD, <time>, a dateline, else
the file time; and how a citation shows them."""

from __future__ import annotations

import json
import os
from datetime import date

import pytest

from qa.articles import load_articles
from qa.dates import dateline_date, html_date, parse_date, record_date
from qa.types import Citation, date_label

SAVED = 1_700_000_000  # 2023-11-14 22:13:20 UTC: the files' modification time
BODY = "<p>The council approved the new bridge on Monday after a long debate about its cost to the town.</p>"


def _folder(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        os.utime(tmp_path / name, (SAVED, SAVED))
    return {a.source: a for a in load_articles(tmp_path).articles}


def _html(head: str = "", body: str = BODY) -> str:
    return f"<html><head><title>Bridge approved</title>{head}</head><body><article>{body}</article></body></html>"


@pytest.mark.parametrize("field, value", [
    ("date", "2024-03-12"), ("published", "2024-03-12T09:30:00Z"), ("pubDate", "Tue, 12 Mar 2024 10:00:00 GMT"),
    ("published_at", "2024-03-12T23:30:00-05:00"), ("datePublished", "March 12, 2024"), ("publishedAt", 1710237600),
])
def test_a_json_record_s_date_field_is_its_date(tmp_path, field, value):
    arts = _folder(tmp_path, {"feed.jsonl": json.dumps({"id": "r1", "title": "T", "text": "Body.", field: value})})
    a = arts["feed.jsonl#r1"]
    assert (a.date, a.date_source) == ("2024-03-12", "metadata")  # the publisher's day, whatever the time zone


def test_a_record_without_a_readable_date_falls_back_to_its_dateline_then_the_file_time(tmp_path):
    records = [{"id": "partial", "text": "Body.", "date": "March 2024"},  # no day: no date
               {"id": "nonsense", "text": "Another body.", "published": "soon"},
               {"id": "line", "text": "PARIS, 5 June 2022 (AFP) - The Seine rose.", "date": None}]
    arts = _folder(tmp_path, {"f.json": json.dumps(records)})
    assert (arts["f.json#partial"].date, arts["f.json#partial"].date_source) == ("2023-11-14", "file time")
    assert (arts["f.json#nonsense"].date, arts["f.json#nonsense"].date_source) == ("2023-11-14", "file time")
    assert (arts["f.json#line"].date, arts["f.json#line"].date_source) == ("2022-06-05", "dateline")


@pytest.mark.parametrize("head, body, expected", [
    ('<meta property="article:published_time" content="2024-03-12T10:00:00Z">', BODY, "2024-03-12"),
    ('<meta name="date" content="2023-11-05">', BODY, "2023-11-05"),
    ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle", '
     '"datePublished": "2022-07-04T08:00:00+02:00"}</script>', BODY, "2022-07-04"),
    ("", f'<time datetime="2021-02-03T12:00">3 February</time>{BODY}', "2021-02-03"),
])
def test_an_html_page_s_metadata_gives_its_date(tmp_path, head, body, expected):
    arts = _folder(tmp_path, {"page.html": _html(head, body)})
    assert (arts["page.html"].date, arts["page.html"].date_source) == (expected, "metadata")
    assert html_date(_html(head, body)).date == expected


def test_an_html_page_without_date_metadata_falls_back_to_its_dateline(tmp_path):
    body = ("<p>WASHINGTON, 4 July 2022 - The council approved the new bridge on Monday after a long debate "
            "about its cost to the town.</p>")
    a = _folder(tmp_path, {"page.html": _html(body=body)})["page.html"]
    assert (a.date, a.date_source) == ("2022-07-04", "dateline")


def test_a_date_in_an_html_page_s_text_is_not_metadata():
    page = _html(body="<p>Officials met on 2019-05-05 to discuss the bridge and its cost to the old town.</p>")
    assert html_date(page) is None
    page = _html('<link rel="canonical" href="https://news.example/2018/01/02/bridge">')  # a date in a URL
    assert html_date(page) is None


@pytest.mark.parametrize("text, expected", [
    ("Bridge approved\n\nLONDON, March 12 (Reuters) - The council approved a bridge.", "2023-03-12"),
    ("NEW YORK, 12 March 2024 - The council approved a bridge.", "2024-03-12"),
    ("Bridge approved\n12 March 2024\n\nThe council approved a bridge.", "2024-03-12"),
    ("Bridge approved\nPublished: Tuesday, March 12, 2024 10:30 GMT\n\nThe council met.", "2024-03-12"),
])
def test_a_dateline_at_the_top_of_the_text_gives_the_date(tmp_path, text, expected):
    a = _folder(tmp_path, {"a.txt": text})["a.txt"]
    # a dateline without its year gets the year that puts it before the file was saved (November 2023)
    assert (a.date, a.date_source) == (expected, "dateline")


@pytest.mark.parametrize("text", [
    "Bridge approved\n\nThe council met on March 12 and approved a bridge.",  # a date inside a sentence
    "Bridge approved\nMarch 2024\n\nThe council met.",  # no day
    "One\nTwo\nThree\nFour\nFive\n12 March 2024\nThe council met.",  # too far from the top
    "Bridge approved\n12 March\n\nThe council met.",  # a bare date line without its year
    "Bridge approved\n\nin the end, March 12 - the day of the vote - was calm.",  # not a place before the date
])
def test_dates_that_are_not_a_dateline_are_left_alone(tmp_path, text):
    a = _folder(tmp_path, {"a.txt": text})["a.txt"]
    assert (a.date, a.date_source) == ("2023-11-14", "file time")


def test_a_yearless_dateline_takes_the_year_before_the_file_was_saved():
    assert dateline_date("LONDON, Dec 30 (Reuters) - x", date(2024, 1, 2)).date == "2023-12-30"
    assert dateline_date("LONDON, Jan 1 (Reuters) - x", date(2024, 1, 2)).date == "2024-01-01"


def test_the_file_time_is_the_last_resort_and_is_marked_as_such(tmp_path):
    arts = _folder(tmp_path, {"a.txt": "Bridge approved\n\nThe council approved a bridge.",
                              "b.md": "# Bridge\n\nThe council approved a bridge.", "c.html": _html()})
    for a in arts.values():
        assert (a.date, a.date_source) == ("2023-11-14", "file time"), a.source


def test_parse_date_wants_a_whole_plausible_date():
    assert parse_date("12 Mar 2024") == "2024-03-12"
    assert parse_date("2024-03") is None and parse_date("March") is None and parse_date("") is None
    assert parse_date("3024-01-01") is None  # in the future
    assert record_date({"date": True}) is None and record_date({"date": ["2024-03-12"]}) is None


def test_a_citation_shows_its_date_and_says_when_it_is_only_the_file_date():
    c = Citation("a1", "T", "a.txt", 0, 1, "x", 0, 1, date="2024-03-12", date_source="metadata")
    assert c.date_label == "2024-03-12"
    assert date_label("2023-11-14", "file time") == "2023-11-14 (file date)"
    assert date_label(None, None) is None
    assert Citation.from_dict(c.to_dict()) == c and c.to_dict()["date_source"] == "metadata"
