"""Span decoding: the best spans of a window from its start/end logits, and the repair of their edges.

    from qa.reader.spans import window_candidates, trim_span, repair_span
    null, cands = window_candidates(feature, start_logits, end_logits)   # SpanCandidate, best first
    start, end = trim_span(text, c.start_char, c.end_char)              # no stray punctuation or quotes
    start, end = repair_span(text, start, end, question)                # no glued question word or "and"

The ``[CLS]`` position stands for "no answer": a window's *null score* is ``start[CLS] + end[CLS]`` and a
span's *margin* is ``start[i] + end[j] - null``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from qa.answerers.answer_types import words
from qa.reader.features import Feature

DEFAULT_MAX_ANSWER_TOKENS = 30

# characters trimmed from the edges of an extracted span (text and offsets move together)
_EDGE_STRIP = " \t\r\n\u00a0,;:"
_QUOTE_PAIRS = {('"', '"'), ("\u201c", "\u201d"), ("'", "'"), ("\u2018", "\u2019")}
_QUOTES = "\"\u201c\u201d\u2018\u2019"


@dataclass(frozen=True)
class SpanCandidate:
    pair_index: int
    start_char: int
    end_char: int
    score: float  # start + end logit
    null_score: float  # that window's start[CLS] + end[CLS]

    @property
    def margin(self) -> float:
        return self.score - self.null_score


def window_candidates(
    feat: Feature, start_logits, end_logits, max_answer_tokens: int = DEFAULT_MAX_ANSWER_TOKENS, n_best: int = 5
) -> tuple[float, list[SpanCandidate]]:
    """Best spans of one window (numpy 1-d logits over its tokens) and the window's null score."""
    s = np.asarray(start_logits, dtype=np.float64)
    e = np.asarray(end_logits, dtype=np.float64)
    null = float(s[0] + e[0])
    a, b = feat.context_start_token, feat.context_end_token + 1
    cs, ce = s[a:b], e[a:b]
    m = len(cs)
    # score matrix restricted to j >= i and j - i < max_answer_tokens
    mat = cs[:, None] + ce[None, :]
    i_idx = np.arange(m)[:, None]
    j_idx = np.arange(m)[None, :]
    valid = (j_idx >= i_idx) & (j_idx - i_idx < max_answer_tokens)
    mat = np.where(valid, mat, -np.inf)
    flat = mat.ravel()
    k = min(n_best, int(valid.sum()))
    if k <= 0:
        return null, []
    top = np.argpartition(-flat, k - 1)[:k]
    top = top[np.argsort(-flat[top])]
    out = []
    for t in top:
        i, j = divmod(int(t), m)
        so, eo = feat.offsets[a + i], feat.offsets[a + j]
        if so is None or eo is None or eo[1] <= so[0]:
            continue
        out.append(SpanCandidate(feat.pair_index, so[0], eo[1], float(flat[t]), null))
    return null, out


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``text[start:end]`` past whitespace/separator punctuation, unbalanced brackets/quotes and
    a pair of quotes around the whole span. May return ``start >= end`` (nothing left)."""
    opening, closing = "\"\u201c\u2018", "\"\u201d\u2019"
    while start < end:
        old = (start, end)
        while start < end and text[start] in _EDGE_STRIP:
            start += 1
        while end > start and text[end - 1] in _EDGE_STRIP:
            end -= 1
        if start >= end:
            break
        span = text[start:end]
        if span[0] in "([{" and not any(c in span for c in ")]}"):
            start += 1
        elif span[-1] in ")]}" and not any(c in span for c in "([{"):
            end -= 1
        elif len(span) >= 2 and (span[0], span[-1]) in _QUOTE_PAIRS and not any(c in span[1:-1] for c in _QUOTES):
            start, end = start + 1, end - 1
        elif span[0] in opening and span.count(span[0]) == 1 and not any(c in span[1:] for c in closing):
            start += 1
        elif span[-1] in closing and span.count(span[-1]) == 1 and not any(c in span[:-1] for c in opening):
            end -= 1
        if (start, end) == old:
            break
    return start, end


_PREPOSITIONS = frozenset("to of in from for at on with by into over against near under about".split())
_CONJUNCTIONS = frozenset("and or but nor".split())
_EDGE_WORD = re.compile(r"[^\W_]+(?:['\u2019.\-][^\W_]+)*")


def repair_span(text: str, start: int, end: int, question: str) -> tuple[int, int]:
    """Repair two span-edge errors of the reader, moving the offsets only (never past ``start:end``):

    - a capitalised word of the question glued in front of a name, after a preposition that it
      belongs to: "envoy to [Venezuela Elliot Abrams]" asked "Who is the USA envoy to Venezuela?"
      gives "Elliot Abrams";
    - a coordination cut in half: a span ending or starting with a bare "and"/"or" loses it
      ("[Brazil and] Colombia" gives "Brazil").
    """
    toks = [(m.start(), m.end()) for m in _EDGE_WORD.finditer(text, start, end)]
    if len(toks) >= 2 and text[toks[-1][0]:toks[-1][1]].lower() in _CONJUNCTIONS:
        end = toks[-2][1]
        toks = toks[:-1]
    if len(toks) >= 2 and text[toks[0][0]:toks[0][1]].lower() in _CONJUNCTIONS:
        start = toks[1][0]
        toks = toks[1:]
    before = [m.group().lower() for m in _EDGE_WORD.finditer(text, max(0, start - 30), start)]
    if len(toks) >= 3 and before and before[-1] in _PREPOSITIONS:
        asked = {w.lower() for w in words(question)}
        k = 0
        while k < len(toks) - 2:  # leave at least a two-word name
            w = text[toks[k][0]:toks[k][1]]
            if not (w[0].isupper() and w.lower() in asked):
                break
            k += 1
        rest = [text[a:b] for a, b in toks[k:]]
        gap = text[toks[k - 1][1]:toks[k][0]] if k else ""
        # only a bare space between: "Venezuela, Elliot Abrams" is a list, not a glued word
        if k and gap == " " and all(w[0].isupper() and w.lower() not in asked for w in rest[:2]):
            start = toks[k][0]
    return trim_span(text, start, end)

