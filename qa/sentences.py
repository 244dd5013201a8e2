"""Sentence boundaries with character offsets, robust to abbreviations and quotes.

    from qa.sentences import split_sentences
    text = 'Mr. Smith met U.S. officials. "We agree," he said.'
    [text[s:e] for s, e in split_sentences(text)]
    # ['Mr. Smith met U.S. officials.', '"We agree," he said.']

Paragraphs (blank lines and line breaks) always end a sentence, since news text has headlines and
captions without a full stop; inside a paragraph, pysbd's rule-based segmenter decides.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

_LINE = re.compile(r"[^\n]+")
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=False)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence in ``text``, whitespace trimmed, in order."""
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        base = line.start()
        chunk = line.group()
        if not chunk.strip():
            continue
        with _lock:  # pysbd keeps per-call state on the segmenter
            pieces = _segmenter().segment(chunk)
        cursor = 0
        for piece in pieces:
            piece = piece.strip()
            if not piece:
                continue
            at = chunk.find(piece, cursor)
            if at < 0:
                continue
            spans.append((base + at, base + at + len(piece)))
            cursor = at + len(piece)
    return spans


def sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the sentence(s) of ``text`` that hold ``text[start:end]``."""
    spans = split_sentences(text)
    s = next((a for a, b in spans if a <= start < b), start)
    e = next((b for a, b in reversed(spans) if a < end <= b), end)
    return min(s, start), max(e, end)
