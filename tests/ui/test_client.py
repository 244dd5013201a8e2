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
    status, _samples, corpus = client.predict([handle_file(str(article))], api_name="/add_articles")
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
    status, _s, _c = client.predict([handle_file(str(big)), handle_file(str(empty))], api_name="/add_articles")
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


def test_questions_are_answered_while_an_upload_is_indexed(chat_server, tmp_path):
    paragraphs = [f"Report {i}: the harvest in district {i} of Kelmoria reached {1000 + i} tonnes this autumn, "
                  f"according to the regional farming office, which counted every cooperative in district {i}."
                  for i in range(500)]
    article = tmp_path / "harvests.txt"
    article.write_text("Kelmoria Harvest Reports\n\n" + "\n\n".join(paragraphs), encoding="utf-8")
    uploader, asker = Client(chat_server.url, verbose=False), Client(chat_server.url, verbose=False)
    upload = uploader.submit([handle_file(str(article))], api_name="/add_articles")
    deadline = time.time() + 60
    while time.time() < deadline and not any("Indexing" in str(o) for o in upload.outputs()):
        time.sleep(0.1)
    assert not upload.done(), "the upload finished before the test could ask anything"
    t0 = time.time()
    _, history = asker.predict("Who is Mike Pence?", [], api_name="/ask")
    asked_in = time.time() - t0
    indexing_still = not upload.done()
    status = upload.result(timeout=600)[0]
    assert "Added 'harvests.txt'" in visible(status)
    assert "Pence" in visible(text_of(history[-1]))
    assert indexing_still, f"the question waited for the indexing ({asked_in:.1f}s)"


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
