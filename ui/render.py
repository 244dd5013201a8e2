"""Turn answers into safe HTML for the chat: pure functions, no server needed.

    from ui.render import render_reply
    html = render_reply(answer, question="Where did he go?", understood="Where did Guaido go?")

Everything that comes from an article or a person (answer, passages, titles, sources, questions) goes
through :func:`esc`, which HTML-escapes it and also turns Markdown's special characters into character
references, so an article holding ``<script>``, ``<img onerror=...>`` or a Markdown link renders as
plain text. Replies are a single HTML block without blank lines, so the chat's Markdown renderer passes
them through as they are (and its HTML sanitiser still runs after).
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.answering import NO_ANSWER_MESSAGE
from qa.sentences import sentence_around
from qa.types import Answer, Citation, Passage

NO_ANSWER_TEXT = "The articles don't say."
EXCERPT_CHARS = 260      # characters of passage shown on each side of the answer
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
    if answer.context and answer.text in answer.context:
        i = answer.context.find(answer.text)
        return answer.context, i, i + len(answer.text)
    if answer.citations:
        c = answer.citations[0]
        rs, re_ = c.start - c.passage_start, c.end - c.passage_start
        if 0 <= rs < re_ <= len(c.passage) and c.passage[rs:re_] == answer.text:
            s, e = sentence_around(c.passage, rs, re_)
            return c.passage[s:e], rs - s, re_ - s
    return answer.text, 0, len(answer.text)


def location(source: str, start: int, end: int) -> str:
    return f"<code>{esc(source)}</code>, characters {start}–{end}"


def render_citation(i: int, c: Citation) -> str:
    rs, re_ = c.start - c.passage_start, c.end - c.passage_start
    return (f'<li id="qa-src-{i}" class="qa-source"><span class="qa-source-title">{esc(c.title) or "(untitled)"}</span>'
            f' <span class="qa-where">{location(c.source, c.start, c.end)} (passage {c.passage_start}–'
            f'{c.passage_end})</span><blockquote class="qa-passage">{highlight(c.passage, rs, re_)}</blockquote></li>')


def render_passage(p: Passage) -> str:
    words = p.text[:EXCERPT_CHARS * 2]
    cut = len(p.text) > len(words)
    if cut and " " in words:
        words = words[: words.rfind(" ")]
    return (f'<li class="qa-source"><span class="qa-source-title">{esc(p.title) or "(untitled)"}</span>'
            f' <span class="qa-where">{location(p.source, p.start, p.end)}</span>'
            f'<blockquote class="qa-passage">{esc(words)}{" …" if cut else ""}</blockquote></li>')


def render_understood(question: str | None, understood: str | None, note: str | None = None) -> str:
    """How a follow-up was read ("Understood as: ..."), and the rewriter's note when it was unsure."""
    note_html = f'<div class="qa-understood qa-rewrite-note">{esc(note)}</div>' if note else ""
    if not understood or question is None or " ".join(question.split()) == " ".join(understood.split()):
        return note_html
    return f'<div class="qa-understood">Understood as: <em>{esc(understood)}</em></div>{note_html}'


def render_answer(answer: Answer) -> str:
    """The answer in its sentence, bold, with numbered citation marks, then the sources."""
    if answer.text is None:
        return render_no_answer(answer)
    sentence, s, e = answer_sentence(answer)
    marks = "".join(f'<sup class="qa-cite">[{i}]</sup>' for i in range(1, len(answer.citations) + 1))
    body = highlight(sentence, s, e, width=None, tag="strong")
    short = answer.text.strip() != sentence.strip()
    lines = [f'<p class="qa-answer">{body}{marks}</p>']
    meta = f'Answer: <strong>{esc(answer.text)}</strong> · ' if short else ""
    lines.append(f'<p class="qa-meta">{meta}confidence {answer.score:.2f}</p>')
    if answer.citations:
        items = "".join(render_citation(i, c) for i, c in enumerate(answer.citations, 1))
        lines.append(f'<div class="qa-sources"><p class="qa-sources-title">Sources</p><ol>{items}</ol></div>')
    return "".join(lines)


def render_no_answer(answer: Answer, n: int = CLOSEST_PASSAGES) -> str:
    """Says plainly that the articles don't say, and shows the closest passages."""
    # the engine's standard message says what the headline already says: show only a different one
    msg = "" if answer.message in ("", NO_ANSWER_MESSAGE) else f" {esc(answer.message)}"
    lines = [f'<p class="qa-noanswer"><strong>{NO_ANSWER_TEXT}</strong>{msg}</p>']
    passages: Sequence[Passage] = answer.passages[:n]
    if passages:
        # collapsed: for an unrelated question they are noise, for a near miss they are worth a click
        items = "".join(render_passage(p) for p in passages)
        lines.append(f'<details class="qa-sources"><summary class="qa-sources-title">Closest passages '
                     f'({len(passages)})</summary><ol>{items}</ol></details>')
    return "".join(lines)


def render_reply(answer: Answer, question: str | None = None, understood: str | None = None,
                 note: str | None = None) -> str:
    """One chat reply: how the question was understood (when rewritten, or a note when the rewriter was
    unsure), the answer, its sources."""
    return f'<div class="qa-reply">{render_understood(question, understood, note)}{render_answer(answer)}</div>'


def render_error(message: str) -> str:
    return f'<div class="qa-reply"><p class="qa-error">{esc(message)}</p></div>'


def render_question(question: str) -> str:
    """A person's question, shown as typed but inert."""
    return f'<div class="qa-question">{esc(question)}</div>'
