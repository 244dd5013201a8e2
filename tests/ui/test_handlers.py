"""ui.app.ChatApp handlers called directly: feedback log format, upload checks."""

from __future__ import annotations

import html
import json
from types import SimpleNamespace

import pytest

pytest.importorskip("gradio")

from qa.answering import cite  # noqa: E402
from qa.conversation import Turn  # noqa: E402
from qa.types import Answer, Passage  # noqa: E402
from ui.app import MAX_UPLOAD_BYTES, ChatApp, ChatSession, FeedbackLog, default_feedback_path  # noqa: E402


def turn() -> Turn:
    text = "Guaido went to Colombia."
    p = Passage(0, "a1", "Title", "a.txt", 10, 10 + len(text), text, 1.0, 1)
    a = Answer("Where did Guaido go?", "Colombia", 0.7, [cite(p, 15, 23, 0.7)], [p])
    return Turn("Where did he go?", "Where did Guaido go?", a, "Guaido")


def test_feedback_log_writes_one_object_per_line(tmp_path):
    log = FeedbackLog(tmp_path / "sub" / "feedback.jsonl")
    log.record(turn(), "up")
    log.record(turn(), "down")
    rows = [json.loads(line) for line in (tmp_path / "sub" / "feedback.jsonl").read_text().splitlines()]
    assert [r["verdict"] for r in rows] == ["up", "down"]
    r = rows[0]
    assert list(r) == ["time", "question", "understood_question", "answer", "score", "citations", "verdict"]
    assert r["question"] == "Where did he go?" and r["understood_question"] == "Where did Guaido go?"
    assert r["answer"] == "Colombia" and r["score"] == 0.7
    assert r["citations"][0]["start"] == 25 and r["citations"][0]["source"] == "a.txt"
    assert "T" in r["time"] and r["time"].endswith("+00:00")
    with pytest.raises(ValueError):
        log.record(turn(), "meh")


def fake_qa(tmp_path):
    return SimpleNamespace(settings=SimpleNamespace(index_dir=tmp_path / "idx", articles_dir=tmp_path / "arts"))


def test_like_event_maps_the_message_to_its_turn(tmp_path):
    app = ChatApp(fake_qa(tmp_path), tmp_path / "fb.jsonl")
    session = ChatSession(conversation=None, turn_at={1: turn()})  # type: ignore[arg-type]
    assert app.like(session, SimpleNamespace(index=1, liked=False, value=None)) == "Thanks for the feedback."
    assert app.like(session, SimpleNamespace(index=0, liked=True, value=None)) == ""   # a user message
    assert app.like(None, SimpleNamespace(index=1, liked=True, value=None)) == ""
    rows = (tmp_path / "fb.jsonl").read_text().splitlines()
    assert len(rows) == 1 and json.loads(rows[0])["verdict"] == "down"


def test_default_feedback_path_is_next_to_the_index(tmp_path, monkeypatch):
    monkeypatch.delenv("QA_FEEDBACK", raising=False)
    assert default_feedback_path(fake_qa(tmp_path)) == (tmp_path / "feedback.jsonl").resolve()
    monkeypatch.setenv("QA_FEEDBACK", str(tmp_path / "x.jsonl"))
    assert default_feedback_path(fake_qa(tmp_path)) == tmp_path / "x.jsonl"


def test_upload_checks_type_size_and_emptiness(tmp_path):
    app = ChatApp(fake_qa(tmp_path), tmp_path / "fb.jsonl", upload_root=tmp_path)
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    empty = tmp_path / "e.txt"
    empty.write_text("")
    big = tmp_path / "big.jsonl"
    big.write_bytes(b"x" * (MAX_UPLOAD_BYTES + 1))
    ok = tmp_path / "ok.md"
    ok.write_text("# T\n\ntext")
    assert "'tool.exe' is not an article file: use one of" in app.check_upload(exe)
    assert app.check_upload(empty) == "'e.txt' is empty"
    assert "at most 5 MB" in app.check_upload(big)
    assert app.check_upload(ok) is None
    assert app.add_files([]).startswith("Choose one or more")
    assert "Not added: &#x27;tool.exe&#x27; is not an article file" in app.add_files([str(exe)])


def test_only_files_inside_the_upload_folder_are_taken(tmp_path):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    app = ChatApp(fake_qa(tmp_path), tmp_path / "fb.jsonl", upload_root=uploads)
    outside = tmp_path / "secret.txt"
    outside.write_text("Secret\n\nThe code is 8841.")
    inside = uploads / "ok.txt"
    inside.write_text("Title\n\nBody.")
    link = uploads / "link.txt"
    link.symlink_to(outside)
    sneaky = uploads / ".." / "secret.txt"
    assert app.check_upload(inside) is None
    for path in (outside, link, sneaky, uploads / "missing.txt"):
        assert app.check_upload(path) == f"'{path.name}' was not uploaded through this page", path
    # refused before anything is copied: the engine is never asked to add it
    assert app.add_files([str(outside)]) == "Not added: &#x27;secret.txt&#x27; was not uploaded through this page."


def test_each_upload_is_validated_before_it_is_stored(tmp_path):
    """A binary file named .txt, a hidden name and broken JSON are refused one by one, with a reason, and
    never reach the articles folder; the good file of the same upload is added."""
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    added: list[list] = []

    class Engine:
        settings = SimpleNamespace(index_dir=tmp_path / "idx", articles_dir=tmp_path / "arts")
        snapshot = SimpleNamespace(articles={})

        def add(self, paths):
            added.append(list(paths))
            return SimpleNamespace(problems=["other.txt is empty; skipped"])

    app = ChatApp(Engine(), tmp_path / "fb.jsonl", upload_root=uploads)  # type: ignore[arg-type]
    (uploads / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (uploads / ".hidden.txt").write_text("Hidden\n\nBody.")
    (uploads / "broken.json").write_text("[" * 50_000 + "]" * 50_000)
    (uploads / "tram_strike.md").write_text("# Tram strike\n\nDrivers stopped work on Monday.")
    msg = app.add_files([str(uploads / n) for n in ("photo.txt", ".hidden.txt", "broken.json", "tram_strike.md")])
    lines = [html.unescape(line) for line in msg.split("<br>")]
    assert lines[0] == "Not added: 'photo.txt' looks binary, not text; save the article as UTF-8 text."
    assert lines[1].startswith("Not added: '.hidden.txt' starts with '.'")
    assert lines[2].startswith("Not added: 'broken.json' is nested too deeply")
    assert lines[3] == "Added 'tram_strike.md'. You can ask about it now."
    assert len(lines) == 4  # the folder's other, older problems are not repeated here
    assert added == [[uploads / "tram_strike.md"]]


def test_a_busy_port_is_reported_before_anything_loads(tmp_path, monkeypatch):
    import socket

    import qa.engine
    from qa.errors import QAError
    from ui.app import run_chat_command

    def no_engine(*a, **k):
        raise AssertionError("the models were loaded although the port is busy")

    monkeypatch.setattr(qa.engine, "QA", no_engine)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = SimpleNamespace(articles=tmp_path, index=tmp_path / "idx", host="127.0.0.1", port=port)
        with pytest.raises(QAError, match=rf"cannot listen on 127.0.0.1:{port} .*choose another with --port"):
            run_chat_command(args)
