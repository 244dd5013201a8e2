"""Turn answers into safe HTML for the chat: pure functions, no server needed.

    from ui.render import render_reply
    html = render_reply(answer, question="Where did he go?", understood="Where did Guaido go?")

Everything that comes from an article or a person (answer, passages, titles, sources, questions) goes
through :func:`esc` (or :func:`esc_lines`), which HTML-escapes it and also turns Markdown's special
characters into character references, so an article holding ``<script>``, ``<img onerror=...>`` or a
Markdown link renders as plain text. Replies are a single HTML block without blank lines, so the chat's
Markdown renderer passes them through as they are (and its HTML sanitiser still runs after).

Each reply carries its own plain-text version (:func:`reply_text`) in a hidden element, which the page's
copy buttons put on the clipboard instead of the HTML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from qa.answerers.protocol import NO_ANSWER_MESSAGE
from qa.sentences import sentence_around
from qa.types import Answer, Article, Citation, Passage, confidence_level, date_label

NO_ANSWER_TEXT = "The articles don't say."
EXCERPT_CHARS = 160      # characters of passage quoted on each side of the answer (the rest: in the article panel)
PASSAGE_CHARS = 320      # characters quoted of a closest passage on a no-answer
ARTICLE_WINDOW = 6000    # characters of article shown on each side of the answer in its panel
CLOSEST_PASSAGES = 3

# Markdown / math / autolink characters, written as character references (the browser shows them as is).
_MD_ESCAPES = {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-!|~$:@<>"}
_MD_ESCAPES.update({"&": "&amp;", '"': "&quot;", "'": "&#x27;"})


def esc(text: object) -> str:
    """``text`` as inert HTML: tags, entities, Markdown and math syntax all shown literally; runs of
    whitespace (newlines included) become one space, so no blank line can end the HTML block."""
    s = " ".join(str(text).split())
    return "".join(_MD_ESCAPES.get(c, c) for c in s)


def excerpt(text: str, start: int, end: int, width: int = EXCERPT_CHARS) -> tuple[str, str, str, bool, bool]:
    """``(before, span, after, cut_left, cut_right)``: ``text[start:end]`` with up to ``width`` characters of
    context each side, cut at word boundaries."""
    start, end = max(0, start), min(len(text), end)
    lo, hi = max(0, start - width), min(len(text), end + width)
    if lo > 0:
        sp = text.find(" ", lo, start)
        lo = sp + 1 if sp != -1 else lo
    if hi < len(text):
        sp = text.rfind(" ", end, hi)
        hi = sp if sp != -1 else hi
    return text[lo:start], text[start:end], text[end:hi], lo > 0, hi < len(text)


def highlight(text: str, start: int, end: int, width: int | None = EXCERPT_CHARS, tag: str = "mark") -> str:
    """Escaped ``text`` with ``text[start:end]`` wrapped in ``<tag>`` (``width=None``: the whole text)."""
    if width is None:
        before, span, after, cl, cr = text[:start], text[start:end], text[end:], False, False
    else:
        before, span, after, cl, cr = excerpt(text, start, end, width)
    return (("… " if cl else "") + esc(before) + (" " if before[-1:].isspace() else "")
            + f"<{tag}>{esc(span)}</{tag}>" + (" " if after[:1].isspace() else "") + esc(after)
            + (" …" if cr else ""))


def answer_sentence(answer: Answer) -> tuple[str, int, int]:
    """``(sentence, start, end)``: the sentence the answer came from and the answer's place in it."""
    assert answer.text is not None
    where = answer.span_in_context
    if where is not None:
        assert answer.context is not None
        return answer.context, where[0], where[1]
    if answer.citations:
        c = answer.citations[0]
        rs, re_ = c.start - c.passage_start, c.end - c.passage_start
        if 0 <= rs < re_ <= len(c.passage) and c.passage[rs:re_] == answer.text:
            s, e = sentence_around(c.passage, rs, re_)
            return c.passage[s:e], rs - s, re_ - s
    return answer.text, 0, len(answer.text)


def esc_lines(text: str) -> str:
    """Like :func:`esc`, but line breaks stay (as ``<br>``, a run of blank lines as one)."""
    return re.sub(r"(?:<br>){3,}", "<br><br>", "<br>".join(esc(line) for line in text.split("\n")))


def _between(text: str) -> tuple[str, str]:
    """Spaces to put back around ``text`` once escaped (:func:`esc` trims its edges)."""
    return (" " if text[:1] in (" ", "\t") else ""), (" " if text[-1:] in (" ", "\t") else "")


def article_date(article: Article | None, cited: Citation | Passage | None = None) -> str | None:
    """The date to show beside an article's title: the article's, else the one its citation or passage
    carries; ``2024-03-12 (file date)`` when it is only the file's modification time. ``None`` when unknown
    (an index written before dates, until its next refresh)."""
    for record in (article, cited):
        if record is not None and record.date:
            return date_label(record.date, record.date_source)
    return None


def location(source: str, start: int, end: int) -> str:
    return f"<code>{esc(source)}</code>, characters {start}–{end}"


def article_panel(text: str, start: int, end: int, width: int = ARTICLE_WINDOW) -> str:
    """``text`` (an article) escaped with its lines, ``text[start:end]`` in ``<mark>``; a long article is
    cut to ``width`` characters each side, at line breaks or spaces."""
    lo, hi = max(0, start - width), min(len(text), end + width)
    if lo > 0:  # from the first word that starts inside the window
        cuts = [i for i in (text.find(" ", lo, start), text.find("\n", lo, start)) if i >= 0]
        lo = min(cuts) + 1 if cuts else lo
    if hi < len(text):  # to the last word that ends inside it
        cut = max(text.rfind(" ", end, hi), text.rfind("\n", end, hi))
        hi = cut if cut >= 0 else hi
    before, span, after = text[lo:start], text[start:end], text[end:hi]
    _, gap_before = _between(before)
    gap_after, _ = _between(after)
    return (("… " if lo > 0 else "") + esc_lines(before) + gap_before + f"<mark>{esc_lines(span)}</mark>"
            + gap_after + esc_lines(after) + (" …" if hi < len(text) else ""))


def _source_head(title: str, source: str, article: Article | None, cited: Citation | Passage) -> str:
    date = article_date(article, cited)
    when = f' <span class="qa-date">{esc(date)}</span>' if date else ""
    return (f'<div class="qa-source-head"><span class="qa-source-title">{esc(title) or "(untitled)"}</span> '
            f'<span class="qa-file">{esc(source)}</span>{when}</div>')


def _panel(article: Article | None, start: int, end: int, where: str) -> str:
    """The article behind a toggle, with the cited part marked, then the exact offsets."""
    text = (f'<div class="qa-article-text">{article_panel(article.text, start, end)}</div>'
            if article is not None else "")
    return (f'<details class="qa-article"><summary>Show in the article</summary>{text}'
            f'<p class="qa-where">{where}</p></details>')


def render_citation(i: int, c: Citation, article: Article | None = None, answer_text: str | None = None) -> str:
    """One source: its title, file and date, the passage with the cited words marked, and the article behind a
    toggle; an article that words the answer differently from ``answer_text`` ("fifty" for "50") says how."""
    rs, re_ = c.start - c.passage_start, c.end - c.passage_start
    where = (f"The answer is at {location(c.source, c.start, c.end)}; its passage at characters "
             f"{c.passage_start}–{c.passage_end}.")
    worded = (f'<p class="qa-worded">This article words it “{esc(c.text)}”.</p>'
              if answer_text is not None and c.text and c.text != answer_text else "")
    return (f'<li class="qa-source">{_source_head(c.title, c.source, article, c)}{worded}'
            f'<blockquote class="qa-passage">{highlight(c.passage, rs, re_)}</blockquote>'
            f'{_panel(article, c.start, c.end, where)}</li>')


def render_alternatives(answer: Answer, articles: Mapping[str, Article]) -> str:
    """The different answers other articles give, each with its sources and their dates (outside the
    numbered sources, which the citation marks open)."""
    if not answer.alternatives:
        return ""
    items = []
    for alt in answer.alternatives:
        sources = "".join(render_citation(0, c, articles.get(c.article_id), alt.text) for c in alt.citations)
        n = len(alt.citations)
        items.append(f'<li class="qa-alternative"><p><strong>{esc(alt.text)}</strong> '
                     f'<span class="qa-meta">({n} article{"s" if n != 1 else ""})</span></p><ul>{sources}</ul></li>')
    return (f'<div class="qa-alternatives"><p class="qa-sources-title">Other articles say</p>'
            f'<ol>{"".join(items)}</ol></div>')


def _cut(text: str, chars: int) -> tuple[str, bool]:
    """The first ``chars`` characters of ``text`` (at a space), and whether it was cut."""
    if len(text) <= chars:
        return text, False
    words = text[:chars]
    return (words[: words.rfind(" ")] if " " in words else words), True


def render_passage(p: Passage, article: Article | None = None) -> str:
    words, cut = _cut(p.text, PASSAGE_CHARS)
    where = f"The passage is at {location(p.source, p.start, p.end)}."
    return (f'<li class="qa-source">{_source_head(p.title, p.source, article, p)}'
            f'<blockquote class="qa-passage">{esc(words)}{" …" if cut else ""}</blockquote>'
            f'{_panel(article, p.start, p.end, where)}</li>')


def render_understood(question: str | None, understood: str | None, note: str | None = None) -> str:
    """How a follow-up was read ("Understood as: ..."), and the rewriter's note when it was unsure."""
    note_html = f'<div class="qa-understood qa-rewrite-note">{esc(note)}</div>' if note else ""
    if not _rewritten(question, understood):
        return note_html
    return f'<div class="qa-understood">Understood as: <em>{esc(understood)}</em></div>{note_html}'


def _rewritten(question: str | None, understood: str | None) -> bool:
    if not understood or question is None:
        return False
    return " ".join(question.split()) != " ".join(understood.split())


def _cite_mark(i: int) -> str:
    return (f'<sup class="qa-cite"><button type="button" class="qa-cite-button" '
            f'title="Show source {i} in its article">[{i}]</button></sup>')


def render_answer(answer: Answer, articles: Mapping[str, Article] | None = None) -> str:
    """The answer in its sentence, bold, with numbered citation marks (each opens its source's article),
    then the sources."""
    articles = articles or {}
    if answer.text is None:
        return render_no_answer(answer, articles=articles)
    sentence, s, e = answer_sentence(answer)
    marks = "".join(_cite_mark(i) for i in range(1, len(answer.citations) + 1))
    body = highlight(sentence, s, e, width=None, tag="strong")
    short = answer.text.strip() != sentence.strip()
    lines = [f'<p class="qa-answer">{body}{marks}</p>']
    meta = f'{answer.label}: <strong>{esc(answer.text)}</strong> · ' if short else ""
    if answer.kind == "evidence":  # a sentence, not a short answer: say so, so nobody reads it as one
        meta = "From the article (no short answer to this kind of question) · "
    level = confidence_level(answer.score)
    lines.append(f'<p class="qa-meta">{meta}<span title="confidence {answer.score:.2f}">{level} confidence</span>'
                 f' ({answer.score:.2f})</p>')
    if answer.message and (len(answer.citations) > 1 or answer.alternatives):
        # how many articles agree, and what the others say with their dates
        lines.append(f'<p class="qa-agreement">{esc(answer.message)}</p>')
    if answer.citations:
        items = "".join(render_citation(i, c, articles.get(c.article_id), answer.text)
                        for i, c in enumerate(answer.citations, 1))
        lines.append(f'<div class="qa-sources"><p class="qa-sources-title">Sources</p><ol>{items}</ol></div>')
    lines.append(render_alternatives(answer, articles))
    return "".join(lines)


def _no_answer_message(answer: Answer) -> str:
    # the engine's standard message says what the headline already says: show only a different one
    return "" if answer.message in ("", NO_ANSWER_MESSAGE) else answer.message


def render_no_answer(answer: Answer, n: int = CLOSEST_PASSAGES, articles: Mapping[str, Article] | None = None) -> str:
    """Says plainly that the articles don't say, and shows the closest passages."""
    articles = articles or {}
    msg = _no_answer_message(answer)
    lines = [f'<p class="qa-noanswer"><strong>{NO_ANSWER_TEXT}</strong>{" " + esc(msg) if msg else ""}</p>']
    passages: Sequence[Passage] = answer.passages[:n]
    if passages:
        # collapsed: for an unrelated question they are noise, for a near miss they are worth a click
        items = "".join(render_passage(p, articles.get(p.article_id)) for p in passages)
        lines.append(f'<details class="qa-sources"><summary class="qa-sources-title">Closest passages '
                     f'({len(passages)})</summary><ol>{items}</ol></details>')
    return "".join(lines)


def reply_text(answer: Answer, question: str | None = None, understood: str | None = None,
               note: str | None = None) -> str:
    """The reply as plain text, for the clipboard: how the question was read, the answer in its sentence
    with its citation numbers, then each source as its title, file and quoted passage."""
    lines = [f"Understood as: {understood}"] if _rewritten(question, understood) else []
    lines += [note] if note else []
    lines += [answer.time_cue.describe()] if answer.time_cue.applies else []
    if answer.text is None:
        msg = _no_answer_message(answer)
        lines.append(NO_ANSWER_TEXT + (f" {msg}" if msg else ""))
        passages = answer.passages[:CLOSEST_PASSAGES]
        if passages:
            lines += ["", "Closest passages:"]
            for i, p in enumerate(passages, 1):
                words, cut = _cut(" ".join(p.text.split()), PASSAGE_CHARS)
                lines.append(f"{i}. {p.title} ({_with_date(p.source, p)}): “{words}{' …' if cut else ''}”")
        return "\n".join(lines)
    sentence, _s, _e = answer_sentence(answer)
    marks = "".join(f"[{i}]" for i in range(1, len(answer.citations) + 1))
    lines.append(" ".join(sentence.split()) + (f" {marks}" if marks else ""))
    if answer.text.strip() != sentence.strip():
        lines.append(f"{answer.label}: {' '.join(answer.text.split())}")
    if answer.message and (len(answer.citations) > 1 or answer.alternatives):
        lines.append(answer.message)
    if answer.citations:
        lines += ["", "Sources:"]
        for i, c in enumerate(answer.citations, 1):
            lines.append(f"[{i}] {c.title} ({_with_date(c.source, c)}): “{_quote(c)}”")
    for alt in answer.alternatives:
        lines += ["", f"Other articles say: {' '.join(alt.text.split())}"]
        lines += [f"- {c.title} ({_with_date(c.source, c)}): “{_quote(c)}”" for c in alt.citations]
    return "\n".join(lines)


def _quote(c: Citation) -> str:
    before, span, after, cl, cr = excerpt(c.passage, c.start - c.passage_start, c.end - c.passage_start)
    return " ".join(f"{'… ' if cl else ''}{before}{span}{after}{' …' if cr else ''}".split())


def _with_date(source: str, cited: Citation | Passage) -> str:
    label = article_date(None, cited)
    return f"{source}, {label}" if label else source


COPY_BUTTON = ('<button type="button" class="qa-copy" title="Copy this answer and its sources as plain text">'
               'Copy</button>')


def render_reply(answer: Answer, question: str | None = None, understood: str | None = None,
                 note: str | None = None, articles: Mapping[str, Article] | None = None) -> str:
    """One chat reply: how the question was understood (when rewritten, or a note when the rewriter was
    unsure), the answer, its sources (``articles``, by id, give the panels with the whole article), a copy
    button and the plain text it copies."""
    # line breaks as character references: the hidden element's text (what is copied) keeps them
    copy = "&#10;".join(esc(line) for line in reply_text(answer, question, understood, note).split("\n"))
    return (f'<div class="qa-reply">{render_understood(question, understood, note)}{render_time(answer)}'
            f'{render_answer(answer, articles)}{COPY_BUTTON}<div class="qa-copytext" hidden>{copy}</div></div>')


def render_time(answer: Answer) -> str:
    """Which articles the answer was read from, when a date range or "latest" narrowed or ordered them."""
    if not answer.time_cue.applies:
        return ""
    return f'<p class="qa-time">{esc(answer.time_cue.describe())}</p>'


def render_error(message: str) -> str:
    """Why a question got no answer (a failure, not an answer: the page shows no thumbs under it)."""
    return (f'<div class="qa-reply qa-failed"><p class="qa-error" role="alert"><strong>Not answered:</strong> '
            f'{esc(message)}</p></div>')


def render_pending(queued: bool = False) -> str:
    """The placeholder under a question until its reply comes."""
    text = ("Waiting: it is answered after your question before it." if queued
            else "Looking through the articles…")
    return f'<div class="qa-pending"><em>{text}</em></div>'


def render_question(question: str) -> str:
    """A person's question, shown as typed but inert."""
    return f'<div class="qa-question">{esc(question)}</div>'
