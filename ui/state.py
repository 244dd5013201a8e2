"""What the chat keeps per person: the chat session (its conversation, messages and waiting questions) and
the upload queue, each worked through by one queued event at a time (:class:`OneWorker`)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from qa.conversation.chat import Conversation
from qa.conversation.turns import Turn
from qa.types import Article

T = TypeVar("T")

UPLOAD_LINES = 40          # upload messages kept on the page


def message(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


@dataclass(kw_only=True)
class OneWorker:
    """Work that one queued event at a time does for one person (answering their questions, adding their
    uploads): the event that :meth:`claim` s it works through the waiting items (:meth:`next`); one
    triggered meanwhile finds it busy and leaves the work to it. ``lock`` guards the subclass's fields too;
    ``closed`` stops the work for good ("New chat")."""

    busy: bool = False
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def claim(self) -> bool:
        """Whether the caller is now the one doing the work (``False``: busy already, or closed)."""
        with self.lock:
            if self.busy or self.closed:
                return False
            self.busy = True
            return True

    def next(self, take: Callable[[], T | None]) -> T | None:
        """The next item, ``take()`` under the lock; ``None`` (nothing left, or closed) ends the work under
        the same lock, so that an item queued meanwhile is never left behind."""
        with self.lock:
            item = None if self.closed else take()
            if item is None:
                self.busy = False
            return item

    def release(self) -> None:
        """End the work (when the worker stops early)."""
        with self.lock:
            self.busy = False


@dataclass
class ChatSession(OneWorker):
    """One person's chat: the conversation, the messages shown (the page's chat is drawn from them), the
    turn each reply shows, and the questions waiting to be answered (with the message that will hold
    their reply). Closed by "New chat": a reply still being worked on is dropped."""

    conversation: Conversation
    messages: list[dict[str, str]] = field(default_factory=list)
    turn_at: dict[int, Turn] = field(default_factory=dict)
    pending: deque[tuple[str, int]] = field(default_factory=deque)
    #: the date filter (since, until) a waiting question was sent with, by the index of its placeholder
    dates_at: dict[int, tuple[str | None, str | None]] = field(default_factory=dict)
    shown_suggestions: list[str] | None = None

    def chat(self) -> list[dict[str, str]]:
        with self.lock:
            return [dict(m) for m in self.messages]


@dataclass
class UploadBatch:
    paths: list[Path]
    lines: list[str]


@dataclass
class UploadQueue(OneWorker):
    """One person's uploads: batches waiting to be added, and what the page says about each."""

    waiting: deque[UploadBatch] = field(default_factory=deque)
    shown: deque[UploadBatch] = field(default_factory=lambda: deque(maxlen=UPLOAD_LINES))
    staged: set[Path] = field(default_factory=set)  # every file queued so far (the picker keeps them)

    def status(self) -> str:
        with self.lock:
            return "<br>".join(line for batch in self.shown for line in batch.lines)


@dataclass(frozen=True)
class ArticleFile:
    """One file of the articles folder as the page lists it."""

    source: str
    articles: tuple[Article, ...]
    size: int | None
