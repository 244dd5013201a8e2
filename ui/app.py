"""The web chat: a Gradio page over :class:`qa.engine.QA`.

    from qa import QA
    from ui.app import build_app, launch
    demo = build_app(QA("seeds", "vectors"))
    launch(demo, host="127.0.0.1", port=7860)          # blocks; prevent_thread_lock=True returns

or from the shell: ``qa chat [--articles DIR] [--index DIR] [--host H] [--port P]`` (:func:`qa.commands.cmd_chat`).

The page is thin over the engine: follow-ups are resolved by :class:`qa.conversation.chat.Conversation`,
suggested questions come from :mod:`qa.suggestions` (kept fresh in the background by
:mod:`ui.suggested`), answers are rendered by :mod:`ui.render`, the folder is watched by :mod:`ui.watch`.

A question is moved from the input into the chat at once and answered in turn: the input stays free
for the next one (a draft typed meanwhile is kept), a second question waits under the first, and a
refused question stays in the input with the reason beside it. Uploads are queued the same way, and
indexed in their own concurrency group, so questions keep being answered meanwhile.

Safe by default: it listens on 127.0.0.1, never opens a public share link, sends no analytics, and shows
article text escaped (see :mod:`ui.render`). Several people at once are queued.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import logging  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import deque  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

import gradio as gr  # noqa: E402

from qa.articles import SUPPORTED_SUFFIXES, ArticleFileError, content_hash, read_file  # noqa: E402
from qa.conversation.chat import Conversation  # noqa: E402
from qa.conversation.turns import Turn  # noqa: E402
from qa.engine import MAX_QUESTION_CHARS, REMOVED_DIR, clean_question  # noqa: E402
from qa.errors import InvalidQuestionError, QAError  # noqa: E402
from qa.feedback import FeedbackLog, default_feedback_path  # noqa: E402
from qa.types import Article  # noqa: E402
from ui.assets import CSS, SCRIPT  # noqa: E402
from ui.render import (  # noqa: E402
    article_date,
    esc,
    render_error,
    render_pending,
    render_question,
    render_reply,
)
from ui.suggested import SuggestionCache  # noqa: E402
from ui.watch import FolderWatcher  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    from qa.engine import QA

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_FILES = 20
ASK_CONCURRENCY = 2        # questions answered at once (the rest wait in the queue)
QUEUE_SIZE = 64            # people waiting at most; beyond, a clear "busy" error
N_SUGGESTIONS = 6
LIST_MAX = 50              # articles listed at once (the filter finds the others)
UPLOAD_LINES = 40          # upload messages kept on the page
QUIET_WAIT_S = 30.0        # how long suggestions wait for a pause in people's questions before going on
STORED_MODE = 0o644        # an article file is for everyone who can read the folder, as a copied file would be
QUEUE_IDLE_S = 0.05        # how often the idle queue looks for work (see calm_queue)


# ----------------------------------------------------------------------------- feedback
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


# ----------------------------------------------------------------------------- per-person state
def _message(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


@dataclass
class ChatSession:
    """One person's chat: the conversation, the messages shown (the page's chat is drawn from them), the
    turn each reply shows, and the questions waiting to be answered (with the message that will hold
    their reply)."""

    conversation: Conversation
    messages: list[dict[str, str]] = field(default_factory=list)
    turn_at: dict[int, Turn] = field(default_factory=dict)
    pending: deque[tuple[str, int]] = field(default_factory=deque)
    answering: bool = False
    closed: bool = False           # "New chat": a reply still being worked on is dropped
    shown_suggestions: list[str] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def chat(self) -> list[dict[str, str]]:
        with self.lock:
            return [dict(m) for m in self.messages]


@dataclass
class UploadBatch:
    paths: list[Path]
    lines: list[str]


@dataclass
class UploadQueue:
    """One person's uploads: batches waiting to be added, and what the page says about each."""

    waiting: deque[UploadBatch] = field(default_factory=deque)
    shown: deque[UploadBatch] = field(default_factory=lambda: deque(maxlen=UPLOAD_LINES))
    staged: set[Path] = field(default_factory=set)  # every file queued so far (the picker keeps them)
    busy: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def status(self) -> str:
        with self.lock:
            return "<br>".join(line for batch in self.shown for line in batch.lines)


@dataclass(frozen=True)
class ArticleFile:
    """One file of the articles folder as the page lists it."""

    source: str
    articles: tuple[Article, ...]
    size: int | None


def _file_of(source: str) -> str:
    return source.split("#", 1)[0]


def _size(n: int | None) -> str:
    if n is None:
        return ""
    if n < 1024:
        return f"{n} bytes"
    return f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def _several_titles(articles: tuple[Article, ...], shown: int = 3) -> str:
    more = "; …" if len(articles) > shown else ""
    return f"{len(articles)} articles: " + "; ".join(esc(a.title) for a in articles[:shown]) + more


def _paths(files: list[Any] | None) -> list[Path]:
    return [Path(getattr(f, "name", None) or getattr(f, "path", None) or f) for f in (files or [])]


class ChatApp:
    """The handlers behind the page (plain methods, so tests can call them without a browser)."""

    def __init__(self, qa: QA, feedback_path: str | Path | None = None, n_suggestions: int = N_SUGGESTIONS,
                 check_suggestions: bool = True, upload_root: str | Path | None = None) -> None:
        self.qa = qa
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
        folder = esc(folder)
        return f"{n} article{'s' if n != 1 else ''} indexed from <code>{folder}</code>."

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

    def answer(self, question: str, session: ChatSession | None) -> tuple[str, Turn | None, ChatSession]:
        """``(reply html, turn or None on an error, session)`` for ``question``."""
        session = session or self.new_session()
        try:
            with self._question():
                turn = session.conversation.ask_turn(question)
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

    def enqueue(self, session: ChatSession, question: str) -> None:
        """Show ``question`` in the chat at once, with a placeholder for its reply, and queue it."""
        with session.lock:
            waiting = session.answering or bool(session.pending)
            session.messages.append(_message("user", render_question(question)))
            session.messages.append(_message("assistant", render_pending(queued=waiting)))
            session.pending.append((question, len(session.messages) - 1))

    def take(self, question: str, session: ChatSession | None):
        """Send event (fast, not queued): ``(input, chat, session, error note)``. A question moves into the
        chat and the input is emptied; a refused one stays in the input, with the reason beside it."""
        session = session or self.new_session()
        text = (question or "").strip()
        if not text:
            return gr.skip(), gr.skip(), session, ""
        why = self.refusal(text)
        if why is not None:
            return gr.skip(), gr.skip(), session, f"Not sent: {esc(why)}. Your text is still in the box."
        self.enqueue(session, text)
        return "", session.chat(), session, ""

    def take_suggestion(self, sample: list[str] | None, session: ChatSession | None):
        """A suggested question clicked: asked like a typed one, leaving the input (and a draft) alone."""
        session = session or self.new_session()
        if sample and sample[0]:
            self.enqueue(session, str(sample[0]))
        return session.chat(), session

    def answer_pending(self, session: ChatSession | None):
        """Queued event: answers the session's waiting questions in order, one chat update per step. Only
        one runs per session; a second one triggered meanwhile leaves the work to it."""
        if session is None or not self._start_answering(session):
            yield gr.skip(), gr.skip()
            return
        try:
            # a generator that yields nothing would blank its outputs: this one says "no change" at least once
            yield gr.skip(), gr.skip()
            while (item := self._next_question(session)) is not None:
                question, at = item
                yield session.chat(), gr.skip()
                html, turn, _ = self.answer(question, session)
                with session.lock:
                    if session.closed:
                        return
                    session.messages[at] = _message("assistant", html)
                    if turn is not None:
                        session.turn_at[at] = turn
                yield session.chat(), self._suggestions_for(session)
        finally:
            with session.lock:
                session.answering = False

    @staticmethod
    def _start_answering(session: ChatSession) -> bool:
        with session.lock:
            if session.answering or session.closed:
                return False
            session.answering = True
            return True

    @staticmethod
    def _next_question(session: ChatSession) -> tuple[str, int] | None:
        """The next question, its placeholder now saying that it is being worked on; ``None`` when there is
        none (the session then stops answering, under the same lock, so no question is left behind)."""
        with session.lock:
            if session.closed or not session.pending:
                session.answering = False
                return None
            question, at = session.pending.popleft()
            session.messages[at] = _message("assistant", render_pending())
            return question, at

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
        history.append(_message("user", render_question(question)))
        yield "", history + [_message("assistant", render_pending())], session
        reply, turn, session = self.answer(question, session)
        history.append(_message("assistant", reply))
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
    def uploaded(self, path: Path) -> bool:
        """Whether ``path`` is a file that a client uploaded (inside the upload folder, no link on the way)."""
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return False
        # resolve() follows links: the path as given must already be the real one
        return real == path.absolute() and real.is_relative_to(self.upload_root) and real.is_file()

    def check_upload(self, path: str | Path) -> str | None:
        """Why ``path`` cannot be added (``None`` when it can): not uploaded here, wrong kind, too big,
        hidden, or not readable as an article."""
        p = Path(path)
        name = p.name
        if not self.uploaded(p):
            return f"'{name}' was not uploaded through this page"
        if p.suffix.lower() not in SUPPORTED_SUFFIXES:
            kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
            return f"'{name}' is not an article file: use one of {kinds}"
        if name.startswith("."):
            return f"'{name}' starts with '.', so it would be a hidden file that is never indexed; rename it"
        try:
            size = p.stat().st_size
        except OSError:
            return f"'{name}' could not be read"
        if size == 0:
            return f"'{name}' is empty"
        if size > MAX_UPLOAD_BYTES:
            return (f"'{name}' is {size / 1024 / 1024:.1f} MB; files of at most "
                    f"{MAX_UPLOAD_BYTES // 1024 // 1024} MB can be added here")
        return None

    def _readable(self, path: Path) -> tuple[set[str], str | None]:
        """The content hashes of the articles in an upload, or why it holds none (checked before it is stored)."""
        try:
            articles, _problems = read_file(path, path.name, MAX_UPLOAD_BYTES)
        except ArticleFileError as e:
            return set(), f"'{path.name}' {e}"
        except Exception as e:  # a parser failing on odd input: refuse this file, keep the page working
            log.warning("reading upload %s failed", path.name, exc_info=True)
            return set(), f"'{path.name}' could not be read ({type(e).__name__})"
        if not articles:
            return set(), f"'{path.name}' holds no article with text"
        return {content_hash(a.title, a.text) for a in articles}, None

    def add_files(self, files: list[Any] | None) -> str:
        """Check each upload, index the good ones at once; returns one line per file for the page (HTML,
        escaped). A refused file is never copied into the articles folder."""
        return "<br>".join(self.add_lines(_paths(files)))

    def add_lines(self, paths: list[Path]) -> list[str]:
        if not paths:
            return ["Choose one or more .txt, .md, .html, .json or .jsonl files first."]
        if len(paths) > MAX_UPLOAD_FILES:
            return [f"Add at most {MAX_UPLOAD_FILES} files at a time ({len(paths)} were chosen)."]
        lines: list[str] = []
        ok: dict[Path, set[str]] = {}
        for p in paths:
            why = self.check_upload(p)
            hashes: set[str] = set()
            if why is None:
                hashes, why = self._readable(p)
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
            lines.append(self._added_line(p, hashes, known, stored))
        stems = tuple(p.stem for p in ok)
        lines += [f"Skipped: {esc(m)}." for m in (report.problems if report else []) if m.startswith(stems)]
        return lines

    def _stored_names(self) -> dict[str, str]:
        """``{content hash: file name in the articles folder}``."""
        try:
            return {a.content_hash: _file_of(a.source) for a in self.qa.snapshot.articles.values()}
        except QAError:
            return {}

    @staticmethod
    def _added_line(p: Path, hashes: set[str], known: set[str], stored: dict[str, str]) -> str:
        name = esc(p.name)
        if hashes <= known:
            return f"'{name}' was already in the index: nothing changed."
        n = len(hashes)
        what = f" ({n} articles)" if n > 1 else ""
        where = {stored[h] for h in hashes if h in stored}
        renamed = f", stored as '{esc(next(iter(where)))}' because another file has its name" \
            if len(where) == 1 and p.name not in where else ""
        return f"Added '{name}'{what}{renamed}. You can ask about {'them' if n > 1 else 'it'} now."

    def stage(self, files: list[Any] | None, queue: UploadQueue | None):
        """Add click (fast, not queued): the chosen files not queued before join this person's upload queue,
        and the page says which wait. The picker keeps its files (files chosen next are added to them):
        emptying it from here could swallow a file being chosen at that moment. ``(status, queue)``."""
        queue = queue or UploadQueue()
        paths = _paths(files)
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
        if queue is None or not self._start_adding(queue):
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
            with queue.lock:
                queue.busy = False

    @staticmethod
    def _start_adding(queue: UploadQueue) -> bool:
        with queue.lock:
            if queue.busy:
                return False
            queue.busy = True
            return True

    @staticmethod
    def _next_batch(queue: UploadQueue) -> UploadBatch | None:
        with queue.lock:
            if not queue.waiting:
                queue.busy = False
                return None
            batch = queue.waiting.popleft()
            names = ", ".join(f"'{esc(p.name)}'" for p in batch.paths)
            batch.lines = [f"Adding {names}…"]
            return batch

    def add_api(self, files: list[Any] | None):
        """API event: adds ``files`` at once; ``(status, corpus line)``."""
        return self.add_files(files), self.corpus_line()

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
            by_file.setdefault(_file_of(a.source), []).append(a)
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
                'or remove it whole.</div>' if "#" in first.source else "")
        return (f'<div class="qa-article-item"><span class="qa-source-title">{title}</span>{when} '
                f'<span class="qa-file">{esc(f.source)}</span> <span class="qa-size">· {size}</span>{note}</div>')

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


def _article_list(chat: ChatApp, status: gr.HTML, corpus: gr.Markdown, listing: gr.State, suggested: gr.Dataset,
                  words: str) -> None:
    """The rows of the article list (drawn again whenever ``listing`` changes)."""
    files, total = chat.article_files(words)
    if not files:
        gr.Markdown("No article matches." if words else "No articles yet.")
    if total > len(files):
        gr.Markdown(f"Showing {len(files)} of {total:,} files: type words of a title or file name above.")
    for f in files:
        with gr.Row(elem_classes="qa-article-row", equal_height=True):
            gr.HTML(chat.article_html(f), scale=1)
            label = "Remove the file" if len(f.articles) > 1 else "Remove"
            gr.Button(label, size="sm", scale=0, min_width=130, elem_classes="qa-remove").click(
                partial(chat.remove, f.source), None, [status, corpus, listing], concurrency_id="index",
                concurrency_limit=1, api_visibility="private",
            ).then(chat.suggestions_when_ready, None, suggested, concurrency_id="suggest", concurrency_limit=16,
                   api_visibility="private")


def build_app(qa: QA, *, feedback_path: str | Path | None = None, n_suggestions: int = N_SUGGESTIONS,
              check_suggestions: bool = True) -> gr.Blocks:
    """The chat page over ``qa`` (not launched; see :func:`launch`). ``demo.chat_app`` is its
    :class:`ChatApp`. The suggested questions are computed in the background: the page shows them once
    they are ready."""
    chat = ChatApp(qa, feedback_path, n_suggestions, check_suggestions)
    chat.index_changed()
    with gr.Blocks(title="Article QA", analytics_enabled=False) as demo:
        gr.Markdown("# Article QA\nAsk about the articles: answers are copied word for word from them, "
                    "with their sources. Follow-up questions work.", elem_id="qa-header")
        corpus = gr.Markdown(chat.corpus_line(), elem_id="qa-corpus")
        session = gr.State(None)
        uploads = gr.State(None)
        listing = gr.State(0)  # a new value redraws the article list
        copy_all = gr.Button("Copy conversation", elem_id="copy-all")
        chatbot = gr.Chatbot(
            elem_id="chat", show_label=False, height="68vh", min_height=420, sanitize_html=True,
            render_markdown=True, latex_delimiters=[], allow_tags=False, feedback_options=("Like", "Dislike"),
            autoscroll=False,  # the page's script scrolls a new reply to its start, not to its end
            placeholder="Ask a question about the articles, or pick a suggestion below.", buttons=[copy_all],
        )
        with gr.Row():
            question = gr.Textbox(elem_id="question", show_label=False, scale=8, max_lines=4, autofocus=True,
                                  placeholder="Ask a question about the articles")
            ask_btn = gr.Button("Ask", variant="primary", elem_id="ask", scale=1, min_width=80)
            new_btn = gr.Button("New chat", elem_id="new-chat", scale=1, min_width=80)
        with gr.Row():
            question_error = gr.HTML("", elem_id="question-error", padding=False)
            gr.HTML(f"0 / {MAX_QUESTION_CHARS:,} characters", elem_id="question-count", js_on_load=SCRIPT,
                    padding=False)
        hidden = gr.Textbox(visible=False)
        suggested = gr.Dataset(components=[hidden], samples=[[q] for q in chat.suggestions.current()],
                               label="Try asking", elem_id="suggestions", samples_per_page=N_SUGGESTIONS)
        with gr.Accordion("Add articles", open=False, elem_id="add-articles"):
            gr.Markdown(f".txt, .md, .html, .json or .jsonl; up to {MAX_UPLOAD_BYTES // 1024 // 1024} MB per file. "
                        "They are indexed at once and can be asked about right away; files added while others "
                        "are being indexed wait their turn.")
            files = gr.File(file_count="multiple", file_types=sorted(SUPPORTED_SUFFIXES), label="Article files",
                            elem_id="upload")
            add_btn = gr.Button("Add to the articles", elem_id="add")
            upload_status = gr.HTML("", elem_id="upload-status")
        with gr.Accordion("Articles", open=False, elem_id="article-list"):
            article_filter = gr.Textbox(show_label=False, placeholder="Find by title or file name (Enter)",
                                        elem_id="article-filter")
            article_status = gr.HTML("", elem_id="article-status")

            @gr.render(inputs=[listing, article_filter], triggers=[listing.change, article_filter.submit])
            def _articles(_token, words):
                _article_list(chat, article_status, corpus, listing, suggested, words)

        private = dict(api_visibility="private")
        take_kw = dict(queue=False, trigger_mode="multiple", show_progress="hidden", **private)
        answer_kw = dict(concurrency_id="ask", concurrency_limit=ASK_CONCURRENCY, show_progress="hidden",
                         trigger_mode="multiple", **private)
        # waiting for the suggested questions holds no lock and no reader: many pages may wait at once
        ready_kw = dict(concurrency_id="suggest", concurrency_limit=16, **private)
        for send in (question.submit, ask_btn.click):
            send(chat.take, [question, session], [question, chatbot, session, question_error], **take_kw).then(
                chat.answer_pending, session, [chatbot, suggested], **answer_kw)
        suggested.click(chat.take_suggestion, [suggested, session], [chatbot, session], **take_kw).then(
            chat.answer_pending, session, [chatbot, suggested], **answer_kw)
        new_btn.click(chat.clear, session, [chatbot, session], queue=False, **private)
        chatbot.clear(chat.clear, session, [chatbot, session], queue=False, **private)
        chatbot.like(chat.like, session, None, **private)
        copy_all.click(None, None, None, js="() => window.qaCopyAll && window.qaCopyAll(document.activeElement)",
                       **private)
        add_btn.click(chat.stage, [files, uploads], [upload_status, uploads], **take_kw).then(
            chat.add_pending, uploads, [upload_status, corpus, listing], concurrency_id="index", concurrency_limit=1,
            trigger_mode="multiple", **private).then(chat.suggestions_when_ready, None, suggested, **ready_kw)
        demo.load(chat.page_load, None, [suggested, corpus, listing], **private).then(
            chat.suggestions_when_ready, None, suggested, **ready_kw)

        # the programmatic API (gradio_client): one call per question or upload
        api_ask, api_add = gr.Button(visible=False), gr.Button(visible=False)
        api_ask.click(chat.ask, [question, chatbot, session], [question, chatbot, session], api_name="ask",
                      concurrency_id="ask", concurrency_limit=ASK_CONCURRENCY)
        api_add.click(chat.add_api, files, [upload_status, corpus], api_name="add_articles",
                      concurrency_id="index", concurrency_limit=1)
    demo.queue(default_concurrency_limit=ASK_CONCURRENCY, max_size=QUEUE_SIZE)
    calm_queue(demo)
    demo.chat_app = chat  # type: ignore[attr-defined]
    return demo


def calm_queue(demo: gr.Blocks) -> None:
    """Let an idle server sleep. Gradio's queue looks for new work every millisecond on Linux (and for
    progress to send every 10 ms), which keeps a core a few percent busy with nobody on the page; the
    intervals it uses on Windows delay the start of an event by at most 50 ms."""
    demo._queue.sleep_when_free = QUEUE_IDLE_S
    demo._queue.progress_update_sleep_when_free = 2 * QUEUE_IDLE_S


def theme() -> gr.Theme:
    """The default look with the machine's own fonts: the page loads nothing from the internet."""
    sans = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
    return gr.themes.Default(font=sans, font_mono=mono)


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int | None = 7860, *,
           prevent_thread_lock: bool = False, quiet: bool = False):
    """Serve ``demo``: never a share link, analytics off, uploads capped on the server too."""
    return demo.launch(server_name=host, server_port=port, share=False, inbrowser=False,
                       prevent_thread_lock=prevent_thread_lock, show_error=True, quiet=quiet,
                       max_file_size=MAX_UPLOAD_BYTES * 4, css=CSS, theme=theme(), footer_links=["api"],
                       mcp_server=False, ssr_mode=False, pwa=False, enable_monitoring=False)


def watch_folder(qa: QA, chat: ChatApp, **kw: Any) -> FolderWatcher:
    """Keep the index in step with the articles folder, off the request path (questions never wait on
    it): file-system notifications start an update once the folder settles. Returns the started watcher."""

    def changed() -> None:
        try:
            qa.refresh(progress=False)
        except Exception as e:  # keep serving the last good index
            log.warning("refresh failed: %s", e)
        chat.index_changed()

    watcher = FolderWatcher(qa.settings.articles_dir, changed, **kw)
    watcher.start()
    return watcher


def check_port(host: str, port: int) -> None:
    """Raise a one-line :class:`QAError` when ``host:port`` cannot be listened on (checked before any model
    loads, so a busy port is reported at once rather than after indexing)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: TIME_WAIT is not "busy"
        try:
            s.bind((host, port))
        except OSError as e:
            raise QAError(f"cannot listen on {host}:{port} ({e.strerror or e}); another program (another qa chat?) "
                          "uses it: choose another with --port") from e
