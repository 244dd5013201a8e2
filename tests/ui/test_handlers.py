"""ui.app.ChatApp handlers called directly: feedback log format, upload checks."""

from __future__ import annotations

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
    app = ChatApp(fake_qa(tmp_path), tmp_path / "fb.jsonl")
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
