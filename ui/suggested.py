"""Suggested questions kept up to date in the background.

Checking that the articles answer a candidate question runs the reader, which takes a while on a CPU;
an upload or a question must never wait for it. :class:`SuggestionCache` hands out the last list at
once and recomputes it in its own thread whenever the index's generation changes; before each check it
calls ``quiet``, which the chat uses to let people's questions go first. It also warms the follow-up
rewriter's vocabulary for the new generation, so that the first question after an update does not
build it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from qa.errors import QAError
from qa.suggestions import suggest_questions
from qa.vocabulary import vocabulary

if TYPE_CHECKING:  # pragma: no cover
    from qa.engine import QA

log = logging.getLogger(__name__)


class SuggestionCache:
    """Suggested questions for ``qa``'s current index; see the module's docstring."""

    def __init__(self, qa: QA, n: int, check: bool = True, quiet: Callable[[], None] | None = None) -> None:
        self.qa = qa
        self.n = n
        self.check = check
        self.quiet = quiet
        self._cond = threading.Condition()
        self._questions: list[str] = []
        self._done_for: str | None = None     # the generation the list was computed for
        self._running = False
        self._again = False                   # the index changed while the list was being made
        self._closed = False
        self._thread: threading.Thread | None = None

    def current(self) -> list[str]:
        """The latest list (possibly for an older generation); never waits."""
        with self._cond:
            return list(self._questions)

    def refresh(self) -> None:
        """Start recomputing when the index changed since the list was made; returns at once."""
        generation = self._generation()
        with self._cond:
            if self._running:
                self._again = True  # the running computation may have read the index before it changed
                return
            if generation is None or generation == self._done_for:
                return
            if self._closed:
                return
            self._running, self._again = True, False
            self._thread = threading.Thread(target=self._run, name="qa-suggestions", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 60) -> None:
        """Stop at the next candidate and wait for the thread: a process must not exit while the reader
        runs in it (the runtime aborts the process)."""
        with self._cond:
            self._closed = True
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def wait(self, timeout: float | None = None) -> list[str]:
        """The list once no recomputation is under way (or after ``timeout`` seconds, the latest)."""
        with self._cond:
            self._cond.wait_for(lambda: not self._running, timeout)
            return list(self._questions)

    def _generation(self) -> str | None:
        try:
            return self.qa.snapshot.generation
        except QAError:
            return None

    def _run(self) -> None:
        while True:
            generation, questions = self._compute()
            latest = self._generation()
            with self._cond:
                if generation is not None:
                    self._questions, self._done_for = questions, generation
                if generation is None or (generation == latest and not self._again):
                    self._running = False
                    self._cond.notify_all()
                    return
                self._again = False

    def _before_each(self) -> None:
        if self._closed:
            raise _Closed
        if self.quiet is not None:
            self.quiet()

    def _compute(self) -> tuple[str | None, list[str]]:
        try:
            snap = self.qa.snapshot
            vocabulary(self.qa)  # the first follow-up after an update would build it otherwise
            questions = suggest_questions(snap.articles.values(), self.n, qa=self.qa if self.check else None,
                                          before_each=self._before_each)
        except _Closed:
            return None, []
        except Exception as e:  # keep the previous list; the page works without suggestions
            log.warning("no suggested questions: %s", e)
            return None, []
        return snap.generation, questions


class _Closed(Exception):
    """Raised between two candidates once the cache is closed."""
