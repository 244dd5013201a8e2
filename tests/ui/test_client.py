"""The chat over HTTP, with gradio_client against a launched app: answers, sources, follow-ups, uploads."""

from __future__ import annotations

import html
import re
import threading
import time

import pytest

pytest.importorskip("gradio_client")

from gradio_client import Client, handle_file  # noqa: E402

from tests.conftest import SEED_FILE  # noqa: E402
from tests.ui.conftest import hold_indexing  # noqa: E402

pytestmark = [
    pytest.mark.slow,  # a launched server (and a browser): about a minute together
    # gradio 6.31 + pandas 3: harmless deprecation noise from gradio's queue
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting' is deprecated"),
]

QUESTION = "Who slipped out of Venezuela last week?"


def text_of(message) -> str:
    content = message["content"]
    if isinstance(content, list):
        content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content


def visible(markup: str) -> str:
    """What a person reads: tags dropped, character references decoded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


@pytest.fixture(scope="module")
def client(chat_server):
    return Client(chat_server.url, verbose=False)


@pytest.fixture(scope="module")
def first_turn(client):
    box, history = client.predict(QUESTION, [], api_name="/ask")
    return box, history


def test_ask_returns_answer_with_sources(first_turn, chat_server):
    box, history = first_turn
    assert box == ""
    assert [m["role"] for m in history] == ["user", "assistant"]
    reply = text_of(history[-1])
    shown = visible(reply)
    assert "Guaido" in shown
    assert "<strong>" in reply and 'class="qa-cite"' in reply and "[1]" in shown
    assert "Sources" in shown
    assert "Russia Vows to Continue Supporting Maduro in Venezuela" in shown
    source = SEED_FILE.name
    assert source in shown and re.search(r"characters \d+–\d+", shown)
    assert "<mark>" in reply
    assert "Understood as" not in shown  # a standalone question passes through unchanged


def test_follow_up_is_understood_from_the_previous_turn(client, first_turn):
    _, history = first_turn
    _, history = client.predict("Where did he go last week?", history, api_name="/ask")
    assert len(history) == 4
    shown = visible(text_of(history[-1]))
    assert re.search(r"Understood as: Where did (Juan )?Guaido go last week\?", shown), shown
    assert "slipped out of Venezuela" in shown or "Colombia" in shown


def test_no_answer_says_so_and_offers_passages(client):
    _, history = client.predict("What is the boiling point of liquid nitrogen?", [], api_name="/ask")
    shown = visible(text_of(history[-1]))
    assert "The articles don't say." in shown
    assert "Closest passages" in shown


def test_empty_question_adds_nothing(client):
    box, history = client.predict("   ", [], api_name="/ask")
    assert history == []


def test_upload_then_ask_about_it(client, chat_server, tmp_path):
    before = len(chat_server.qa.snapshot.articles)
    article = tmp_path / "harbour.txt"
    article.write_text(
        "Harbour Bridge Reopens in Tallinn\n\n"
        "The Tallinn harbour bridge reopened on Monday after an eight-month repair costing 14 million euros.\n\n"
        "Mayor Kristiina Oja said the bridge would carry trams again from next spring.\n",
        encoding="utf-8",
    )
    status, corpus = client.predict([handle_file(str(article))], api_name="/add_articles")
    assert "Added 'harbour.txt'" in visible(status), status
    assert f"{before + 1} articles indexed" in visible(corpus)
    _, history = client.predict("How much did the repair of the Tallinn harbour bridge cost?", [], api_name="/ask")
    shown = visible(text_of(history[-1]))
    assert "14 million euros" in shown
    assert "Harbour Bridge Reopens in Tallinn" in shown and "harbour.txt" in shown


def test_upload_limits_are_explained(client, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("Big Title\n\n" + "word " * (1_300_000), encoding="utf-8")  # about 6.5 MB
    empty = tmp_path / "empty.md"
    empty.write_text("", encoding="utf-8")
    status, _c = client.predict([handle_file(str(big)), handle_file(str(empty))], api_name="/add_articles")
    shown = visible(status)
    assert "'big.txt' is 6.2 MB; files of at most 5 MB can be added here" in shown
    assert "'empty.md' is empty" in shown
    assert "Added" not in shown


def test_thirty_people_at_once_are_all_answered(chat_server):
    """30 concurrent users over loopback: every one gets the answer to their own question, none dropped."""
    asks = {
        QUESTION: "Guaido",
        "Who is Mike Pence?": "Pence",
        "What did Russia vow?": "Russia",
        "What is the boiling point of liquid nitrogen?": "The articles don't say.",
    }
    questions = [list(asks)[i % len(asks)] for i in range(30)]
    results: dict[int, list] = {}
    errors: list = []
    start = threading.Barrier(len(questions), timeout=120)

    def one(i: int, q: str) -> None:
        try:
            c = Client(chat_server.url, verbose=False)
            start.wait()  # all 30 submit together
            results[i] = c.predict(q, [], api_name="/ask")[1]
        except Exception as e:  # pragma: no cover - reported below
            errors.append(f"user {i}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=one, args=(i, q)) for i, q in enumerate(questions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors
    assert sorted(results) == list(range(len(questions))), "some users got no reply"
    for i, q in enumerate(questions):
        history = results[i]
        assert [m["role"] for m in history] == ["user", "assistant"]
        assert visible(text_of(history[0])) == q, "a reply went to the wrong person"
        assert asks[q] in visible(text_of(history[1])), (q, visible(text_of(history[1]))[:300])


def test_questions_are_answered_while_an_upload_is_indexed(chat_server, tmp_path, monkeypatch):
    """The upload is held inside its indexing until the question has its answer."""
    indexing, release = hold_indexing(chat_server, monkeypatch)
    article = tmp_path / "harvests.txt"
    article.write_text("Kelmoria Harvest Reports\n\nThe harvest in Kelmoria reached 1,204 tonnes this autumn.",
                       encoding="utf-8")
    uploader, asker = Client(chat_server.url, verbose=False), Client(chat_server.url, verbose=False)
    upload = uploader.submit([handle_file(str(article))], api_name="/add_articles")
    try:
        assert indexing.wait(120), "the upload never reached the indexing"
        _, history = asker.predict("Who is Mike Pence?", [], api_name="/ask")
        assert "Pence" in visible(text_of(history[-1]))
        assert not upload.done()  # answered while the upload was still being indexed
    finally:
        release.set()
    assert "Added 'harvests.txt'" in visible(upload.result(timeout=600)[0])


def test_an_upload_and_the_next_question_never_wait_on_suggested_questions(chat_server, tmp_path, monkeypatch):
    """Suggested questions are recomputed in the background after an upload: here that computation is held
    until the end, and the upload is reported and a question about it answered meanwhile."""
    import ui.suggested

    computing, release = threading.Event(), threading.Event()
    real = ui.suggested.suggest_questions

    def held(*args, **kwargs):
        computing.set()
        assert release.wait(300), "the test never let the suggestions finish"
        return real(*args, **kwargs)

    monkeypatch.setattr(ui.suggested, "suggest_questions", held)
    article = tmp_path / "lighthouse.txt"
    article.write_text("Lighthouse Keeper Retires in Vardo\n\nThe Vardo lighthouse keeper, Ingrid Solberg, retired on "
                       "Sunday after 41 years of service.\n", encoding="utf-8")
    client = Client(chat_server.url, verbose=False)
    try:
        upload = client.submit([handle_file(str(article))], api_name="/add_articles")
        assert "Added 'lighthouse.txt'" in visible(upload.result(timeout=120)[0])
        assert computing.wait(120), "the suggested questions were not recomputed after the upload"
        _, history = client.predict("Who was the Vardo lighthouse keeper?", [], api_name="/ask")
        assert "Ingrid Solberg" in visible(text_of(history[-1]))
        assert not release.is_set()  # all of it while the suggestions were still being computed
    finally:
        release.set()
    assert chat_server.chat.suggestions.wait(timeout=300), "no suggested questions after the upload"


def test_an_uploaded_article_is_stored_readable_like_the_others(client, chat_server, tmp_path):
    """Uploads arrive as private temporary files (0600); stored, an article is readable by whoever can read the
    folder (0644)."""
    article = tmp_path / "quay.txt"
    article.write_text("Quay Repairs Begin\n\nRepairs of the north quay in Haldor began on Tuesday.\n",
                       encoding="utf-8")
    status = visible(client.predict([handle_file(str(article))], api_name="/add_articles")[0])
    assert status == "Added 'quay.txt'. You can ask about it now.", status
    assert (chat_server.base / "articles" / "quay.txt").stat().st_mode & 0o777 == 0o644


def test_a_markdown_article_is_answered_without_its_markup(client, chat_server, tmp_path):
    from tests.conftest import assert_citations_exact

    article = tmp_path / "fisheries.md"
    article.write_text("# Tromso Fishing Board Elects a Chair\n\n**Greta Halvorsen** was elected chair of the "
                       "[Tromso fishing board](https://example.org/board) on Friday.\n\n- She replaces *Odd Berg*.\n"
                       "- The board meets monthly.\n", encoding="utf-8")
    status = visible(client.predict([handle_file(str(article))], api_name="/add_articles")[0])
    assert status.startswith("Added 'fisheries.md'"), status
    question = "Who was elected chair of the Tromso fishing board?"
    _, history = client.predict(question, [], api_name="/ask")
    shown = visible(text_of(history[-1]))
    assert "Greta Halvorsen" in shown and "Tromso Fishing Board Elects a Chair" in shown
    for markup in ("**", "# Tromso", "](", "- She", "*Odd"):
        assert markup not in shown, markup
    assert_citations_exact(chat_server.qa.ask(question), chat_server.qa)  # offsets into the converted text


def test_a_file_dropped_into_the_folder_is_indexed_without_a_question_waiting(client, chat_server):
    """The folder is watched: the new file is indexed by the watcher (the server's engine never refreshes on a
    question), then answered at once."""
    (chat_server.base / "articles" / "ferry_strike.txt").write_text(
        "Ferry Crews Strike in Kvaloy\n\nFerry crews in Kvaloy went on strike on Wednesday, led by the union "
        "steward Petra Lind.\n", encoding="utf-8")
    deadline = time.time() + 120
    while time.time() < deadline and not any(a.source == "ferry_strike.txt" for a in chat_server.qa.articles()):
        time.sleep(0.2)
    assert any(a.source == "ferry_strike.txt" for a in chat_server.qa.articles()), "the dropped file was not indexed"
    _, history = client.predict("Who led the ferry strike in Kvaloy?", [], api_name="/ask")
    assert "Petra Lind" in visible(text_of(history[-1]))


def test_a_server_side_path_is_refused_as_an_upload(chat_server, tmp_path_factory):
    """The API takes file references. A client elsewhere that names a path on the server (a file it never
    uploaded) must not get that file added to the articles and quoted back. The request is sent as such a
    client sends it: gradio_client would read a path that exists on *its* machine and upload the bytes,
    which is an ordinary upload of a file the client could read."""
    import httpx

    secret = tmp_path_factory.mktemp("outside") / "server_secret.txt"
    secret.write_text("Server notes\n\nThe vault code of the Tarsine depot is 8841-QX.", encoding="utf-8")
    before = sorted(p.name for p in (chat_server.base / "articles").iterdir())
    call = f"{chat_server.url}gradio_api/call/add_articles"
    event = httpx.post(call, json={"data": [[{"path": str(secret), "meta": {"_type": "gradio.FileData"}}]]}).json()
    with httpx.stream("GET", f"{call}/{event['event_id']}", timeout=120) as stream:
        replies = "\n".join(stream.iter_lines())
    assert "event: error" in replies and "Added" not in replies, replies
    assert sorted(p.name for p in (chat_server.base / "articles").iterdir()) == before
    assert all("8841" not in a.text for a in chat_server.qa.articles())
    _, history = Client(chat_server.url, verbose=False).predict(
        "What is the vault code of the Tarsine depot?", [], api_name="/ask")
    assert "8841" not in visible(text_of(history[-1]))


def test_a_malformed_upload_is_refused_alone_and_later_uploads_work(client, chat_server, tmp_path):
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    status = visible(client.predict([handle_file(str(nested))], api_name="/add_articles")[0])
    assert status.startswith("Not added: 'nested.json' is nested too deeply"), status
    assert not (chat_server.base / "articles" / "nested.json").exists()  # never stored, so never re-read
    good = tmp_path / "ferry.txt"
    good.write_text("Ferry Service Resumes\n\nThe Orsund ferry resumed sailing on Friday with a new captain, "
                    "Linnea Dahl.\n", encoding="utf-8")
    status = visible(client.predict([handle_file(str(good))], api_name="/add_articles")[0])
    assert status == "Added 'ferry.txt'. You can ask about it now.", status
    _, history = client.predict("Who is the new captain of the Orsund ferry?", [], api_name="/ask")
    assert "Linnea Dahl" in visible(text_of(history[-1]))


def test_an_idle_server_does_not_spin(chat_server):
    """Gradio's queue looks for work every millisecond unless told otherwise: a few percent of a core with nobody
    on the page. The folder needs no polling either (notifications: tests/ui/test_watch.py)."""
    assert chat_server.demo._queue.sleep_when_free >= 0.05
    assert chat_server.watcher.mode == "notify"


def test_add_from_url_then_ask_and_the_answer_cites_the_address(client, chat_server):
    """The add_from_url API (the "Add from URL" box) against a local web server: the page is fetched, indexed and
    cited by its address; a bad address among them gets its own line and stops nothing."""
    from tests.webserver import make_site, serve

    before = len(chat_server.qa.snapshot.articles)
    with serve(make_site(1_000_000)) as site:
        page, gone = site.url("/news/council.html"), site.url("/gone.html")
        status, corpus = client.predict(f"{gone}\n{page}", False, api_name="/add_from_url")
    shown = visible(status)
    assert f"Not added: {gone}: the server answered HTTP 404" in shown
    assert f"Added 'Council approves new library' from {page}. You can ask about it now." in shown
    assert f"{before + 1} articles indexed" in visible(corpus)
    _, history = client.predict("How many books will the new library in Alderford hold?", [], api_name="/ask")
    reply = visible(text_of(history[-1]))
    assert "40,000" in reply and page in reply and "2024-03-14" in reply
