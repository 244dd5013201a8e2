from __future__ import annotations

import json

import pytest

from qa.articles import article_id, decode_text, ArticleFileError, load_articles
from qa.errors import ArticlesNotFoundError


def test_loads_every_supported_format(tmp_path):
    (tmp_path / "a.txt").write_text("Plain title\n\nBody of the plain article.", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Markdown title\n\nSome *markdown* body.", encoding="utf-8")
    (tmp_path / "c.html").write_text(
        "<html><head><title>HTML title</title><script>alert('x')</script><style>p{color:red}</style></head>"
        "<body><nav><a href='/'>Home</a> | <a href='/news'>News</a></nav>"
        "<article><h1>HTML title</h1><p>The council approved the new bridge on Monday after a long debate "
        "about costs and the river traffic that it would bring to the old town.</p>"
        "<p>Construction is expected to start in the spring and to last two years.</p></article>"
        "<footer>Copyright 2024</footer></body></html>", encoding="utf-8")
    (tmp_path / "d.json").write_text(json.dumps({"title": "JSON title", "text": "JSON body text."}))
    (tmp_path / "e.jsonl").write_text(
        json.dumps({"id": "x1", "title": "First record", "text": "First body."}) + "\n\n"
        + json.dumps({"id": "x2", "text": "Second record line\nSecond body."}) + "\n")
    (tmp_path / "ignored.csv").write_text("not,an,article")
    res = load_articles(tmp_path)
    by_title = {a.title: a for a in res.articles}
    assert set(by_title) == {"Plain title", "Markdown title", "HTML title", "JSON title", "First record", "Second record line"}
    assert res.problems == []
    html = by_title["HTML title"].text
    assert "approved the new bridge" in html and "two years" in html
    assert "alert" not in html and "color:red" not in html and "Home" not in html
    assert by_title["Plain title"].text == "Plain title\n\nBody of the plain article."
    assert by_title["First record"].source == "e.jsonl#x1"


def test_ids_are_stable_and_depend_on_the_source(tmp_path):
    (tmp_path / "a.txt").write_text("Title\nBody one.")
    first = load_articles(tmp_path).articles[0]
    (tmp_path / "a.txt").write_text("Title\nBody one, edited.")
    second = load_articles(tmp_path).articles[0]
    assert first.id == second.id == article_id("a.txt")
    assert first.content_hash != second.content_hash


def test_identical_articles_are_kept_once_with_both_paths(tmp_path):
    (tmp_path / "a.txt").write_text("Same title\nSame body.")
    (tmp_path / "b.txt").write_text("Same title\nSame body.")
    res = load_articles(tmp_path)
    assert len(res.articles) == 1
    assert res.articles[0].source == "a.txt" and res.articles[0].duplicates == ("b.txt",)


def test_unreadable_files_are_reported_and_skipped(tmp_path):
    (tmp_path / "good.txt").write_text("Good title\nGood body.")
    (tmp_path / "empty.txt").write_text("   \n")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02garbage")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 au lait".encode("latin-1"))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "notext.json").write_text(json.dumps({"title": "no text"}))
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "missing.txt")
    (tmp_path / "bad.jsonl").write_text(json.dumps({"text": "ok line"}) + "\n{broken\n")
    res = load_articles(tmp_path)
    assert sorted(a.source for a in res.articles) == ["bad.jsonl#1", "good.txt"]
    text = "\n".join(res.problems)
    for name in ("empty.txt", "binary.txt", "latin1.txt", "broken.json", "notext.json", "dangling.txt", "bad.jsonl line 2"):
        assert name in text, name
    assert "UTF-8" in text and "binary" in text


def test_utf16_with_bom_is_decoded():
    assert decode_text("Héllo".encode("utf-16")) == "Héllo"
    assert decode_text("\ufeffHéllo".encode("utf-8")) == "Héllo"
    with pytest.raises(ArticleFileError):
        decode_text(b"\xff\xfe\x00")


def test_size_limit(tmp_path):
    (tmp_path / "big.txt").write_text("x" * 2000)
    res = load_articles(tmp_path, max_bytes=1000)
    assert res.articles == [] and "limit" in res.problems[0]


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ArticlesNotFoundError, match="does not exist"):
        load_articles(tmp_path / "nope")
