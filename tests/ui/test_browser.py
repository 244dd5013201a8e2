"""The chat in a real headless browser (Debian's chromium driven by Playwright).

Skipped when chromium or Playwright is missing, unless ``QA_REQUIRE_BROWSER=1`` (CI), where that fails.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

from tests.ui.conftest import ARTIFACTS, hold_indexing

CHROMIUM = os.environ.get("QA_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# generous: a loaded CI machine can take long to upload a file or answer; a real failure still fails
ANSWER_TIMEOUT_MS = 180_000

pytestmark = [
    pytest.mark.slow,  # a launched server (and a browser): about a minute together
    # gradio 6.31 + pandas 3: harmless deprecation noise from gradio's queue
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting' is deprecated"),
]


def _require_browser():
    missing = None
    try:
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError:
        missing = "Playwright is not installed (pip install playwright)"
    if missing is None and not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        missing = f"chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
    if missing:
        if os.environ.get("QA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"QA_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)


@pytest.fixture(scope="session")
def browser():  # session-scoped, and listed before chat_server, so a skip comes before any server starts
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, chat_server):
    context = browser.new_context(viewport={"width": 1100, "height": 1150})
    pg = context.new_page()
    outside: list[str] = []
    pg.on("request", lambda r: None if r.url.startswith((chat_server.url, "data:", "blob:")) else outside.append(r.url))
    pg.goto(chat_server.url)
    pg.wait_for_selector("#question textarea")
    yield pg
    context.close()
    assert not outside, f"the page fetched from outside this machine: {outside[:5]}"


def ask(pg, question: str) -> None:
    """Type a question, send it, wait for its reply."""
    before = pg.locator("#chat .qa-reply").count()
    pg.fill("#question textarea", question)
    pg.press("#question textarea", "Enter")
    pg.wait_for_function(f"document.querySelectorAll('#chat .qa-reply').length > {before}",
                         timeout=ANSWER_TIMEOUT_MS)


FIRST = "Who slipped out of Venezuela last week?"


def last_reply(pg):
    return pg.locator("#chat .qa-reply").last


def _rows(feedback: Path) -> list[dict]:
    return [json.loads(line) for line in feedback.read_text().splitlines()] if feedback.exists() else []


def _wait_for_rows(feedback: Path, n: int) -> list[dict]:
    deadline = time.time() + 60
    while time.time() < deadline and len(_rows(feedback)) < n:
        time.sleep(0.2)
    return _rows(feedback)


def test_page_answers_with_sources_and_takes_feedback(page, chat_server):
    ARTIFACTS.mkdir(exist_ok=True)
    suggestions = page.locator("#suggestions")
    suggestions.get_by_text("?").first.wait_for()  # suggested questions are offered
    assert page.locator("#chat [data-testid=block-label]").count() == 0  # no "Chat" label over the first line
    assert "Works best for facts the articles state" in page.locator("#qa-header").inner_text()
    ask(page, FIRST)
    reply = last_reply(page)
    assert "Guaido" in reply.locator(".qa-answer strong").inner_text()
    assert reply.locator(".qa-cite").first.inner_text() == "[1]"
    sources = reply.locator(".qa-sources").inner_text()
    assert "Russia Vows to Continue Supporting Maduro in Venezuela" in sources and ".txt" in sources
    assert "characters" not in sources  # offsets are for whoever opens the source's panel
    assert "Guaido" in reply.locator(".qa-passage mark").first.inner_text()

    like = page.locator("#chat button[aria-label='Like']").last
    dislike = page.locator("#chat button[aria-label='Dislike']").last
    assert like.bounding_box()["x"] < dislike.bounding_box()["x"]  # thumbs up first, then down
    n_before = len(_rows(chat_server.feedback))
    like.click()
    note = page.locator(".toast-body", has_text="Thanks for the feedback.")
    note.wait_for()
    box, viewport = note.bounding_box(), page.viewport_size
    assert 0 <= box["y"] and box["y"] + box["height"] <= viewport["height"]  # seen where the person is
    rows = _wait_for_rows(chat_server.feedback, n_before + 1)
    row = rows[-1]
    assert row["verdict"] == "up"
    assert row["question"] == row["understood_question"] == FIRST
    assert "Guaido" in row["answer"] and row["citations"][0]["title"].startswith("Russia Vows")
    assert set(row) == {"time", "question", "understood_question", "answer", "score", "citations", "verdict"}
    page.locator("#chat button[aria-label='Liked']").last.click()  # clicked again: taken back
    rows = _wait_for_rows(chat_server.feedback, n_before + 2)
    assert rows[-1]["verdict"] == "none" and rows[-1]["question"] == FIRST
    page.wait_for_function("document.querySelectorAll('.toast-body').length === 0", timeout=60_000)  # they go

    ask(page, "Where did he go last week?")
    reply = last_reply(page)
    understood = re.search(r"Where did (Juan )?Guaido go last week\?", reply.locator(".qa-understood").inner_text())
    assert understood
    text = reply.inner_text()
    answer = chat_server.qa.ask(understood.group(0))  # the page shows what the engine answers to the rewrite
    if answer.found:
        assert answer.text in text and "Sources" in text
    else:
        assert "The articles don't say." in text and "Closest passages" in text
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)


def test_a_citation_opens_the_whole_article_with_the_answer_marked(page):
    ask(page, FIRST)
    reply = last_reply(page)
    panel = reply.locator("details.qa-article").first
    assert not panel.evaluate("d => d.open")
    reply.locator(".qa-cite-button").first.click()
    assert panel.evaluate("d => d.open")
    article = panel.locator(".qa-article-text")
    mark = article.locator("mark")
    mark.wait_for()
    assert "Guaido" in mark.inner_text() and mark.is_visible()
    text = article.inner_text()
    assert text.startswith("Russia Vows to Continue Supporting Maduro in Venezuela")  # the whole article
    assert len(text) > len(reply.locator(".qa-passage").first.inner_text())
    assert re.search(r"characters \d+–\d+", panel.locator(".qa-where").inner_text())


def test_copy_buttons_copy_text_not_html(browser, chat_server):
    context = browser.new_context(viewport={"width": 1100, "height": 1150})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=chat_server.url.rstrip("/"))
    pg = context.new_page()
    try:
        pg.goto(chat_server.url)
        pg.wait_for_selector("#question textarea")
        ask(pg, FIRST)
        last_reply(pg).locator(".qa-copy").click()
        copied = pg.evaluate("navigator.clipboard.readText()")
        assert "<" not in copied and "&#" not in copied, copied
        lines = copied.splitlines()
        assert "Guaido slipped out of Venezuela last week" in lines[0] and lines[0].endswith("[1]")
        # the source line names the file and the article's date (the seed's is its file time)
        assert any(line.startswith("[1] Russia Vows to Continue Supporting Maduro in Venezuela (") and
                   ".txt, " in line and "(file date))" in line for line in lines), copied
        pg.locator("#chat button", has_text="Copy conversation").click()
        pg.wait_for_function("navigator.clipboard.readText().then(t => t.startsWith('Q: '))")
        everything = pg.evaluate("navigator.clipboard.readText()")
        assert everything.startswith(f"Q: {FIRST}\n\n") and copied in everything
        assert "<" not in everything
    finally:
        context.close()


def test_typed_text_is_never_lost(page, chat_server, monkeypatch):
    """A refused question stays in the box, a draft typed while an answer is on its way stays, and a question
    sent meanwhile is shown at once and answered after the first (the first is held until the end)."""
    answering, release = threading.Event(), threading.Event()
    real_ask = chat_server.qa.ask

    def held_ask(question, **kw):
        answering.set()
        assert release.wait(300), "the test never let the answer come"
        return real_ask(question, **kw)

    box = page.locator("#question textarea")
    too_long = "Why did " + "the very long " * 230 + "convoy stop?"
    typed = len(" ".join(too_long.split()))
    assert typed > 2000
    box.fill(too_long)
    assert page.locator("#question-count").inner_text() == f"{typed:,} / 2,000 characters"
    box.press("Enter")
    page.locator("#question-error").get_by_text(f"{typed:,} characters").wait_for()
    assert box.input_value() == too_long  # refused, and kept
    assert page.locator("#chat .qa-question").count() == 0

    monkeypatch.setattr(chat_server.qa, "ask", held_ask)
    try:
        box.fill(FIRST)
        box.press("Enter")
        page.locator("#chat .qa-question", has_text=FIRST).wait_for()  # shown at once
        assert answering.wait(120)
        box.fill("Who is Mike Pence?")
        box.press("Enter")  # while the first is being answered
        page.locator("#chat .qa-question", has_text="Who is Mike Pence?").wait_for()
        page.locator("#chat .qa-pending", has_text="Waiting").wait_for()
        assert not page.locator("#chat button[aria-label='Like']").first.is_visible()  # no thumbs under "Waiting"
        box.fill("And what did Russia")  # a draft
        assert page.locator("#question-error").inner_text() == ""
    finally:
        release.set()
    page.wait_for_function("document.querySelectorAll('#chat .qa-reply').length >= 2", timeout=ANSWER_TIMEOUT_MS)
    replies = page.locator("#chat .qa-reply")
    assert "Guaido" in replies.nth(0).inner_text() and "Pence" in replies.nth(1).inner_text()
    assert box.input_value() == "And what did Russia"


def test_a_failure_is_shown_as_an_error_without_thumbs(page, chat_server, monkeypatch):
    from qa.errors import QAError

    def broken(question, **kw):
        raise QAError("the index in 'vectors' cannot be read")

    monkeypatch.setattr(chat_server.qa, "ask", broken)
    ask(page, FIRST)
    error = last_reply(page).locator(".qa-error")
    assert "the index in 'vectors' cannot be read" in error.inner_text()
    assert error.evaluate("e => getComputedStyle(e).color") != page.locator("#chat .qa-question").evaluate(
        "e => getComputedStyle(e).color")
    row_buttons = page.locator("#chat .message-row:has(.qa-error) + .message-buttons")
    assert row_buttons.count() == 1 and row_buttons.locator("button[aria-label='Like']").count() == 1
    assert not row_buttons.locator("button[aria-label='Like']").is_visible()
    assert not row_buttons.locator("button[aria-label='Dislike']").is_visible()
    assert last_reply(page).locator(".qa-copy").count() == 0


def test_a_new_reply_on_a_narrow_screen_shows_its_start(browser, chat_server):
    """On a phone the reply with its sources is taller than the chat: the chat shows where the reply begins,
    not the end of its sources."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    pg = context.new_page()
    try:
        pg.goto(chat_server.url)
        pg.wait_for_selector("#question textarea")
        ask(pg, FIRST)
        log = pg.locator("#chat [role=log]")
        reply = last_reply(pg)
        assert reply.bounding_box()["height"] > log.bounding_box()["height"]  # it cannot be seen whole
        pg.wait_for_function(
            """() => { const log = document.querySelector('#chat [role=log]').getBoundingClientRect();
                       const replies = document.querySelectorAll('#chat .qa-reply');
                       const top = replies[replies.length - 1].getBoundingClientRect().top;
                       return top >= log.top - 1 && top < log.top + log.height / 2; }""", timeout=30_000)
        pg.screenshot(path=str(ARTIFACTS / "chat-narrow.png"))
    finally:
        context.close()


def test_a_second_add_click_while_indexing_waits_its_turn(page, chat_server, tmp_path, monkeypatch):
    indexing, release = hold_indexing(chat_server, monkeypatch)
    first, second = tmp_path / "canal_a.txt", tmp_path / "canal_b.txt"
    first.write_text("Canal Lock Reopens\n\nThe Brevik canal lock reopened on Monday.\n", encoding="utf-8")
    second.write_text("Canal Fees Rise\n\nFees on the Brevik canal rise by 4 percent in May.\n", encoding="utf-8")
    page.locator("#add-articles").get_by_text("Add articles").first.click()
    status = page.locator("#upload-status")
    try:
        page.locator("#upload input[type=file]").set_input_files(str(first))
        page.locator("#upload").get_by_text("canal_a.txt").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
        page.click("#add")
        assert indexing.wait(120), "the first upload never started indexing"
        page.locator("#upload input[type=file]").set_input_files(str(second))  # joins the list
        page.locator("#upload").get_by_text("canal_b.txt").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
        page.click("#add")  # while the first is being indexed: only the new file is queued
        status.get_by_text("Waiting to add 'canal_b.txt'").wait_for()
    finally:
        release.set()
    page.wait_for_function("['canal_a.txt', 'canal_b.txt'].every(n => document.querySelector('#upload-status')"
                           ".innerText.includes(`Added '${n}'`))", timeout=ANSWER_TIMEOUT_MS)
    articles = chat_server.base / "articles"
    assert (articles / "canal_a.txt").exists() and (articles / "canal_b.txt").exists()
    assert status.inner_text().count("canal_a.txt") == 1  # added once: the second click queued only the new file
    page.click("#add")
    status.get_by_text("Every chosen file was added already").wait_for()


def test_an_article_is_removed_from_the_list(page, chat_server):
    folder = chat_server.base / "articles"
    (folder / "bakery_fire.txt").write_text("Bakery Fire in Lunden\n\nA fire closed the Lunden bakery on Sunday.\n",
                                            encoding="utf-8")
    deadline = time.time() + 120
    while time.time() < deadline and not any(a.source == "bakery_fire.txt" for a in chat_server.qa.articles()):
        time.sleep(0.2)
    page.reload()
    page.wait_for_selector("#question textarea")
    page.locator("#article-list").get_by_text("Articles").first.click()
    page.locator("#article-filter textarea, #article-filter input").first.fill("bakery")
    page.locator("#article-filter textarea, #article-filter input").first.press("Enter")
    row = page.locator(".qa-article-row", has_text="Bakery Fire in Lunden")
    row.wait_for()
    assert "bakery_fire.txt" in row.inner_text() and "words" in row.inner_text()
    row.get_by_role("button", name="Remove").click()
    page.locator("#article-status").get_by_text("Removed 'bakery_fire.txt'").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert not (folder / "bakery_fire.txt").exists() and (folder / ".removed" / "bakery_fire.txt").exists()
    assert all(a.source != "bakery_fire.txt" for a in chat_server.qa.articles())
    page.locator(".qa-article-row", has_text="Bakery Fire in Lunden").wait_for(state="detached")


def test_suggestion_click_asks_it(page):
    suggestion = page.locator("#suggestions").get_by_text("?").first
    suggestion.wait_for()
    question = suggestion.inner_text().strip()
    assert question.endswith("?") and len(question) > 5
    page.fill("#question textarea", "a draft")
    suggestion.click()
    page.wait_for_selector("#chat .qa-reply", timeout=ANSWER_TIMEOUT_MS)
    assert question in page.locator("#chat").inner_text()  # the clicked question was asked
    reply = last_reply(page).inner_text()
    assert "Sources" in reply or "The articles don't say." in reply
    assert page.input_value("#question textarea") == "a draft"  # the draft was left alone


def test_article_markup_never_runs(page, chat_server, tmp_path):
    evil = tmp_path / "evil_article.txt"
    evil.write_text(
        "Quarry Workers Strike in Northfield\n\n"
        "Quarry workers in Northfield began a strike on Tuesday over unpaid overtime. "
        "<script>window.__pwned=1</script> "
        "The union leader Marta Kowalczyk <img src=x onerror=\"window.__pwned=1\"> said the strike would last "
        "a week.\n",
        encoding="utf-8",
    )
    page.locator("#add-articles").get_by_text("Add articles").first.click()
    page.locator("#upload input[type=file]").set_input_files(str(evil))
    page.locator("#upload").get_by_text("evil_article.txt").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.click("#add")
    page.wait_for_function("document.querySelector('#upload-status')?.innerText.includes('Added')",
                           timeout=ANSWER_TIMEOUT_MS)
    ask(page, "What did Marta Kowalczyk say about the Northfield quarry strike?")
    reply = last_reply(page)
    text = reply.inner_text()
    assert "Quarry Workers Strike in Northfield" in text
    assert "<script>window.__pwned=1</script>" in text or '<img src=x onerror="window.__pwned=1">' in text
    assert reply.locator("script").count() == 0 and reply.locator("img").count() == 0
    page.wait_for_timeout(500)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    page.screenshot(path=str(ARTIFACTS / "chat-escaped.png"), full_page=True)


def _luminance(css: str) -> tuple[float, float]:
    """(relative luminance, alpha) of a CSS rgb()/rgba() colour (WCAG 2 formula)."""
    parts = [float(x) for x in re.findall(r"[\d.]+", css)]
    r, g, b = parts[:3]
    alpha = parts[3] if len(parts) > 3 else 1.0

    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b), alpha


def _contrast(fg: str, bg: str) -> float:
    (a, _), (b, alpha) = _luminance(fg), _luminance(bg)
    assert alpha > 0.9, f"the highlight has no opaque background of its own: {bg}"
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


STYLE = "el => { const s = getComputedStyle(el); return [s.color, s.backgroundColor]; }"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_highlighted_answer_is_readable_in_both_themes(browser, chat_server, theme):
    """Gradio follows the system's colour scheme (or ?__theme=dark): the answer's highlight and the
    passage's mark must keep a WCAG AA contrast (4.5:1) in both."""
    context = browser.new_context(viewport={"width": 1100, "height": 1150}, color_scheme=theme)
    pg = context.new_page()
    try:
        pg.goto(f"{chat_server.url}?__theme={theme}")
        pg.wait_for_selector("#question textarea")
        assert pg.evaluate("document.body.classList.contains('dark')") == (theme == "dark")
        ask(pg, FIRST)
        reply = last_reply(pg)
        for selector in (".qa-answer strong", ".qa-passage mark"):
            fg, bg = reply.locator(selector).first.evaluate(STYLE)
            assert _contrast(fg, bg) >= 4.5, (theme, selector, fg, bg)
        pg.screenshot(path=str(ARTIFACTS / f"chat-{theme}.png"), full_page=True)
    finally:
        context.close()


def test_add_from_url_fetches_a_page_and_says_so(page, chat_server):
    from tests.webserver import make_site, serve

    page.locator("#add-articles").get_by_text("Add articles").first.click()
    with serve(make_site(1_000_000)) as site:
        url = site.url("/news/bridge.html")
        box = page.locator("#add-url textarea, #add-url input").first
        box.fill(url)
        page.click("#add-url-button")
        page.locator("#upload-status").get_by_text("Added 'Kestrel Bridge opens to traffic'").wait_for(
            timeout=ANSWER_TIMEOUT_MS)
    assert f"from {url}. You can ask about it now." in page.locator("#upload-status").inner_text()
    assert any(a.source == url for a in chat_server.qa.articles())
