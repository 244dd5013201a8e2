"""ui.render: escaping, the bold answer in its sentence, citations and sources (no server)."""

from __future__ import annotations

import html
import re
from dataclasses import replace

from qa.answerers.protocol import cite
from qa.types import Answer, Passage
from ui.render import esc, excerpt, highlight, render_answer, render_question, render_reply

TEXT = ("Storm Hits Coast\n\nA storm hit the coast on Monday. Mayor Ana Ruiz said 300 homes lost power. "
        "Crews expect to restore it by Friday.")


def passage(text: str = TEXT, start: int = 0, title: str = "Storm Hits Coast", source: str = "storm.txt") -> Passage:
    return Passage(chunk_id=0, article_id="a1", title=title, source=source, start=start, end=start + len(text),
                   text=text, score=1.0, rank=1)


def span_answer(span: str, context: str | None = None, text: str = TEXT, **kw) -> Answer:
    p = passage(text, **kw)
    s = text.index(span)
    offset = None if context is None else p.start + text.index(context)
    return Answer(question="q", text=span, score=0.8, citations=[cite(p, s, s + len(span), 0.8)], passages=[p],
                  context=context, context_offset=offset)


def visible(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def test_esc_neutralises_html_markdown_and_newlines():
    out = esc('<script>alert(1)</script> <img src=x onerror="x()"> **b** [l](javascript:x) $x$ `c`\n\nnext')
    assert "<" not in out and ">" not in out and '"' not in out
    for ch in "*[]()$`_":
        assert ch not in out
    assert "\n" not in out
    assert html.unescape(out) == ('<script>alert(1)</script> <img src=x onerror="x()"> **b** [l](javascript:x) '
                                  '$x$ `c` next')


def test_short_answer_is_bold_inside_its_sentence_derived_from_the_passage():
    a = span_answer("300 homes")
    out = render_answer(a)
    assert '<p class="qa-answer">Mayor Ana Ruiz said <strong>300 homes</strong> lost power.<sup' in out
    assert "Answer: <strong>300 homes</strong>" in out
    assert "confidence 0.80" in out


def test_context_is_used_when_given():
    a = span_answer("Ana Ruiz", context="Mayor Ana Ruiz said 300 homes lost power.")
    assert "Mayor <strong>Ana Ruiz</strong> said 300 homes lost power." in render_answer(a)


def test_the_answer_is_highlighted_where_it_was_found_not_where_its_words_first_appear():
    text = "Storm Hits Coast\n\nOfficials said 300 homes lost power and 300 homes were flooded on Monday."
    context = "Officials said 300 homes lost power and 300 homes were flooded on Monday."
    p = passage(text)
    s = text.index("300 homes were")
    a = Answer(question="How many homes were flooded?", text="300 homes", score=0.8,
               citations=[cite(p, s, s + len("300 homes"), 0.8)], passages=[p], context=context,
               context_offset=text.index(context))
    out = render_answer(a)
    assert "lost power and <strong>300 homes</strong> were flooded" in out
    assert "said <strong>300 homes</strong>" not in out


def test_whole_sentence_answer_is_bold_without_repeating_it():
    sentence = "A storm hit the coast on Monday."
    out = render_answer(span_answer(sentence, context=sentence))
    assert f'<p class="qa-answer"><strong>{sentence}</strong>' in out
    assert "Answer:" not in out


def test_citations_are_numbered_and_sources_listed_with_offsets():
    a = span_answer("300 homes")
    c = a.citations[0]
    second = cite(passage(TEXT, title="Other", source="other.txt"), c.start, c.end)
    out = render_answer(replace(a, citations=(*a.citations, second)))
    assert out.count('class="qa-cite"') == 2 and "[1]" in out and "[2]" in out
    shown = visible(out)
    assert "Sources" in shown
    assert "Storm Hits Coast storm.txt" in shown and "Other other.txt" in shown
    assert out.count("<mark>300 homes</mark>") == 2
    # a reader sees title and file; the offsets are there for whoever opens the source's panel
    outside = re.sub(r"<details.*?</details>", "", out)
    assert "characters" not in visible(outside)
    panels = re.findall(r'<details class="qa-article">(.*?)</details>', out)
    assert len(panels) == 2
    assert re.search(rf"storm\.txt ?, characters {c.start}–{c.end}; its passage at characters 0–{len(TEXT)}",
                     visible(panels[0]))


def test_a_source_opens_on_its_whole_article_with_the_answer_marked():
    from qa.types import Article

    body = ("Storm <b>Hits</b> Coast\n\nA storm hit the coast on Monday.\n\n" + "Filler sentence here. " * 30
            + "Mayor Ana Ruiz said 300 homes lost power.\nCrews expect to restore it by Friday.")
    a = span_answer("300 homes", text=body)
    article = Article(id="a1", title="Storm Hits Coast", text=body, source="storm.txt", content_hash="h")
    out = render_answer(a, {"a1": article})
    panel = re.search(r'<div class="qa-article-text">(.*?)</div>', out).group(1)
    assert panel.startswith("Storm &#60;b&#62;Hits&#60;/b&#62; Coast<br><br>A storm hit")  # lines kept, escaped
    assert "said <mark>300 homes</mark> lost power.<br>Crews expect" in panel
    assert "<b>" not in out
    # the quoted passage is cut around the answer; the panel has the rest
    quote = re.search(r'<blockquote class="qa-passage">(.*?)</blockquote>', out).group(1)
    assert "A storm hit" not in quote and "A storm hit" in panel
    assert '<sup class="qa-cite"><button type="button"' in out  # [1] is a button that opens the panel


def test_a_long_article_panel_is_cut_around_the_answer():
    from ui.render import article_panel

    text = "start " + "word " * 5000 + "ANSWER" + " more" * 5000
    i = text.index("ANSWER")
    out = article_panel(text, i, i + 6, width=100)
    assert out.startswith("… word ") and out.endswith(" more …") and "<mark>ANSWER</mark>" in out
    assert 200 < len(out) < 300


def test_the_copy_text_is_plain_with_citations_as_text():
    from ui.render import reply_text

    a = span_answer("300 homes")
    text = reply_text(a, "How many homes lost power?", "How many homes lost power?")
    assert text.splitlines() == [
        "Mayor Ana Ruiz said 300 homes lost power. [1]",
        "Answer: 300 homes",
        "",
        "Sources:",
        f"[1] Storm Hits Coast (storm.txt): “{' '.join(TEXT.split())}”",
    ]
    out = render_reply(a, "How many homes lost power?", "How many homes lost power?")
    hidden = re.search(r'<div class="qa-copytext" hidden>(.*?)</div>', out).group(1)
    assert html.unescape(hidden) == text
    assert 'class="qa-copy"' in out
    evil = span_answer("said", text="T\n\nThe mayor <script>x()</script> said **yes**.")
    assert "<script" not in render_reply(evil, "q", "q")
    nothing = Answer(question="q", text=None, score=0.1, passages=[passage()])
    assert reply_text(nothing).startswith(
        "The articles don't say.\n\nClosest passages:\n1. Storm Hits Coast (storm.txt)"
    )


def test_an_error_is_marked_as_an_error():
    from ui.render import render_error

    out = render_error("the index <b>is</b> gone")
    assert 'class="qa-error"' in out and "<b>" not in out and "qa-copy" not in out


def test_passage_excerpt_is_cut_around_the_answer():
    long = ("word " * 200) + "The answer is here. " + ("more " * 200)
    a = span_answer("answer", text=long)
    out = render_answer(a)
    quote = re.search(r'<blockquote class="qa-passage">(.*?)</blockquote>', out).group(1)
    assert quote.startswith("… ") and quote.endswith(" …") and "<mark>answer</mark>" in quote
    assert len(visible(quote)) < 400


def test_no_answer_says_so_and_lists_closest_passages():
    a = Answer(question="q", text=None, score=0.1, passages=[passage(), passage(title="Second", source="b.txt")],
               message="The articles do not contain an answer to this question.")
    out = render_answer(a)
    shown = visible(out)
    assert shown.startswith("The articles don't say. Closest passages (2)")  # said once, not twice
    assert "do not contain" not in shown
    assert "Storm Hits Coast storm.txt" in shown and "Second b.txt" in shown
    assert "Sources" not in shown
    assert '<details class="qa-sources"><summary' in out  # collapsed until asked for


def test_article_markup_is_escaped_everywhere():
    evil = ('Title <b>x</b>\n\nThe mayor <script>window.__pwned=1</script> said '
            '<img src=x onerror="window.__pwned=1"> yes.')
    a = span_answer("said", text=evil, title="T <i>i</i>", source="e<v>il.txt")
    out = render_reply(a, question="Did <u>he</u> say?", understood="Did the <u>mayor</u> say?")
    for tag in ("<script", "<img", "<b>", "<i>", "<u>", "<v>"):
        assert tag not in out
    shown = visible(out)
    assert "<script>window.__pwned=1</script>" in shown and 'onerror="window.__pwned=1"' in shown
    assert "Understood as: Did the <u>mayor</u> say?" in shown
    assert "<u>" not in render_question("<u>x</u>")


def test_understood_question_shown_only_when_rewritten():
    a = span_answer("300 homes")
    assert "Understood as" not in render_reply(a, "How many homes?", "How many homes?")
    assert "Understood as" in render_reply(a, "How many did she count?", "How many did Ana Ruiz count?")


def test_excerpt_and_highlight_edges():
    assert excerpt("abc def", 0, 3, width=100) == ("", "abc", " def", False, False)
    assert highlight("abc def", 4, 7, width=None) == "abc <mark>def</mark>"


def test_a_rewrite_note_is_shown_escaped_with_or_without_a_rewrite():
    a = span_answer("said")
    out = render_reply(a, "Where did he go?", "Where did he go?", note="Asked as typed: could not tell who 'he' is.")
    assert visible(out).startswith("Asked as typed: could not tell who 'he' is.")
    assert "Understood as" not in out and 'class="qa-understood qa-rewrite-note"' in out
    out = render_reply(a, "Why?", "Why did <b>X</b> go?", note="Read as <i>a guess</i>.")
    assert "Understood as: Why did <b>X</b> go? Read as <i>a guess</i>." in visible(out)
    assert "<b>" not in out and "<i>" not in out
    assert "qa-rewrite-note" not in render_reply(a, "Why?", "Why did X go?")


def test_the_confidence_is_shown_in_words_and_an_evidence_sentence_is_labelled():
    from dataclasses import replace

    a = span_answer("said")
    shown = visible(render_answer(replace(a, score=0.93)))
    assert "High confidence (0.93)" in shown and "From the article" not in shown
    low = visible(render_answer(replace(a, score=0.2)))
    assert "Low confidence (0.20)" in low and "Possible answer: " in low and "Answer: " not in low.replace(
        "Possible answer: ", "")
    evidence = visible(render_answer(replace(a, score=0.6, kind="evidence")))
    assert "From the article (no short answer to this kind of question)" in evidence
    assert "Medium confidence (0.60)" in evidence


def test_each_source_shows_its_article_s_date_and_marks_a_file_date():
    from qa.types import Article

    a = span_answer("300 homes")
    c = a.citations[0]
    dated = replace(c, date="2024-03-12", date_source="metadata")
    saved = replace(c, article_id="a2", title="Other", source="other.txt", date="2024-05-01", date_source="file time")
    out = render_answer(replace(a, citations=(dated, saved)))
    heads = re.findall(r'<div class="qa-source-head">(.*?)</div>', out)
    assert [visible(h) for h in heads] == ["Storm Hits Coast storm.txt 2024-03-12",
                                          "Other other.txt 2024-05-01 (file date)"]
    assert f'<span class="qa-date">{esc("2024-03-12")}</span>' in heads[0]
    # the article, when the panel has it, says the same; an undated citation (an index not yet refreshed) shows none
    article = Article(id="a1", title="Storm Hits Coast", text=TEXT, source="storm.txt", content_hash="h",
                      date="2024-03-12", date_source="dateline")
    assert f'<span class="qa-date">{esc("2024-03-12")}</span>' in render_answer(a, {"a1": article})
    assert "qa-date" not in render_answer(a)
    # the copied text and the closest passages of a no-answer carry it too
    from ui.render import reply_text

    text = reply_text(replace(a, citations=(saved,)))
    assert text.splitlines()[-1].startswith("[1] Other (other.txt, 2024-05-01 (file date)): “")
    p = replace(passage(), date="2024-03-12", date_source="dateline")
    nothing = Answer(question="q", text=None, score=0.1, passages=[p])
    assert "Storm Hits Coast storm.txt 2024-03-12" in visible(render_answer(nothing))
    assert "1. Storm Hits Coast (storm.txt, 2024-03-12): “" in reply_text(nothing)
