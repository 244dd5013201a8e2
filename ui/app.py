"""The web chat: a Gradio page over :class:`qa.engine.QA`.

    from qa import QA
    from ui.app import build_app, launch
    demo = build_app(QA("seeds", "vectors"))
    launch(demo, host="127.0.0.1", port=7860)          # blocks; prevent_thread_lock=True returns

or from the shell: ``qa chat [--articles DIR] [--index DIR] [--host H] [--port P]`` (:func:`qa.commands.cmd_chat`).

The page is thin over the engine: its handlers are :class:`ui.handlers.ChatApp` (per-person state in
:mod:`ui.state`), this module lays the page out and serves it; follow-ups are resolved by
:class:`qa.conversation.chat.Conversation`, suggested questions come from :mod:`qa.suggestions` (kept fresh
in the background by :mod:`ui.suggested`), answers are rendered by :mod:`ui.render`, the folder is watched by
:mod:`ui.watch`.

A question is moved from the input into the chat at once and answered in turn: the input stays free
for the next one (a draft typed meanwhile is kept), a second question waits under the first, and a
refused question stays in the input with the reason beside it. Uploads are queued the same way, and
indexed in their own concurrency group, so questions keep being answered meanwhile.

Safe by default: it listens on 127.0.0.1, never opens a public share link, sends no analytics, and shows
article text escaped (see :mod:`ui.render`). Several people at once are queued.
"""

from __future__ import annotations

import logging
import socket
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from qa.articles import KINDS, SUPPORTED_SUFFIXES
from qa.config import FetchSettings
from qa.engine import MAX_QUESTION_CHARS
from qa.errors import QAError
from ui.assets import CSS, SCRIPT
from ui.handlers import N_SUGGESTIONS, ChatApp
from ui.uploads import MAX_UPLOAD_BYTES
from ui.watch import FolderWatcher

if TYPE_CHECKING:  # pragma: no cover
    from qa.engine import QA

log = logging.getLogger(__name__)

ASK_CONCURRENCY = 2        # questions answered at once (the rest wait in the queue)
QUEUE_SIZE = 64            # people waiting at most; beyond, a clear "busy" error
QUEUE_IDLE_S = 0.05        # how often the idle queue looks for work (see calm_queue)


#: which questions the reader answers well, shown under the title (the README says the same, with figures)
WORKS_BEST = ("Works best for facts the articles state: who, when, where, how many, how much, how long. "
              "Why and how questions get the sentence that speaks to them, and a *possible answer* "
              "(Low confidence) is a lead to check against its sentence.")


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
              check_suggestions: bool = True, fetch_settings: FetchSettings | None = None) -> gr.Blocks:
    """The chat page over ``qa`` (not launched; see :func:`launch`). ``demo.chat_app`` is its
    :class:`ChatApp`. The suggested questions are computed in the background: the page shows them once
    they are ready. ``fetch_settings``: how "Add from URL" fetches (default :class:`~qa.config.FetchSettings`)."""
    chat = ChatApp(qa, feedback_path, n_suggestions, check_suggestions, fetch_settings=fetch_settings)
    chat.index_changed()
    with gr.Blocks(title="Article QA", analytics_enabled=False) as demo:
        gr.Markdown("# Article QA\nAsk about the articles: answers are copied word for word from them, "
                    "with their sources. Follow-up questions work.\n\n" + WORKS_BEST, elem_id="qa-header")
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
        with gr.Accordion("Date filter", open=False, elem_id="date-filter"):
            with gr.Row():
                since_box = gr.Textbox(label="Since", placeholder="YYYY-MM-DD", elem_id="since", max_lines=1)
                until_box = gr.Textbox(label="Until", placeholder="YYYY-MM-DD", elem_id="until", max_lines=1)
            gr.Markdown("Answer from articles published in this range only (inclusive; either may be empty). "
                        "Articles without a date are left out while a date is set.")
        with gr.Row():
            question_error = gr.HTML("", elem_id="question-error", padding=False)
            gr.HTML(f"0 / {MAX_QUESTION_CHARS:,} characters", elem_id="question-count", js_on_load=SCRIPT,
                    padding=False)
        hidden = gr.Textbox(visible=False)
        suggested = gr.Dataset(components=[hidden], samples=[[q] for q in chat.suggestions.current()],
                               label="Try asking", elem_id="suggestions", samples_per_page=N_SUGGESTIONS)
        with gr.Accordion("Add articles", open=False, elem_id="add-articles"):
            gr.Markdown(f"{KINDS} files; up to {MAX_UPLOAD_BYTES // 1024 // 1024} MB per file. "
                        "They are indexed at once and can be asked about right away; files added while others "
                        "are being indexed wait their turn.")
            files = gr.File(file_count="multiple", file_types=sorted(SUPPORTED_SUFFIXES), label="Article files",
                            elem_id="upload")
            add_btn = gr.Button("Add to the articles", elem_id="add")
            with gr.Row(equal_height=True):
                url_box = gr.Textbox(label="Add from URL", elem_id="add-url", max_lines=3, scale=6,
                                     placeholder="https://… a web page, a PDF or an RSS/Atom feed (one a line)")
                feed_box = gr.Checkbox(label="It is a feed", elem_id="add-url-feed", scale=1, min_width=120)
                url_btn = gr.Button("Add from URL", elem_id="add-url-button", scale=1, min_width=120)
            gr.Markdown("The page is fetched once (respecting the site's robots.txt) and saved in the articles "
                        "folder, under web/, with its address; a feed adds each of its items, and adding it again "
                        "adds only the new ones.", elem_id="add-url-note")
            upload_status = gr.HTML("", elem_id="upload-status")
        with gr.Accordion("Articles", open=False, elem_id="article-list"):
            article_filter = gr.Textbox(show_label=False, placeholder="Find by title or file name (Enter)",
                                        elem_id="article-filter")
            article_status = gr.HTML("", elem_id="article-status")

            @gr.render(inputs=[listing, article_filter], triggers=[listing.change, article_filter.submit])
            def _articles(_token, words):
                _article_list(chat, article_status, corpus, listing, suggested, words)

        # Any: each is passed to several event listeners, whose keyword arguments have different types
        private: dict[str, Any] = dict(api_visibility="private")
        take_kw: dict[str, Any] = dict(queue=False, trigger_mode="multiple", show_progress="hidden", **private)
        answer_kw: dict[str, Any] = dict(concurrency_id="ask", concurrency_limit=ASK_CONCURRENCY,
                                         show_progress="hidden", trigger_mode="multiple", **private)
        # waiting for the suggested questions holds no lock and no reader: many pages may wait at once
        ready_kw: dict[str, Any] = dict(concurrency_id="suggest", concurrency_limit=16, **private)
        for send in (question.submit, ask_btn.click):
            send(chat.take, [question, session, since_box, until_box], [question, chatbot, session, question_error],
                 **take_kw).then(chat.answer_pending, session, [chatbot, suggested], **answer_kw)
        suggested.click(chat.take_suggestion, [suggested, session, since_box, until_box], [chatbot, session],
                        **take_kw).then(
            chat.answer_pending, session, [chatbot, suggested], **answer_kw)
        new_btn.click(chat.clear, session, [chatbot, session], queue=False, **private)
        chatbot.clear(chat.clear, session, [chatbot, session], queue=False, **private)
        chatbot.like(chat.like, session, None, **private)
        copy_all.click(None, None, None, js="() => window.qaCopyAll && window.qaCopyAll(document.activeElement)",
                       **private)
        add_btn.click(chat.stage, [files, uploads], [upload_status, uploads], **take_kw).then(
            chat.add_pending, uploads, [upload_status, corpus, listing], concurrency_id="index", concurrency_limit=1,
            trigger_mode="multiple", **private).then(chat.suggestions_when_ready, None, suggested, **ready_kw)
        for send in (url_btn.click, url_box.submit):
            send(chat.add_url, [url_box, feed_box], [upload_status, corpus, listing], concurrency_id="index",
                 concurrency_limit=1, **private).then(chat.suggestions_when_ready, None, suggested, **ready_kw)
        demo.load(chat.page_load, None, [suggested, corpus, listing], **private).then(
            chat.suggestions_when_ready, None, suggested, **ready_kw)

        # the programmatic API (gradio_client): one call per question or upload
        api_ask, api_add = gr.Button(visible=False), gr.Button(visible=False)
        api_ask.click(chat.ask, [question, chatbot, session], [question, chatbot, session], api_name="ask",
                      concurrency_id="ask", concurrency_limit=ASK_CONCURRENCY)
        api_add.click(chat.add_api, files, [upload_status, corpus], api_name="add_articles",
                      concurrency_id="index", concurrency_limit=1)
        api_add_url = gr.Button(visible=False)
        api_add_url.click(chat.add_url_api, [url_box, feed_box], [upload_status, corpus],
                          api_name="add_from_url", concurrency_id="index", concurrency_limit=1)
    demo.queue(default_concurrency_limit=ASK_CONCURRENCY, max_size=QUEUE_SIZE)
    calm_queue(demo)
    demo.chat_app = chat  # gr.Blocks allows new attributes; read it with chat_app(demo)
    return demo


def chat_app(demo: gr.Blocks) -> ChatApp:
    """The :class:`ChatApp` behind a page made by :func:`build_app` (``demo.chat_app``)."""
    return getattr(demo, "chat_app")  # noqa: B009 -- an attribute that gr.Blocks does not declare


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
