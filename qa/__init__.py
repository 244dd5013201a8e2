"""Article QA: extractive question answering over a folder of news articles, offline.

    from qa import ask, QA
    answer = ask("Who slipped out of Venezuela last week?")
    answer.text          # the exact words from the article, or None when the articles do not say
    answer.citations[0]  # article id, title, source, start/end offsets, the passage
"""

from __future__ import annotations

from qa.config import Settings
from qa.engine import QA, ask
from qa.errors import QAError
from qa.types import Answer, Article, Chunk, Citation, Passage

__all__ = ["QA", "ask", "Settings", "QAError", "Answer", "Article", "Chunk", "Citation", "Passage"]
__version__ = "0.1.0"
