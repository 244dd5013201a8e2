"""One chat server for the UI tests: a private copy of seeds/, launched once on a free loopback port, its folder
watched as `qa chat` watches it."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import REPO, SEEDS

ARTIFACTS = REPO / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def chat_server(tmp_path_factory, embedder):
    """The app over its own articles folder and index (uploads in the tests land there, not in seeds/)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from qa import QA
    from ui.app import build_app, launch, watch_folder

    base: Path = tmp_path_factory.mktemp("chat")
    shutil.copytree(SEEDS, base / "articles")
    # as `qa chat` does: the folder is not re-checked on each question, so questions never wait on indexing
    qa = QA(base / "articles", base / "index", embedder=embedder, auto_refresh=False)
    qa.refresh()
    feedback = base / "feedback.jsonl"
    demo = build_app(qa, feedback_path=feedback)
    watcher = watch_folder(qa, demo.chat_app, debounce=0.3)  # as `qa chat` does
    port = free_port()
    launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{port}/", port=port, qa=qa, demo=demo, base=base,
                              feedback=feedback, chat=demo.chat_app, watcher=watcher)
    finally:
        watcher.stop()
        demo.chat_app.close()
        demo.close()


def hold_indexing(chat_server, monkeypatch) -> tuple[threading.Event, threading.Event]:
    """Hold every ``qa.add`` of the server inside its indexing: ``(indexing, release)``; the first is set
    when an add has started, setting the second lets it finish."""
    indexing, release = threading.Event(), threading.Event()
    add = chat_server.qa.add

    def held_add(paths):
        indexing.set()
        assert release.wait(300), "the test never let the indexing finish"
        return add(paths)

    monkeypatch.setattr(chat_server.qa, "add", held_add)
    return indexing, release
