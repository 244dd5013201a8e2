"""ui.handlers.ChatApp handlers called directly: feedback log format, the question queue, upload checks and
messages, the article list."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from types import SimpleNamespace

import pytest

pytest.importorskip("gradio")

from qa.answerers.protocol import cite  # noqa: E402
from qa.articles import make_article  # noqa: E402
from qa.conversation.turns import Turn  # noqa: E402
from qa.feedback import FeedbackLog, default_feedback_path  # noqa: E402
from qa.types import Answer, Passage  # noqa: E402
from ui.handlers import ChatApp, verdict_of  # noqa: E402
from ui.state import ChatSession, UploadQueue  # noqa: E402
from ui.uploads import MAX_UPLOAD_BYTES  # noqa: E402

SKIP = {"__type__": "update"}  # gr.skip(): this output is left as it is


def visible(markup: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", markup).split())


def turn() -> Turn:
    text = "Guaido went to Colombia."
    p = Passage(0, "a1", "Title", "a.txt", 10, 10 + len(text), text, 1.0, 1)
    a = Answer("Where did Guaido go?", "Colombia", 0.7, [cite(p, 15, 23, 0.7)], [p])
    return Turn("Where did he go?", "Where did Guaido go?", a, "Guaido")


def test_feedback_log_writes_one_object_per_line(tmp_path):
    log = FeedbackLog(tmp_path / "sub" / "feedback.jsonl")
    log.record(turn(), "up")
    log.record(turn(), "down")
    log.record(turn(), "none")
    rows = [json.loads(line) for line in (tmp_path / "sub" / "feedback.jsonl").read_text().splitlines()]
    assert [r["verdict"] for r in rows] == ["up", "down", "none"]
    r = rows[0]
    assert list(r) == ["time", "question", "understood_question", "answer", "score", "citations", "verdict"]
    assert r["question"] == "Where did he go?" and r["understood_question"] == "Where did Guaido go?"
    assert r["answer"] == "Colombia" and r["score"] == 0.7
    assert r["citations"][0]["start"] == 25 and r["citations"][0]["source"] == "a.txt"
    assert "T" in r["time"] and r["time"].endswith("+00:00")
    with pytest.raises(ValueError):
        log.record(turn(), "meh")


def fake_qa(tmp_path, articles=None):
    return SimpleNamespace(settings=SimpleNamespace(index_dir=tmp_path / "idx", articles_dir=tmp_path / "arts"),
                           snapshot=SimpleNamespace(generation="gen-1", articles=articles or {}))


def test_like_event_maps_the_message_to_its_turn(tmp_path):
    app = ChatApp(fake_qa(tmp_path), tmp_path / "fb.jsonl")
    session = ChatSession(conversation=None, turn_at={1: turn()})  # type: ignore[arg-type]
    app.like(session, SimpleNamespace(index=1, liked=False, value=None))
    app.like(session, SimpleNamespace(index=0, liked=True, value=None))   # a user message
    app.like(None, SimpleNamespace(index=1, liked=True, value=None))
    rows = (tmp_path / "fb.jsonl").read_text().splitlines()
    assert len(rows) == 1 and json.loads(rows[0])["verdict"] == "down"


def test_clicking_a_thumb_again_takes_the_verdict_back(tmp_path):
    """Gradio sends ``liked == ""`` when the selected thumb is clicked again: that is recorded as "none"."""
    assert [verdict_of(x) for x in (True, False, "Like", "Dislike", "", None)] == ["up", "down", "up", "down",
                                                                                   "none", "none"]
    app = ChatApp(fake_qa(tmp_path), tmp_path / "fb.jsonl")
    session = ChatSession(conversation=None, turn_at={1: turn()})  # type: ignore[arg-type]
    app.like(session, SimpleNamespace(index=1, liked=True, value=None))
    app.like(session, SimpleNamespace(index=1, liked="", value=None))
    verdicts = [json.loads(r)["verdict"] for r in (tmp_path / "fb.jsonl").read_text().splitlines()]
    assert verdicts == ["up", "none"]


class ScriptedConversation:
    """Answers each question with :func:`turn`'s answer, or blocks until released."""

    def __init__(self, gate=None):
        self.asked: list[str] = []
        self.gate = gate

    def ask_turn(self, question: str) -> Turn:
        self.asked.append(question)
        if self.gate is not None:
            self.gate.wait(30)
        t = turn()
        return Turn(question, question, t.answer, None)


def test_an_over_long_question_stays_in_the_box_with_its_typed_length(tmp_path):
    """Refused before it is sent: the text is not cleared, nothing enters the chat, and the count is of the text
    as typed (a follow-up's rewriting never inflates it)."""
    app = ChatApp(fake_qa(tmp_path), tmp_path / "fb.jsonl")
    session = ChatSession(conversation=ScriptedConversation())  # type: ignore[arg-type]
    typed = "How many countries have recognized him, " + "and " * 737 + "when?"
    assert len(typed) == 2_993
    box, chat, session, note = app.take(typed, session)
    assert box == SKIP and chat == SKIP  # the input keeps the text; the chat is unchanged
    note = html.unescape(note)
    assert "the question is 2,993 characters long; ask it in at most 2,000 characters" in note
    assert "still in the box" in note
    assert session.messages == [] and not session.pending and session.conversation.asked == []


def test_a_question_is_shown_at_once_and_a_second_one_waits_its_turn(tmp_path):
    app = ChatApp(fake_qa(tmp_path), tmp_path / "fb.jsonl")
    session = ChatSession(conversation=ScriptedConversation())  # type: ignore[arg-type]
    box, chat, session, note = app.take("Where did he go?", session)
    assert box == "" and note == ""
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert "Where did he go?" in chat[0]["content"] and "Looking through the articles" in chat[1]["content"]
    _, chat, session, _ = app.take("And then?", session)
    assert "And then?" in chat[2]["content"] and "Waiting" in chat[3]["content"]  # shown while it waits
    updates = [u[0] for u in app.answer_pending(session) if u[0] != SKIP]
    final = updates[-1]
    assert [m["role"] for m in final] == ["user", "assistant", "user", "assistant"]
    assert all('class="qa-reply"' in final[i]["content"] for i in (1, 3))
    assert session.conversation.asked == ["Where did he go?", "And then?"]
    assert sorted(session.turn_at) == [1, 3]  # thumbs on either reply find their turn


def test_only_one_answering_loop_runs_per_session(tmp_path):
    """A second send while a question is answered starts no second loop: the running one takes the question."""
    import threading

    gate = threading.Event()
    app = ChatApp(fake_qa(tmp_path), tmp_path / "fb.jsonl")
    session = ChatSession(conversation=ScriptedConversation(gate))  # type: ignore[arg-type]
    app.take("First?", session)
    first = app.answer_pending(session)
    next(first)  # the first question is being worked on
    app.take("Second?", session)
    assert list(app.answer_pending(session)) == [(SKIP, SKIP)]
    gate.set()
    list(first)
    assert session.conversation.asked == ["First?", "Second?"]
    assert not session.busy and not session.pending


def test_a_loop_that_finds_nothing_to_do_leaves_the_page_alone(tmp_path):
    """A send's answering loop can start after an earlier loop took its question: it must still say "no change"
    (a Gradio generator that yields nothing empties its outputs: the chat, the upload messages)."""

    app = ChatApp(fake_qa(tmp_path), tmp_path / "fb.jsonl")
    session = ChatSession(conversation=ScriptedConversation())  # type: ignore[arg-type]
    assert list(app.answer_pending(session)) == [(SKIP, SKIP)]
    assert list(app.add_pending(UploadQueue())) == [(SKIP, SKIP, SKIP)]


def test_new_chat_drops_the_reply_being_worked_on(tmp_path):
    app = ChatApp(fake_qa(tmp_path), tmp_path / "fb.jsonl")
    session = ChatSession(conversation=ScriptedConversation())  # type: ignore[arg-type]
    app.take("First?", session)
    app.take("Second?", session)
    loop = app.answer_pending(session)
    next(loop)
    assert "Looking through the articles" in next(loop)[0][1]["content"]  # the first question is taken
    assert app.clear(session) == ([], None)
    assert list(loop) == [] and session.conversation.asked == ["First?"]


def test_default_feedback_path_is_next_to_the_index(tmp_path, monkeypatch):
    monkeypatch.delenv("QA_FEEDBACK", raising=False)
    assert default_feedback_path(fake_qa(tmp_path).settings) == (tmp_path / "feedback.jsonl").resolve()
    monkeypatch.setenv("QA_FEEDBACK", str(tmp_path / "x.jsonl"))
    assert default_feedback_path(fake_qa(tmp_path).settings) == tmp_path / "x.jsonl"


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
        snapshot = SimpleNamespace(generation="gen-1", articles={})

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
    from qa.commands import cmd_chat
    from qa.errors import QAError

    def no_engine(*a, **k):
        raise AssertionError("the models were loaded although the port is busy")

    monkeypatch.setattr(qa.engine, "QA", no_engine)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = SimpleNamespace(articles=tmp_path, index=tmp_path / "idx", host="127.0.0.1", port=port)
        with pytest.raises(QAError, match=rf"cannot listen on 127.0.0.1:{port} .*choose another with --port"):
            cmd_chat(args)


def test_upload_messages_say_per_file_what_happened_in_plain_words(tmp_path):
    """A renamed file says where it went, a file of several articles says how many, a file already indexed
    says nothing changed; each upload is made readable (0644) before it is stored."""
    from qa.articles import read_file

    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "tram.md").write_text("# Tram strike\n\nDrivers stopped work on **Monday**.")
    (uploads / "feed.jsonl").write_text('{"title": "One", "text": "First body."}\n'
                                        '{"title": "Two", "text": "Second."}\n')
    (uploads / "old.txt").write_text("Old news\n\nNothing new here.")
    for p in uploads.iterdir():
        p.chmod(0o600)  # as the upload folder holds them
    old = read_file(uploads / "old.txt", "old.txt")[0][0]

    class Engine:
        settings = SimpleNamespace(index_dir=tmp_path / "idx", articles_dir=tmp_path / "arts")
        snapshot = SimpleNamespace(generation="gen-1", articles={old.id: old})

        def add(self, paths):
            stored = [a for p in paths for a in read_file(p, "tram-1.md" if p.name == "tram.md" else p.name)[0]]
            self.snapshot = SimpleNamespace(generation="gen-2", articles={a.id: a for a in stored + [old]})

    app = ChatApp(Engine(), tmp_path / "fb.jsonl", upload_root=uploads)  # type: ignore[arg-type]
    lines = [html.unescape(line) for line in app.add_lines([uploads / n for n in ("tram.md", "feed.jsonl", "old.txt")])]
    assert lines == [
        "Added 'tram.md', stored as 'tram-1.md' because another file has its name. You can ask about it now.",
        "Added 'feed.jsonl' (2 articles). You can ask about them now.",
        "'old.txt' was already in the index: nothing changed.",
    ]
    assert {p.stat().st_mode & 0o777 for p in uploads.iterdir()} == {0o644}


def test_the_article_list_shows_title_size_and_file_and_removes_files(tmp_path):
    folder = tmp_path / "arts"
    folder.mkdir()
    (folder / "storm.txt").write_text("Storm <b>Hits</b> Coast\n\nA storm hit the coast on Monday.")
    (folder / "feed.jsonl").write_text("x" * 2048)
    storm = replace(make_article("storm.txt", "Storm <b>Hits</b> Coast",
                                 "Storm Hits Coast\n\nA storm hit the coast on Monday."),
                    date="2023-11-14", date_source="file time")
    records = [make_article(f"feed.jsonl#{i}", f"Record {i}", f"Body of record {i}.") for i in range(4)]
    removed: list[list[str]] = []
    qa = fake_qa(tmp_path, {a.id: a for a in [storm, *records]})
    qa.settings.articles_dir = folder
    qa.remove = lambda sources: removed.append(list(sources))
    app = ChatApp(qa, tmp_path / "fb.jsonl")

    files, total = app.article_files()
    assert [f.source for f in files] == ["feed.jsonl", "storm.txt"] and total == 2  # by title: "Record 0" < "Storm ..."
    storm_row = html.unescape(app.article_html(files[1]))
    assert "Storm <b>Hits</b> Coast" in storm_row and "<b>" not in app.article_html(files[1])
    assert "Storm Hits Coast 2023-11-14 (file date) storm.txt" in visible(storm_row)  # its date, marked
    assert f"storm.txt · 10 words · {(folder / 'storm.txt').stat().st_size} bytes" in visible(storm_row)
    feed_row = html.unescape(app.article_html(files[0]))
    assert "4 articles: Record 0; Record 1; Record 2; … feed.jsonl · 16 words · 2.0 KB" in visible(feed_row)
    assert "cannot be removed one by one" in feed_row
    assert [f.source for f in app.article_files("storm")[0]] == ["storm.txt"]

    status, _corpus, _token = app.remove("storm.txt")
    assert removed == [["storm.txt"]]
    assert "Removed 'storm.txt'" in html.unescape(status) and ".removed/" in status


class DatedConversation(ScriptedConversation):
    """Records the date filter each question was asked with."""

    def __init__(self):
        super().__init__()
        self.dates: list[tuple[str | None, str | None]] = []

    def ask_turn(self, question: str, *, since: str | None = None, until: str | None = None) -> Turn:
        self.dates.append((since, until))
        return super().ask_turn(question)


def test_the_date_filter_goes_with_each_question_and_a_bad_date_keeps_the_question_in_the_box(tmp_path):
    app = ChatApp(fake_qa(tmp_path), tmp_path / "fb.jsonl")
    session = ChatSession(conversation=DatedConversation())  # type: ignore[arg-type]
    box, chat, session, note = app.take("How many buses?", session, "2024-03-01", "")
    assert box == "" and note == ""
    app.take("And in February?", session, "", "2024-02-29")
    app.take("And overall?", session, "", "")
    list(app.answer_pending(session))
    assert session.conversation.dates == [("2024-03-01", None), (None, "2024-02-29"), (None, None)]
    assert session.dates_at == {}
    box, chat, session, note = app.take("How many buses?", session, "March 2024", "")
    assert box == SKIP and chat == SKIP
    assert "since must be a date written YYYY-MM-DD" in html.unescape(note) and "still in the box" in note
    assert len(session.conversation.asked) == 3


def test_add_from_url_adds_pages_and_feeds_lists_them_by_address_and_says_each_failure(tmp_path, embedder):
    """The "Add from URL" box over a real index and a local web server: the good page is added and indexed, each
    bad address gets its own line, a feed adds its items once, and a removed page is not added again."""
    from qa import QA
    from qa.config import FetchSettings
    from qa.sources.web import record_path
    from tests.webserver import Response, make_site, rss, serve

    folder = tmp_path / "arts"
    folder.mkdir()
    (folder / "note.txt").write_text("Town note\n\nThe town hall closes at five on Fridays.\n")
    qa = QA(folder, tmp_path / "idx", embedder=embedder, auto_refresh=False)
    qa.refresh()
    app = ChatApp(qa, tmp_path / "fb.jsonl", check_suggestions=False,
                  fetch_settings=FetchSettings(timeout=0.5, max_bytes=64_000))
    with serve(make_site(64_000)) as site:
        bridge, secret, gone = (site.url(p) for p in ("/news/bridge.html", "/private/secret.html", "/gone.html"))
        steps = list(app.add_url(f"{secret}\n{bridge}  {gone}"))
        assert html.unescape(steps[0][0]).startswith(f"Fetching {secret}, {bridge}, {gone}")
        assert steps[0][1] == SKIP and any("Indexing…" in step[0] for step in steps)
        status, corpus, _token = steps[-1]
        lines = html.unescape(status).split("<br>")
        assert lines == [f"Not added: {secret}: not fetched: its robots.txt does not allow fetching it.",
                         f"Added 'Kestrel Bridge opens to traffic' from {bridge}. You can ask about it now.",
                         f"Not added: {gone}: the server answered HTTP 404 (not found: check the address)."]
        assert "2 articles indexed" in corpus
        answer = qa.ask("How long is the Kestrel Bridge?")
        assert "480 metres" in answer.text and answer.citations[0].source == bridge

        files, _n = app.article_files("kestrel")
        assert [f.source for f in files] == [record_path(bridge)]  # the file, which Remove moves
        assert bridge in html.unescape(app.article_html(files[0]))  # the row names the address
        removed, corpus, _token = app.remove(files[0].source)
        assert removed.startswith("Removed") and "1 article indexed" in corpus
        again = html.unescape(app.add_url_lines(bridge)[0])
        assert again == (f"Nothing changed: {bridge}: removed from the articles before; "
                         f"move .removed/{files[0].source} back to add it again.")

        site.routes["/feed.rss"] = Response(rss([
            {"title": "Ferry strike ends", "guid": "f1", "link": site.url("/ferry"),
             "content": "<p>The ferry strike ended after nine days.</p>"},
            {"title": "Council approves new library", "guid": "f2", "link": site.url("/news/council.html"),
             "summary": "A library vote."}]), "text/html")  # a feed served as HTML: "It is a feed" says what it is
        status, corpus, _token = list(app.add_url(site.url("/feed.rss"), True))[-1]
        assert html.unescape(status).count("Added '") == 2 and "3 articles indexed" in corpus
        again = "<br>".join(app.add_url_lines(site.url("/feed.rss"), True))
        assert again.count("Nothing changed") == 2 and again.count("already in the articles folder") == 2
    assert app.add_url_lines("   ")[0].startswith("Paste the address of a web page")


def test_a_pdf_upload_is_added_and_a_scanned_one_is_refused_in_one_line(tmp_path, embedder):
    from qa import QA
    from tests.webserver import PDF_LINES, make_pdf, make_scanned_pdf

    folder, uploads = tmp_path / "arts", tmp_path / "up"
    folder.mkdir()
    uploads.mkdir()
    (folder / "note.txt").write_text("Town note\n\nThe town hall closes at five on Fridays.\n")
    qa = QA(folder, tmp_path / "idx", embedder=embedder, auto_refresh=False)
    qa.refresh()
    app = ChatApp(qa, tmp_path / "fb.jsonl", check_suggestions=False, upload_root=uploads)
    (uploads / "dredging.pdf").write_bytes(make_pdf(PDF_LINES, title="Harbour dredging report"))
    (uploads / "scan.pdf").write_bytes(make_scanned_pdf())
    lines = html.unescape(app.add_files([str(uploads / "scan.pdf"), str(uploads / "dredging.pdf")])).split("<br>")
    assert lines == ["Not added: 'scan.pdf' has no text layer (1 page of images: a scan?); run OCR on it "
                     "(e.g. ocrmypdf) and add the result.", "Added 'dredging.pdf'. You can ask about it now."]
    assert not (folder / "scan.pdf").exists()
    answer = qa.ask("How deep will the main channel of Port Ellis be dredged?")
    assert "14 metres" in answer.text and answer.citations[0].source == "dredging.pdf"
    c = answer.citations[0]
    assert qa.snapshot.articles[c.article_id].text[c.start:c.end] == answer.text
