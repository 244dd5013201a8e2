"""The handlers behind the chat page: :class:`ChatApp`, plain methods that :func:`ui.app.build_app` wires to
the page's events (tests call them without a browser).

One class on purpose, and so a little over the package's usual module size: every handler shares the state
of one :class:`~qa.engine.QA` (the suggestion cache, the count of questions being answered, the feedback
log), and Gradio wires bound methods. It holds four groups, one section each: questions (queued per person,
answered in turn), uploads (queued per person, added in turn; the checks on a file are in :mod:`ui.uploads`),
adding from a URL (:mod:`qa.sources.web` fetches) and the article list.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from qa.articles import KINDS, REMOVED_DIR, article_file, file_of, is_url
from qa.config import FetchSettings
from qa.conversation.chat import Conversation
from qa.conversation.turns import Turn
from qa.engine import MAX_QUESTION_CHARS, clean_question
from qa.errors import InvalidQuestionError, QAError
from qa.feedback import FeedbackLog, default_feedback_path
from qa.sources.fetch import Fetcher
from qa.sources.web import Added, iter_add_urls
from qa.timecues import check_range
from qa.types import Article
from ui.render import (
    article_date,
    esc,
    render_error,
    render_pending,
    render_question,
    render_reply,
)
from ui.state import ArticleFile, ChatSession, UploadBatch, UploadQueue, message
from ui.suggested import SuggestionCache
from ui.uploads import (
    MAX_UPLOAD_FILES,
    STORED_MODE,
    added_line,
    article_hashes,
    chosen_paths,
    upload_problem,
)

if TYPE_CHECKING:  # pragma: no cover
    from qa.engine import QA

log = logging.getLogger(__name__)

N_SUGGESTIONS = 6
LIST_MAX = 50              # articles listed at once (the filter finds the others)
QUIET_WAIT_S = 30.0        # how long suggestions wait for a pause in people's questions before going on


def verdict_of(liked: object) -> str | None:
    """The feedback log's verdict for Gradio's ``LikeData.liked``: ``True``/"Like", ``False``/"Dislike", and
    ``""`` (or ``None``) when the selected thumb is clicked again, which takes the verdict back."""
    if liked is True or liked == "Like":
        return "up"
    if liked is False or liked == "Dislike":
        return "down"
    if liked in ("", None):
        return "none"
    return None


def _size(n: int | None) -> str:
    if n is None:
        return ""
    if n < 1024:
        return f"{n} bytes"
    return f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def _several_titles(articles: tuple[Article, ...], shown: int = 3) -> str:
    more = "; …" if len(articles) > shown else ""
    return f"{len(articles)} articles: " + "; ".join(esc(a.title) for a in articles[:shown]) + more


class ChatApp:
    """The handlers behind the page (plain methods, so tests can call them without a browser)."""

    def __init__(self, qa: QA, feedback_path: str | Path | None = None, n_suggestions: int = N_SUGGESTIONS,
                 check_suggestions: bool = True, upload_root: str | Path | None = None,
                 fetch_settings: FetchSettings | None = None) -> None:
        self.qa = qa
        self.fetch_settings = fetch_settings or FetchSettings()
        # the API takes file *references*: only files under Gradio's own upload folder were sent by a
        # client; any other path names a file of this server, which must never become an article
        self.upload_root = Path(upload_root or gr.utils.get_upload_folder()).resolve()
        self.feedback = FeedbackLog(feedback_path or default_feedback_path(qa.settings))
        self.n_suggestions = n_suggestions
        self._asking = 0
        self._quiet = threading.Condition()
        self.suggestions = SuggestionCache(qa, n_suggestions, check_suggestions, quiet=self.wait_until_quiet)

    # ---------------------------------------------------------------- corpus
    def corpus_line(self) -> str:
        try:
            n = len(self.qa.snapshot.articles)
        except QAError as e:
            return f"The articles could not be loaded: {esc(e)}"
        folder = Path(self.qa.settings.articles_dir)
        try:
            folder = folder.resolve().relative_to(Path.cwd().resolve())
        except (ValueError, OSError):
            pass
        return f"{n} article{'s' if n != 1 else ''} indexed from <code>{esc(folder)}</code>."

    def index_changed(self) -> None:
        """After the index changed (upload, removal, a file dropped in the folder): refresh the suggested
        questions in the background."""
        self.suggestions.refresh()

    def suggestion_samples(self) -> dict:
        return gr.update(samples=[[q] for q in self.suggestions.current()])

    def suggestions_when_ready(self):
        """The suggested questions once they are up to date (runs apart from questions and uploads)."""
        return gr.update(samples=[[q] for q in self.suggestions.wait(timeout=600)])

    # ---------------------------------------------------------------- questions go first
    @contextmanager
    def _question(self) -> Iterator[None]:
        with self._quiet:
            self._asking += 1
        try:
            yield
        finally:
            with self._quiet:
                self._asking -= 1
                self._quiet.notify_all()

    def wait_until_quiet(self) -> None:
        """Wait until no question is being answered (at most ``QUIET_WAIT_S``, so that suggestions still
        come on a busy server)."""
        with self._quiet:
            self._quiet.wait_for(lambda: self._asking == 0, QUIET_WAIT_S)

    # ---------------------------------------------------------------- chat
    def new_session(self) -> ChatSession:
        return ChatSession(Conversation(self.qa))

    @staticmethod
    def refusal(question: str) -> str | None:
        """Why ``question`` (as typed) cannot be asked, or ``None``."""
        n = len(" ".join(question.split()))
        if n > MAX_QUESTION_CHARS:  # counted as the engine and the page's counter count
            return f"the question is {n:,} characters long; ask it in at most {MAX_QUESTION_CHARS:,} characters"
        try:
            clean_question(question)
        except InvalidQuestionError as e:
            return str(e)
        return None

    @staticmethod
    def date_filter(since: str | None, until: str | None) -> tuple[str | None, str | None]:
        """The chat's date filter boxes as ``(since, until)``; raises :class:`ValueError` (a one-line message
        naming the format) for a date not written ``YYYY-MM-DD``."""
        return check_range(since, until)

    def answer(self, question: str, session: ChatSession | None,
               dates: tuple[str | None, str | None] = (None, None)) -> tuple[str, Turn | None, ChatSession]:
        """``(reply html, turn or None on an error, session)`` for ``question``, from the articles dated in
        ``dates`` (``(since, until)``, either ``None``)."""
        session = session or self.new_session()
        try:
            with self._question():
                if dates == (None, None):
                    turn = session.conversation.ask_turn(question)
                else:
                    turn = session.conversation.ask_turn(question, since=dates[0], until=dates[1])
                articles = self.qa.snapshot.articles
        except InvalidQuestionError as e:
            # the question as typed was checked before: a follow-up grew too long once spelled out
            return render_error(f"once the follow-up is spelled out, {e}"), None, session
        except QAError as e:
            return render_error(str(e)), None, session
        except Exception as e:  # keep the chat usable; the log has the details
            log.exception("answering %r failed", question)
            return render_error(f"something went wrong while answering: {e}"), None, session
        html = render_reply(turn.answer, turn.question, turn.understood_question, turn.rewrite_note, articles)
        return html, turn, session

    def enqueue(self, session: ChatSession, question: str,
                dates: tuple[str | None, str | None] = (None, None)) -> None:
        """Show ``question`` in the chat at once, with a placeholder for its reply, and queue it with the date
        filter it was sent with."""
        with session.lock:
            waiting = session.busy or bool(session.pending)
            session.messages.append(message("user", render_question(question)))
            session.messages.append(message("assistant", render_pending(queued=waiting)))
            at = len(session.messages) - 1
            session.pending.append((question, at))
            if dates != (None, None):
                session.dates_at[at] = dates

    def take(self, question: str, session: ChatSession | None, since: str | None = None, until: str | None = None):
        """Send event (fast, not queued): ``(input, chat, session, error note)``. A question moves into the
        chat and the input is emptied; a refused one (or one sent with a date filter not written
        ``YYYY-MM-DD``) stays in the input, with the reason beside it."""
        session = session or self.new_session()
        text = (question or "").strip()
        if not text:
            return gr.skip(), gr.skip(), session, ""
        why = self.refusal(text)
        try:
            dates = self.date_filter(since, until)
        except ValueError as e:
            why = why or str(e)
            dates = (None, None)
        if why is not None:
            return gr.skip(), gr.skip(), session, f"Not sent: {esc(why)}. Your text is still in the box."
        self.enqueue(session, text, dates)
        return "", session.chat(), session, ""

    def take_suggestion(self, sample: list[str] | None, session: ChatSession | None, since: str | None = None,
                        until: str | None = None):
        """A suggested question clicked: asked like a typed one (with the date filter when it is valid, else
        without), leaving the input (and a draft) alone."""
        session = session or self.new_session()
        try:
            dates = self.date_filter(since, until)
        except ValueError:
            dates = (None, None)  # the note beside the input says why when a typed question is sent
        if sample and sample[0]:
            self.enqueue(session, str(sample[0]), dates)
        return session.chat(), session

    def answer_pending(self, session: ChatSession | None):
        """Queued event: answers the session's waiting questions in order, one chat update per step. Only
        one runs per session; a second one triggered meanwhile leaves the work to it."""
        if session is None or not session.claim():
            yield gr.skip(), gr.skip()
            return
        try:
            # a generator that yields nothing would blank its outputs: this one says "no change" at least once
            yield gr.skip(), gr.skip()
            while (item := self._next_question(session)) is not None:
                question, at = item
                yield session.chat(), gr.skip()
                with session.lock:
                    dates = session.dates_at.pop(at, (None, None))
                html, turn, _ = self.answer(question, session, dates)
                with session.lock:
                    if session.closed:
                        return
                    session.messages[at] = message("assistant", html)
                    if turn is not None:
                        session.turn_at[at] = turn
                yield session.chat(), self._suggestions_for(session)
        finally:
            session.release()

    @staticmethod
    def _next_question(session: ChatSession) -> tuple[str, int] | None:
        """The next question, its placeholder now saying that it is being worked on; ``None`` when there is
        none (the session then stops answering)."""

        def take() -> tuple[str, int] | None:
            if not session.pending:
                return None
            question, at = session.pending.popleft()
            session.messages[at] = message("assistant", render_pending())
            return question, at

        return session.next(take)

    def _suggestions_for(self, session: ChatSession):
        current = self.suggestions.current()
        if current == session.shown_suggestions:
            return gr.skip()
        session.shown_suggestions = current
        return gr.update(samples=[[q] for q in current])

    def ask(self, question: str, history: list[dict] | None, session: ChatSession | None):
        """API event: answers ``question`` after ``history`` (the caller's), ``(input, history, session)``."""
        history = list(history or [])
        question = (question or "").strip()
        if not question:
            yield "", history, session
            return
        why = self.refusal(question)
        if why is not None:
            raise gr.Error(why)
        history.append(message("user", render_question(question)))
        yield "", history + [message("assistant", render_pending())], session
        reply, turn, session = self.answer(question, session)
        history.append(message("assistant", reply))
        if turn is not None:
            session.turn_at[len(history) - 1] = turn
        yield "", history, session

    def clear(self, session: ChatSession | None):
        """New chat: an empty chat and a new session; a reply still being worked on is dropped."""
        if session is not None:
            with session.lock:
                session.closed = True
                session.pending.clear()
        return [], None

    def like(self, session: ChatSession | None, data: gr.LikeData) -> None:
        """Thumbs up/down on a reply (or a thumb clicked again, taking it back): appended to the feedback log,
        and a short note that it was."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        verdict = verdict_of(data.liked)
        turn = session.turn_at.get(int(index)) if session and index is not None else None
        if verdict is None or turn is None:
            return
        self.feedback.record(turn, verdict)
        gr.Info("Feedback withdrawn." if verdict == "none" else "Thanks for the feedback.", duration=3,
                title="Feedback")

    # ---------------------------------------------------------------- uploads
    def check_upload(self, path: str | Path) -> str | None:
        """Why ``path`` cannot be added (``None`` when it can); see :func:`ui.uploads.upload_problem`."""
        return upload_problem(Path(path), self.upload_root)

    def add_files(self, files: list[Any] | None) -> str:
        """Check each upload, index the good ones at once; returns one line per file for the page (HTML,
        escaped). A refused file is never copied into the articles folder."""
        return "<br>".join(self.add_lines(chosen_paths(files)))

    def add_lines(self, paths: list[Path]) -> list[str]:
        if not paths:
            return [f"Choose one or more {KINDS} files first."]
        if len(paths) > MAX_UPLOAD_FILES:
            return [f"Add at most {MAX_UPLOAD_FILES} files at a time ({len(paths)} were chosen)."]
        lines: list[str] = []
        ok: dict[Path, set[str]] = {}
        for p in paths:
            why = self.check_upload(p)
            hashes: set[str] = set()
            if why is None:
                hashes, why = article_hashes(p)
            if why is not None:
                lines.append(f"Not added: {esc(why)}.")
            else:
                ok[p] = hashes
        if not ok:
            return lines
        try:
            known = {a.content_hash for a in self.qa.snapshot.articles.values()}
        except QAError:
            known = set()
        for p in ok:
            # uploads arrive private to this process; stored, they are articles like the folder's others
            p.chmod(STORED_MODE)
        try:
            report = self.qa.add(list(ok))
        except QAError as e:
            return lines + [f"Not added: '{esc(p.name)}': {esc(e)}." for p in ok]
        finally:
            self.index_changed()
        stored = self._stored_names()
        for p, hashes in ok.items():
            lines.append(added_line(p, hashes, known, stored))
        stems = tuple(p.stem for p in ok)
        lines += [f"Skipped: {esc(m)}." for m in (report.problems if report else []) if m.startswith(stems)]
        return lines

    def _stored_names(self) -> dict[str, str]:
        """``{content hash: file name in the articles folder}``."""
        try:
            return {a.content_hash: file_of(article_file(a)) for a in self.qa.snapshot.articles.values()}
        except QAError:
            return {}

    def stage(self, files: list[Any] | None, queue: UploadQueue | None):
        """Add click (fast, not queued): the chosen files not queued before join this person's upload queue,
        and the page says which wait. The picker keeps its files (files chosen next are added to them):
        emptying it from here could swallow a file being chosen at that moment. ``(status, queue)``."""
        queue = queue or UploadQueue()
        paths = chosen_paths(files)
        with queue.lock:
            new = [p for p in paths if p not in queue.staged]
            waiting = queue.busy or bool(queue.waiting)
            if paths and not new:
                lines = ["Every chosen file was added already: choose more files (× takes one off the list)."]
                queue.shown.append(UploadBatch([], lines))
            elif not new or len(new) > MAX_UPLOAD_FILES:
                queue.shown.append(UploadBatch([], self.add_lines(new)))
            else:
                queue.staged.update(new)
                names = ", ".join(f"'{esc(p.name)}'" for p in new)
                line = (f"Waiting to add {names} after the files before {'them' if len(new) > 1 else 'it'}…"
                        if waiting else f"Adding {names}…")
                batch = UploadBatch(new, [line])
                queue.waiting.append(batch)
                queue.shown.append(batch)
        return queue.status(), queue

    def add_pending(self, queue: UploadQueue | None):
        """Queued event (one at a time over the whole server): adds this person's waiting uploads in order.
        ``(status, corpus line, article list token)``."""
        if queue is None or not queue.claim():
            yield gr.skip(), gr.skip(), gr.skip()
            return
        try:
            yield gr.skip(), gr.skip(), gr.skip()  # as in answer_pending: never an empty generator
            while (batch := self._next_batch(queue)) is not None:
                yield queue.status(), gr.skip(), gr.skip()
                lines = self.add_lines(batch.paths)
                with queue.lock:
                    batch.lines = lines
                yield queue.status(), self.corpus_line(), time.monotonic_ns()
        finally:
            queue.release()

    @staticmethod
    def _next_batch(queue: UploadQueue) -> UploadBatch | None:
        """The next batch, its line now saying that it is being added; ``None`` when there is none."""

        def take() -> UploadBatch | None:
            if not queue.waiting:
                return None
            batch = queue.waiting.popleft()
            names = ", ".join(f"'{esc(p.name)}'" for p in batch.paths)
            batch.lines = [f"Adding {names}…"]
            return batch

        return queue.next(take)

    def add_api(self, files: list[Any] | None):
        """API event: adds ``files`` at once; ``(status, corpus line)``."""
        return self.add_files(files), self.corpus_line()

    # ---------------------------------------------------------------- add from URL
    def add_url_steps(self, text: str | None, feed: bool = False) -> Iterator[list[str]]:
        """Fetch each address in ``text`` (one or more, separated by spaces or lines; feeds with ``feed``) into
        the articles folder, then update the index once. Yields the page's lines so far (HTML, escaped) after
        each page or feed item, the last time once the index is updated. An address that fails is said in its
        line and stops nothing else."""
        urls = (text or "").split()
        if not urls:
            yield ["Paste the address of a web page, a PDF or a feed first (starting with http:// or https://)."]
            return
        if len(urls) > MAX_UPLOAD_FILES:
            yield [f"Add at most {MAX_UPLOAD_FILES} addresses at a time ({len(urls)} were given)."]
            return
        lines: list[str] = []
        fetching = f"Fetching {', '.join(esc(u) for u in urls[:3])}{' …' if len(urls) > 3 else ''}…"
        yield [fetching]
        added = False
        with Fetcher(self.fetch_settings) as fetcher:
            for r in iter_add_urls(self.qa.settings.articles_dir, urls, feed=feed, fetcher=fetcher):
                lines.append(self._added_url_line(r))
                added = added or r.status == "added"
                yield [*lines, fetching]
        if added:
            yield [*lines, "Indexing…"]
            try:
                self.qa.refresh(progress=False)
            except QAError as e:
                lines.append(f"Saved in the articles folder, but the index could not be updated: {esc(e)}.")
            finally:
                self.index_changed()
        yield lines

    def add_url_lines(self, text: str | None, feed: bool = False) -> list[str]:
        """:meth:`add_url_steps` to its end: the final lines."""
        *_, last = self.add_url_steps(text, feed)
        return last

    @staticmethod
    def _added_url_line(r: Added) -> str:
        if r.status == "added":
            return f"Added '{esc(r.title)}' from {esc(r.url)}. You can ask about it now."
        if r.status == "known":
            return f"Nothing changed: {esc(r.message)}."
        if r.status == "skipped":
            return f"Not yet: {esc(r.message)}."
        return f"Not added: {esc(r.message)}."

    def add_url(self, text: str | None, feed: bool = False):
        """"Add from URL" click (in the index's queue, like uploads): yields ``(status, corpus line, article
        list token)``, the status after each page or feed item, the others once the index is updated."""
        lines: list[str] = []
        for lines in self.add_url_steps(text, feed):
            yield "<br>".join(lines), gr.skip(), gr.skip()
        yield "<br>".join(lines), self.corpus_line(), time.monotonic_ns()

    def add_url_api(self, text: str | None, feed: bool = False):
        """API event: ``(status, corpus line)``."""
        return "<br>".join(self.add_url_lines(text, feed)), self.corpus_line()

    # ---------------------------------------------------------------- the article list
    def article_files(self, words: str = "") -> tuple[list[ArticleFile], int]:
        """The first ``LIST_MAX`` files of the index by title whose titles or name hold every one of
        ``words``, and how many match in all."""
        try:
            articles = list(self.qa.snapshot.articles.values())
        except QAError:
            return [], 0
        by_file: dict[str, list[Article]] = {}
        for a in articles:
            by_file.setdefault(file_of(article_file(a)), []).append(a)
        wanted = (words or "").lower().split()
        matches = [(source, arts) for source, arts in by_file.items()
                   if all(w in " ".join([source] + [a.title for a in arts]).lower() for w in wanted)]
        matches.sort(key=lambda m: (m[1][0].title.lower(), m[0]))
        shown = [ArticleFile(source, tuple(arts), self._file_size(source)) for source, arts in matches[:LIST_MAX]]
        return shown, len(matches)

    def _file_size(self, source: str) -> int | None:
        try:
            return (Path(self.qa.settings.articles_dir) / source).stat().st_size
        except OSError:
            return None

    @staticmethod
    def article_html(f: ArticleFile) -> str:
        """One row of the list: title, date when known, size, file; a JSON file's records as one row."""
        words = sum(len(a.text.split()) for a in f.articles)
        size = " · ".join(x for x in (f"{words:,} words", _size(f.size)) if x)
        first = f.articles[0]
        date = article_date(first) if len(f.articles) == 1 else None
        when = f' <span class="qa-date">{esc(date)}</span>' if date else ""
        title = esc(first.title) if len(f.articles) == 1 else _several_titles(f.articles)
        note = ('<div class="qa-size">The records of a JSON file cannot be removed one by one: edit the file, '
                'or remove it whole.</div>' if "#" in article_file(first) else "")
        # an article from the web is named by its address; its file is in the folder under web/
        where = first.source if len(f.articles) == 1 and is_url(first.source) else f.source
        return (f'<div class="qa-article-item"><span class="qa-source-title">{title}</span>{when} '
                f'<span class="qa-file">{esc(where)}</span> <span class="qa-size">· {size}</span>{note}</div>')

    def remove(self, source: str):
        """Remove button: the file leaves the index (moved to ``.removed/``, never deleted).
        ``(status, corpus line, article list token)``."""
        try:
            self.qa.remove([source])
        except QAError as e:
            return f"Not removed: '{esc(source)}': {esc(e)}.", gr.skip(), gr.skip()
        finally:
            self.index_changed()
        done = (f"Removed '{esc(source)}' from the index. The file was moved to '{REMOVED_DIR}/' in the articles "
                "folder: move it back to add it again.")
        return done, self.corpus_line(), time.monotonic_ns()

    def close(self) -> None:
        """Stop the background work (call before the process exits)."""
        self.suggestions.close()

    def page_load(self):
        return self.suggestion_samples(), self.corpus_line(), time.monotonic_ns()
