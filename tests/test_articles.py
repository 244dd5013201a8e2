from __future__ import annotations

import json

import pytest

from qa.articles import ArticleFileError, article_id, decode_text, load_articles
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
    assert set(by_title) == {
        "Plain title", "Markdown title", "HTML title", "JSON title", "First record", "Second record line"
    }
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
    for name in (
        "empty.txt", "binary.txt", "latin1.txt", "broken.json", "notext.json", "dangling.txt", "bad.jsonl line 2"
    ):
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


# ----------------------------------------------------------------------------- one bad file never stops the rest
def _one_good(folder):
    (folder / "good.txt").write_text("Good title\n\nThe mayor opened the bridge on Monday.", encoding="utf-8")


def _problem_for(result, name):
    (msg,) = [p for p in result.problems if p.startswith(name)]
    assert "\n" not in msg and msg.endswith("skipped")
    return msg


def test_a_named_pipe_is_skipped_not_waited_on(tmp_path):
    import os

    _one_good(tmp_path)
    os.mkfifo(tmp_path / "pipe.txt")  # nobody writes to it: reading it would block forever
    res = load_articles(tmp_path)
    assert [a.title for a in res.articles] == ["Good title"]
    assert "not a regular file" in _problem_for(res, "pipe.txt")


def test_a_link_to_a_device_is_skipped_not_read_without_end(tmp_path):
    _one_good(tmp_path)
    (tmp_path / "zero.txt").symlink_to("/dev/zero")
    res = load_articles(tmp_path)
    assert [a.title for a in res.articles] == ["Good title"]
    assert "not a regular file" in _problem_for(res, "zero.txt")


def test_a_file_over_the_limit_is_refused_after_reading_at_most_the_limit(tmp_path):
    from qa.articles import read_bytes_capped

    (tmp_path / "big.txt").write_bytes(b"x" * 101)
    with pytest.raises(ArticleFileError, match="over the"):
        read_bytes_capped(tmp_path / "big.txt", 100)
    assert read_bytes_capped(tmp_path / "big.txt", 101) == b"x" * 101


@pytest.mark.parametrize("name, payload", [
    ("deep.json", "[" * 100_000 + "]" * 100_000),
    ("deep.jsonl", '{"text": "fine line"}\n' + "[" * 100_000 + "]" * 100_000 + "\n"),
])
def test_deeply_nested_json_is_reported_and_the_rest_is_read(tmp_path, name, payload):
    _one_good(tmp_path)
    (tmp_path / name).write_text(payload, encoding="utf-8")
    res = load_articles(tmp_path)
    titles = sorted(a.title for a in res.articles)
    if name.endswith(".jsonl"):
        assert titles == ["Good title", "fine line"]  # the good line of the same file is kept
        (msg,) = [p for p in res.problems if p.startswith(name)]
        assert "line 2" in msg and "nested too deeply" in msg
    else:
        assert titles == ["Good title"]
        assert "nested too deeply" in _problem_for(res, name)


def test_a_lone_surrogate_in_json_becomes_a_replacement_character(tmp_path):
    (tmp_path / "s.json").write_text(
        '{"title": "Odd \\ud800 title", "text": "Body with \\udc00 in it."}', encoding="utf-8"
    )
    (art,) = load_articles(tmp_path).articles
    assert art.title == "Odd \ufffd title" and art.text == "Body with \ufffd in it."
    art.text.encode("utf-8")  # writable to the index as UTF-8
    assert json.loads(json.dumps(art.to_dict(), ensure_ascii=False))["text"] == art.text


def test_titles_and_ids_from_json_are_capped(tmp_path):
    from qa.articles import ID_MAX_CHARS, TITLE_MAX_CHARS

    rows = [{"id": "ok", "title": "T" * 1_000_000, "text": "Body one."},
            {"id": "i" * (ID_MAX_CHARS + 1), "title": "Long id", "text": "Body two."}]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    res = load_articles(tmp_path)
    (art,) = res.articles
    assert art.title == "T" * TITLE_MAX_CHARS and art.source == "a.jsonl#ok"
    (msg,) = res.problems
    assert msg.startswith("a.jsonl line 2") and "'id' longer than" in msg


def test_any_error_while_reading_one_file_skips_that_file_alone(tmp_path, monkeypatch):
    import qa.articles as articles

    def broken(html):
        raise TypeError("parser bug\nwith two lines")

    monkeypatch.setattr(articles, "html_to_text", broken)
    _one_good(tmp_path)
    (tmp_path / "page.html").write_text("<html><body><p>Hello</p></body></html>", encoding="utf-8")
    res = load_articles(tmp_path)
    assert [a.title for a in res.articles] == ["Good title"]
    assert "TypeError: parser bug with two lines" in _problem_for(res, "page.html")


def test_markdown_is_read_as_the_text_a_reader_sees(tmp_path):
    """No ``**``, ``#``, list marks or link targets reach the index; citations index into this converted text."""
    from qa.articles import markdown_to_text

    (tmp_path / "board.md").write_text(
        "# Tromso *Fishing* Board\n\n**Greta Halvorsen** was elected [chair](https://example.org/c) on Friday.\n"
        "She replaces `Odd Berg`.\n\n- first point\n- second point\n\n1. one\n2. two\n\n> A quote &amp; more.\n\n"
        "| Year | Catch |\n|---|---|\n| 2023 | 41 t |\n\n<div>Raw <b>html</b></div>\n", encoding="utf-8")
    article = load_articles(tmp_path).articles[0]
    assert article.title == "Tromso Fishing Board"
    assert article.text == (
        "Tromso Fishing Board\n\nGreta Halvorsen was elected chair on Friday.\nShe replaces Odd Berg.\n\n"
        "• first point\n• second point\n\n1. one\n2. two\n\nA quote & more.\n\nYear | Catch\n2023 | 41 t\n\nRaw html")
    for markup in ("**", "#", "](", "`", "<b>", "- first"):
        assert markup not in article.text
    assert markdown_to_text("Plain words.") == "Plain words."
    assert markdown_to_text("- a\n  - b\n- c") == "• a\n  • b\n• c"


def test_records_with_their_own_ids_keep_them_when_they_share_a_url(tmp_path):
    # two updates of one live page: both are articles, cited by the page's address
    (tmp_path / "live.jsonl").write_text(
        '{"id": "a1", "url": "https://example.org/live", "title": "Update 1", "text": "The dam was closed."}\n'
        '{"id": "a2", "url": "https://example.org/live", "title": "Update 2", "text": "The dam reopened."}\n')
    result = load_articles(tmp_path)
    assert result.problems == []
    assert sorted((a.title, a.source, a.duplicates) for a in result.articles) == [
        ("Update 1", "https://example.org/live", ("live.jsonl#a1",)),
        ("Update 2", "https://example.org/live", ("live.jsonl#a2",))]
    assert len({a.id for a in result.articles}) == 2
