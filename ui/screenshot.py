"""Save a screenshot of the chat answering a question and a follow-up (for the README).

    python -m ui.screenshot docs/chat.png [--articles seeds]
    python -m ui.screenshot docs/chat-dark.png --theme dark

Needs Playwright and a chromium at ``/usr/bin/chromium`` (or ``$QA_CHROMIUM``). The index is built in a
temporary folder, so the repository's ``vectors/`` is not touched (the articles are only read).
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
from pathlib import Path

from qa.config import REPO_ROOT
from qa.engine import QA
from ui.app import build_app, chat_app, launch

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
QUESTIONS = ("Who slipped out of Venezuela last week?", "How many countries have recognized him?")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--articles", type=Path, default=REPO_ROOT / "seeds")
    ap.add_argument("--width", type=int, default=1100)
    ap.add_argument("--height", type=int, default=1400)
    ap.add_argument("--theme", choices=("light", "dark"), default="light",
                    help="the page's colour scheme (as a browser set to it would show it)")
    ap.add_argument("questions", nargs="*", default=list(QUESTIONS))
    args = ap.parse_args(argv)

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        qa = QA(args.articles, Path(tmp) / "index")  # the articles are only read
        qa.refresh()
        demo = build_app(qa, feedback_path=Path(tmp) / "feedback.jsonl")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=os.environ.get("QA_CHROMIUM", "/usr/bin/chromium"),
                                            args=ARGS, headless=True)
                page = browser.new_page(viewport={"width": args.width, "height": args.height},
                                        color_scheme=args.theme)
                page.goto(f"http://127.0.0.1:{port}/?__theme={args.theme}")
                page.wait_for_selector("#question textarea")
                page.locator("#suggestions").get_by_text("?").first.wait_for(timeout=300_000)
                for i, q in enumerate(args.questions, 1):
                    page.fill("#question textarea", q)
                    page.press("#question textarea", "Enter")
                    page.wait_for_function(f"document.querySelectorAll('#chat .qa-reply').length >= {i}",
                                           timeout=300_000)
                page.wait_for_timeout(500)
                page.locator("#chat [role=log], #chat .bubble-wrap").first.evaluate("e => e.scrollTop = 0")
                page.wait_for_timeout(300)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.out), full_page=True)
                browser.close()
        finally:
            chat_app(demo).close()
            demo.close()
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
