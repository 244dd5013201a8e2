"""The chat in a real headless browser (Debian's chromium driven by Playwright).

Skipped when chromium or Playwright is missing, unless ``QA_REQUIRE_BROWSER=1`` (CI), where that fails.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from tests.ui.conftest import ARTIFACTS

CHROMIUM = os.environ.get("QA_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
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


def test_page_answers_with_sources_and_takes_feedback(page, chat_server):
    ARTIFACTS.mkdir(exist_ok=True)
    suggestions = page.locator("#suggestions")
    suggestions.get_by_text("?").first.wait_for()  # suggested questions are offered
    ask(page, FIRST)
    reply = last_reply(page)
    assert "Guaido" in reply.locator(".qa-answer strong").inner_text()
    assert reply.locator(".qa-cite").first.inner_text() == "[1]"
    sources = reply.locator(".qa-sources").inner_text()
    assert "Russia Vows to Continue Supporting Maduro in Venezuela" in sources
    assert ".txt" in sources and "characters" in sources
    assert "Guaido" in reply.locator(".qa-passage mark").first.inner_text()

    n_before = len(chat_server.feedback.read_text().splitlines()) if chat_server.feedback.exists() else 0
    page.locator("#chat button[aria-label='Like']").last.click()
    deadline = time.time() + 30
    while time.time() < deadline:
        lines = chat_server.feedback.read_text().splitlines() if chat_server.feedback.exists() else []
        if len(lines) > n_before:
            break
        time.sleep(0.2)
    row = json.loads(lines[-1])
    assert row["verdict"] == "up"
    assert row["question"] == row["understood_question"] == FIRST
    assert "Guaido" in row["answer"] and row["citations"][0]["title"].startswith("Russia Vows")
    assert set(row) == {"time", "question", "understood_question", "answer", "score", "citations", "verdict"}

    ask(page, "Where did he go last week?")
    reply = last_reply(page)
    assert re.search(r"Where did (Juan )?Guaido go last week\?", reply.locator(".qa-understood").inner_text())
    text = reply.inner_text()
    assert "Sources" in text or ("The articles don't say." in text and "Closest passages" in text)
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)


def test_suggestion_click_asks_it(page):
    suggestion = page.locator("#suggestions").get_by_text("?").first
    suggestion.wait_for()
    question = suggestion.inner_text().strip()
    assert question.endswith("?") and len(question) > 5
    suggestion.click()
    page.wait_for_selector("#chat .qa-reply", timeout=ANSWER_TIMEOUT_MS)
    assert question in page.locator("#chat").inner_text()  # the clicked question was asked
    reply = last_reply(page).inner_text()
    assert "Sources" in reply or "The articles don't say." in reply


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
    page.locator("#upload").get_by_text("evil_article.txt").first.wait_for()
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
