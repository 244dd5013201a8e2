"""Article QA: extractive question answering over a folder of news articles, offline.

    from qa import ask, QA
    answer = ask("Who slipped out of Venezuela last week?")
    answer.text          # the exact words from the article, or None when the articles do not say
    answer.citations[0]  # article id, title, source, start/end offsets, the passage, the date
    answer.alternatives  # what other articles say instead, with their dates (answer.message names them)

The names below are imported on first use, so ``import qa.cli`` (the ``qa`` command) loads nothing a
command does not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.config import Settings
    from qa.engine import QA, ask, clean_question
    from qa.errors import QAError
    from qa.types import Alternative, Answer, Article, Chunk, Citation, Passage

_HOMES = {"QA": "qa.engine", "ask": "qa.engine", "clean_question": "qa.engine", "Settings": "qa.config",
          "QAError": "qa.errors",
          "Alternative": "qa.types", "Answer": "qa.types", "Article": "qa.types", "Chunk": "qa.types",
          "Citation": "qa.types", "Passage": "qa.types"}

__all__ = ["QA", "ask", "clean_question", "Settings", "QAError", "Alternative", "Answer", "Article", "Chunk",
           "Citation", "Passage"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'qa' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
