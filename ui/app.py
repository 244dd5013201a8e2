"""The web chat: a Gradio page over :class:`qa.engine.QA`.

    from qa import QA
    from ui.app import build_app, launch
    demo = build_app(QA("seeds", "vectors"))
    launch(demo, host="127.0.0.1", port=7860)          # blocks; prevent_thread_lock=True returns

or from the shell: ``qa chat [--articles DIR] [--index DIR] [--host H] [--port P]``.

The page is thin over the engine: follow-ups are resolved by :class:`qa.conversation.Conversation`,
suggested questions come from :mod:`qa.suggestions`, answers are rendered by :mod:`ui.render`.

Safe by default: it listens on 127.0.0.1, never opens a public share link, sends no analytics, and shows
article text escaped (see :mod:`ui.render`). Several people at once are queued; indexing an upload runs
in its own concurrency group so questions keep being answered meanwhile.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

import gradio as gr  # noqa: E402

from qa.articles import SUPPORTED_SUFFIXES, ArticleFileError, content_hash, read_file  # noqa: E402
from qa.conversation import Conversation, Turn  # noqa: E402
from qa.errors import QAError  # noqa: E402
from qa.suggestions import suggest_questions  # noqa: E402
from ui.render import esc, render_error, render_question, render_reply  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    from qa.engine import QA

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_FILES = 20
ASK_CONCURRENCY = 2        # questions answered at once (the rest wait in the queue)
QUEUE_SIZE = 64            # people waiting at most; beyond, a clear "busy" error
N_SUGGESTIONS = 6
WATCH_SECONDS = 5.0        # how often `qa chat` looks for changed files in the articles folder

CSS = """
#qa-header h1 { margin-bottom: 0; }
.qa-understood { color: var(--body-text-color-subdued); font-size: 0.9em; margin-bottom: 0.4em; }
.qa-answer { margin: 0 0 0.3em 0; }
.qa-meta { color: var(--body-text-color-subdued); font-size: 0.85em; margin: 0 0 0.5em 0; }
.qa-sources-title { font-weight: 600; margin: 0.4em 0 0.2em 0; }
.qa-sources ol { margin: 0; padding-left: 1.4em; }
.qa-source-title { font-weight: 600; }
.qa-where { color: var(--body-text-color-subdued); font-size: 0.85em; }
.qa-passage { margin: 0.2em 0 0.6em 0; padding-left: 0.6em; border-left: 3px solid var(--border-color-primary);
              font-size: 0.9em; }
/* a highlight sets its text colour with its background: the page's text colour flips in dark mode */
.qa-answer strong { background: #fef3c7; color: #1f2937; padding: 0 2px; border-radius: 3px; }
.qa-passage mark { background: #fde68a; color: #1f2937; }
.qa-noanswer strong { color: #92400e; }
.dark .qa-answer strong { background: #78350f; color: #fef3c7; }
.dark .qa-passage mark { background: #92400e; color: #fffbeb; }
.dark .qa-noanswer strong { color: #fbbf24; }
"""


# ----------------------------------------------------------------------------- feedback
class FeedbackLog:
    """Appends one JSON object a line per thumbs up/down: time, question, understood_question, answer,
    score, citations, verdict ("up" or "down")."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, turn: Turn, verdict: str) -> dict[str, Any]:
        if verdict not in ("up", "down"):
            raise ValueError("verdict must be 'up' or 'down'")
        a = turn.answer
        row = {
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "question": turn.question,
            "understood_question": turn.understood_question,
            "answer": a.text,
            "score": float(a.score),
            "citations": [c.to_dict() for c in a.citations],
            "verdict": verdict,
        }
        line = json.dumps(row, ensure_ascii=False)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        return row


def default_feedback_path(qa: QA) -> Path:
    """``$QA_FEEDBACK``, else ``feedback.jsonl`` next to the index folder."""
    env = os.environ.get("QA_FEEDBACK")
    return Path(env) if env else qa.settings.index_dir.resolve().parent / "feedback.jsonl"


# ----------------------------------------------------------------------------- per-person state
@dataclass
class ChatSession:
    """One person's chat: the conversation and which turn each assistant message shows."""

    conversation: Conversation
    turn_at: dict[int, Turn] = field(default_factory=dict)


class ChatApp:
    """The handlers behind the page (plain methods, so tests can call them without a browser)."""

    def __init__(self, qa: QA, feedback_path: str | Path | None = None, n_suggestions: int = N_SUGGESTIONS,
                 check_suggestions: bool = True, upload_root: str | Path | None = None) -> None:
        self.qa = qa
        # the API takes file *references*: only files under Gradio's own upload folder were sent by a
        # client; any other path names a file of this server, which must never become an article
        self.upload_root = Path(upload_root or gr.utils.get_upload_folder()).resolve()
        self.feedback = FeedbackLog(feedback_path or default_feedback_path(qa))
        self.n_suggestions = n_suggestions
        self.check_suggestions = check_suggestions
        self._suggestions: list[str] = []
        self._suggestions_gen: object = None
        self._lock = threading.Lock()

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

    def suggestions(self) -> list[str]:
        """Suggested questions for the current index (recomputed when the index changes)."""
        try:
            snap = self.qa.snapshot
        except QAError:
            return []
        with self._lock:
            if self._suggestions_gen != snap.generation:
                try:
                    self._suggestions = suggest_questions(
                        snap.articles.values(), self.n_suggestions, qa=self.qa if self.check_suggestions else None)
                except QAError as e:  # pragma: no cover - depends on the index
                    log.warning("no suggestions: %s", e)
                    self._suggestions = []
                self._suggestions_gen = snap.generation
            return list(self._suggestions)

    # ---------------------------------------------------------------- chat
    def new_session(self) -> ChatSession:
        return ChatSession(Conversation(self.qa))

    def answer(self, question: str, session: ChatSession | None) -> tuple[str, Turn | None, ChatSession]:
        """``(reply html, turn or None on an error, session)`` for ``question``."""
        session = session or self.new_session()
        try:
            turn = session.conversation.ask_turn(question)
        except QAError as e:
            return render_error(str(e)), None, session
        except Exception as e:  # keep the chat usable; the log has the details
            log.exception("answering %r failed", question)
            return render_error(f"Something went wrong while answering: {e}"), None, session
        return render_reply(turn.answer, turn.question, turn.understood_question, turn.rewrite_note), turn, session

    def ask(self, question: str, history: list[dict] | None, session: ChatSession | None):
        """Chat event: shows the question at once, then the reply (a generator, for the page)."""
        history = list(history or [])
        question = (question or "").strip()
        if not question:
            yield "", history, session
            return
        history.append({"role": "user", "content": render_question(question)})
        yield "", history + [{"role": "assistant", "content": "<p class=\"qa-thinking\"><em>Looking through the "
                                                             "articles…</em></p>"}], session
        reply, turn, session = self.answer(question, session)
        history.append({"role": "assistant", "content": reply})
        if turn is not None:
            session.turn_at[len(history) - 1] = turn
        yield "", history, session

    def clear(self):
        return [], None, ""

    def like(self, session: ChatSession | None, data: gr.LikeData) -> str:
        """Thumbs up/down on a reply: appended to the feedback log."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        verdict = {True: "up", False: "down"}.get(data.liked) if isinstance(data.liked, bool) else \
            {"like": "up", "dislike": "down"}.get(str(data.liked).lower())
        turn = session.turn_at.get(int(index)) if session and index is not None else None
        if verdict is None or turn is None:
            return ""
        self.feedback.record(turn, verdict)
        return "Thanks for the feedback."

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
        paths = [Path(getattr(f, "name", None) or getattr(f, "path", None) or f) for f in (files or [])]
        if not paths:
            return "Choose one or more .txt, .md, .html, .json or .jsonl files first."
        if len(paths) > MAX_UPLOAD_FILES:
            return f"Add at most {MAX_UPLOAD_FILES} files at a time ({len(paths)} were chosen)."
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
            return "<br>".join(lines)
        try:
            known = {a.content_hash for a in self.qa.snapshot.articles.values()}
        except QAError:
            known = set()
        try:
            report = self.qa.add(list(ok))
        except QAError as e:
            return "<br>".join(lines + [f"Not added: {esc(e)}."])
        for p, hashes in ok.items():
            if hashes <= known:
                lines.append(f"'{esc(p.name)}': already in the index.")
            else:
                lines.append(f"Added '{esc(p.name)}'. You can ask about it now.")
        stems = tuple(p.stem for p in ok)
        lines += [f"Skipped: {esc(m)}." for m in (report.problems if report else []) if m.startswith(stems)]
        return "<br>".join(lines)

    def add(self, files):
        """Upload event (a generator: says it is working first)."""
        if files:
            yield "Indexing…", gr.update(), gr.update()
        msg = self.add_files(files)
        yield msg, gr.update(samples=[[q] for q in self.suggestions()]), self.corpus_line()

    def page_load(self):
        return gr.update(samples=[[q] for q in self.suggestions()]), self.corpus_line()


def build_app(qa: QA, *, feedback_path: str | Path | None = None, n_suggestions: int = N_SUGGESTIONS,
              check_suggestions: bool = True) -> gr.Blocks:
    """The chat page over ``qa`` (not launched; see :func:`launch`). ``demo.chat_app`` is its
    :class:`ChatApp`."""
    chat = ChatApp(qa, feedback_path, n_suggestions, check_suggestions)
    examples = chat.suggestions()
    with gr.Blocks(title="Article QA", analytics_enabled=False) as demo:
        gr.Markdown("# Article QA\nAsk about the articles: answers are copied word for word from them, "
                    "with their sources. Follow-up questions work.", elem_id="qa-header")
        corpus = gr.Markdown(chat.corpus_line(), elem_id="qa-corpus")
        session = gr.State(None)
        chatbot = gr.Chatbot(
            elem_id="chat", label="Chat", height="68vh", min_height=420, sanitize_html=True, render_markdown=True,
            latex_delimiters=[], allow_tags=False, feedback_options=("Like", "Dislike"),
            placeholder="Ask a question about the articles, or pick a suggestion below.", buttons=["copy", "copy_all"],
        )
        with gr.Row():
            question = gr.Textbox(elem_id="question", show_label=False, scale=8, max_lines=4, autofocus=True,
                                  placeholder="Ask a question about the articles")
            ask_btn = gr.Button("Ask", variant="primary", elem_id="ask", scale=1, min_width=80)
            new_btn = gr.Button("New chat", elem_id="new-chat", scale=1, min_width=80)
        hidden = gr.Textbox(visible=False)
        suggested = gr.Dataset(components=[hidden], samples=[[q] for q in examples], label="Try asking",
                               elem_id="suggestions", samples_per_page=N_SUGGESTIONS)
        feedback_note = gr.Markdown("", elem_id="feedback-note")
        with gr.Accordion("Add articles", open=False, elem_id="add-articles"):
            gr.Markdown(f".txt, .md, .html, .json or .jsonl; up to {MAX_UPLOAD_BYTES // 1024 // 1024} MB per file. "
                        "They are indexed at once and can be asked about right away.")
            files = gr.File(file_count="multiple", file_types=sorted(SUPPORTED_SUFFIXES), label="Article files",
                            elem_id="upload")
            add_btn = gr.Button("Add to the articles", elem_id="add")
            upload_status = gr.HTML("", elem_id="upload-status")

        ask_kw = dict(concurrency_id="ask", concurrency_limit=ASK_CONCURRENCY)
        question.submit(chat.ask, [question, chatbot, session], [question, chatbot, session], api_name="ask", **ask_kw)
        ask_btn.click(chat.ask, [question, chatbot, session], [question, chatbot, session],
                      api_visibility="private", **ask_kw)
        suggested.click(lambda s: s[0], suggested, question, queue=False, api_visibility="private").then(
            chat.ask, [question, chatbot, session], [question, chatbot, session], api_visibility="private", **ask_kw)
        new_btn.click(chat.clear, None, [chatbot, session, question], queue=False, api_visibility="private")
        chatbot.like(chat.like, session, feedback_note, api_visibility="private")
        chatbot.clear(lambda: None, None, session, queue=False, api_visibility="private")
        add_btn.click(chat.add, files, [upload_status, suggested, corpus], api_name="add_articles",
                      concurrency_id="index", concurrency_limit=1)
        demo.load(chat.page_load, None, [suggested, corpus], api_visibility="private")
    demo.queue(default_concurrency_limit=ASK_CONCURRENCY, max_size=QUEUE_SIZE)
    demo.chat_app = chat  # type: ignore[attr-defined]
    return demo


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


def _watch(qa: QA, stop: threading.Event, every: float = WATCH_SECONDS) -> None:
    """Keep the index in step with the folder, off the request path (questions never wait on it)."""
    while not stop.wait(every):
        try:
            qa.refresh(progress=False)
        except Exception as e:  # keep serving the last good index
            log.warning("refresh failed: %s", e)


def check_port(host: str, port: int) -> None:
    """Raise a one-line :class:`QAError` when ``host:port`` cannot be listened on (checked before any model
    loads, so a busy port is reported at once rather than after indexing)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: TIME_WAIT is not "busy"
        try:
            s.bind((host, port))
        except OSError as e:
            raise QAError(f"cannot listen on {host}:{port} ({e.strerror or e}); another program (another qa chat?) "
                          "uses it: choose another with --port") from e


def run_chat_command(args) -> int:
    """``qa chat``: check the port, index the folder, serve the page, block until interrupted; says what it
    is doing at each step, since the first start can take a while."""
    from qa.config import Settings
    from qa.engine import QA

    host = getattr(args, "host", "127.0.0.1") or "127.0.0.1"
    port = getattr(args, "port", 7860)
    check_port(host, port)
    logging.getLogger("transformers").setLevel(logging.ERROR)  # its advice on long inputs is not for users
    qa = QA(args.articles, args.index, settings=Settings(), auto_refresh=False)
    print(f"Articles: {qa.settings.articles_dir}\nIndex:    {qa.settings.index_dir}\n"
          "Loading the index and bringing it up to date with the folder…", flush=True)
    report = qa.refresh()
    for problem in report.problems if report is not None else []:
        print(f"skipped: {problem}", file=sys.stderr)
    n = len(qa.snapshot.articles)
    print("Preparing the page (suggested questions)…", flush=True)
    demo = build_app(qa)
    stop = threading.Event()
    threading.Thread(target=_watch, args=(qa, stop), daemon=True, name="qa-watch").start()
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"Serving the chat over {n} article{'s' if n != 1 else ''} at http://{shown}:{port} (Ctrl+C to stop).",
          flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"Listening on {host}: other machines can reach this page.")
    try:
        launch(demo, host, port, quiet=True)
    except OSError as e:
        raise QAError(f"cannot listen on {host}:{port} ({e}); choose another --port") from e
    finally:
        stop.set()
    return 0
