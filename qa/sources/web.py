"""Adding articles from the web to the articles folder: ``qa add URL`` and ``qa add FEED_URL --feed``.

    from qa.sources.web import add_urls
    for added in add_urls("seeds", ["https://example.com/news/story"]):
        print(added.status, added.message)             # "added" / "known" / "failed", one line each
    # then refresh the index (QA.refresh()), as after any change to the folder

The folder stays the one thing the index is built from: each page fetched (HTML, PDF or Word) and each feed
item is saved as a JSON record, ``web/<site>/<slug>-<hash>.json`` in the folder, holding its ``url``,
``title``, ``author``, ``date`` (when the page or item gives one), the extracted ``text``, when it was
``fetched``, the ``asked_url`` when a redirect led there, and the ``feed`` and ``feed_item`` it came from.
:mod:`qa.articles` reads such a record like any other and keeps the URL as the article's source, so answers
cite the URL, and a later ``qa index`` never goes to the network. The file's name follows from the URL, so
adding the same page or feed again adds only what is new; a record already there, or moved to ``.removed/``
by the chat's Remove button, is never written again, and no file in the folder is ever replaced.

One address that fails (network error, timeout, robots.txt, a redirect away from the page, an oversized
body, no text) fails alone with its one-line message; the others are added. A feed item that has only a
summary gets its linked page fetched for the full text; when that fails, its summary is kept and the message
says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from qa.articles import (
    REMOVED_DIR,
    TITLE_MAX_CHARS,
    ArticleFileError,
    fragment_text,
    html_page,
    title_from_text,
)
from qa.dates import html_date
from qa.fileio import atomic_create
from qa.sources.documents import DocumentError, docx_document, pdf_document
from qa.sources.feeds import FeedError, FeedItem, parse_feed
from qa.sources.fetch import FetchedPage, Fetcher, FetchError, check_url

log = logging.getLogger(__name__)

#: the folder, inside the articles folder, that fetched articles are saved under
WEB_DIR = "web"
SLUG_CHARS = 60
_NOT_SLUG = re.compile(r"[^a-z0-9]+")

Status = Literal["added", "known", "failed", "skipped"]


@dataclass(frozen=True)
class Added:
    """What became of one address (a page, or one item of a feed): ``status`` ``"added"``, ``"known"``
    (its record is in the folder already, or was removed from it), ``"failed"``, or ``"skipped"`` (the
    new items of a feed beyond :attr:`~qa.config.FetchSettings.max_feed_items`, left for the next run);
    ``message`` says so in one line; ``path`` is the record's path relative to the articles folder."""

    url: str
    status: Status
    message: str
    path: str | None = None
    title: str = ""


def _slug(text: str) -> str:
    return _NOT_SLUG.sub("-", text.lower()).strip("-")[:SLUG_CHARS].strip("-")


def record_path(url: str) -> str:
    """Where the record of ``url`` is kept, relative to the articles folder: ``web/<site>/<slug>-<hash>.json``,
    the slug from the address's last path segment, the hash of the whole address (so two addresses never
    share a file)."""
    parts = urlsplit(url)
    site = _slug(parts.netloc) or "site"
    tail = [p for p in parts.path.split("/") if p]
    stem = _slug(Path(tail[-1]).stem if tail else "") or "index"
    digest = hashlib.sha1(url.encode()).hexdigest()[:10]
    return f"{WEB_DIR}/{site}/{stem}-{digest}.json"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def page_record(page: FetchedPage) -> dict[str, Any]:
    """The record of a fetched page, PDF or Word file: its URL, title, author, date and text. Raises
    :class:`FetchError` when it holds no article text."""
    author = ""
    date = None
    try:
        if page.kind == "html":
            html = page.text()
            parsed = html_page(html)
            title, text, author = parsed.title, parsed.text, parsed.author
            found = html_date(html)
            date = found.date if found else None
        elif page.kind in ("pdf", "docx"):
            doc = pdf_document(page.body) if page.kind == "pdf" else docx_document(page.body)
            title, text, author = doc.title, doc.text, doc.author
        else:
            raise FetchError(f"{page.url}: is a feed; add it with --feed")
    except (DocumentError, ArticleFileError) as e:
        raise FetchError(f"{page.url}: {e}") from e
    if not text.strip():
        raise FetchError(f"{page.url}: no article text found in it; save it and add the file instead")
    # a page reached by a redirect is kept under the address it lives at, so that both lead to one record
    record: dict[str, Any] = {"url": page.final_url, "title": title[:TITLE_MAX_CHARS] or title_from_text(text)}
    if page.final_url != page.url:
        record["asked_url"] = page.url
    if author:
        record["author"] = author
    if date:
        record["date"] = date
    record.update({"fetched": _now(), "text": text})
    return record


def save_record(folder: Path, record: dict[str, Any]) -> Added:
    """Write ``record`` to its place in ``folder`` (:func:`record_path`), unless a record is there already or
    was removed from there; never replaces a file."""
    url = record["url"]
    rel = record_path(url)
    title = record.get("title", "")
    known = _known(folder, url, title)
    if known is not None:
        return known
    (folder / rel).parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(record, ensure_ascii=False, indent=1) + "\n"
    if not atomic_create(folder / rel, data):
        return Added(url, "known", f"{url}: already in the articles folder ({rel}); not added again", rel, title)
    return Added(url, "added", f"'{title}' from {url}, saved as {rel}", rel, title)


def _known(folder: Path, url: str, title: str = "") -> Added | None:
    """An :class:`Added` of status ``"known"`` when the record of ``url`` is in the folder, or was removed."""
    rel = record_path(url)
    if (folder / rel).exists():
        return Added(url, "known", f"{url}: already in the articles folder ({rel}); not added again", rel, title)
    if (folder / REMOVED_DIR / rel).exists():
        return Added(url, "known", f"{url}: removed from the articles before; move {REMOVED_DIR}/{rel} back to add "
                                   "it again", rel, title)
    return None


def add_page(folder: Path, url: str, fetcher: Fetcher) -> Iterator[Added]:
    """Fetch ``url`` and save its article; a feed served there adds its items (:func:`add_feed`). Yields what
    became of it (of each item, for a feed) as it is done; raises :class:`FetchError` when the address fails."""
    url = check_url(url)
    known = _known(folder, url)
    if known is not None:
        yield known
        return
    page = fetcher.fetch(url, "page")
    if page.kind == "feed":
        yield from _add_items(folder, page, fetcher)
    else:
        yield save_record(folder, page_record(page))


def add_feed(folder: Path, url: str, fetcher: Fetcher) -> Iterator[Added]:
    """Fetch the feed at ``url`` and save each item not saved before; yields one :class:`Added` per item as
    it is done."""
    yield from _add_items(folder, fetcher.fetch(check_url(url), "feed"), fetcher)


def _add_items(folder: Path, page: FetchedPage, fetcher: Fetcher) -> Iterator[Added]:
    try:
        feed = parse_feed(page.body, page.final_url)
    except FeedError as e:
        raise FetchError(f"{page.url}: {e}") from e
    if not feed.items:
        raise FetchError(f"{page.url}: the feed has no items")
    cap, tried = fetcher.settings.max_feed_items, 0
    for n, item in enumerate(feed.items):
        if tried >= cap:
            left = len(feed.items) - n
            yield Added(page.url, "skipped", f"{page.url}: {cap} new items were added in this run; the other "
                        f"{left} item{'s' if left != 1 else ''} wait for the next run of the same feed")
            return
        try:
            added = _add_item(folder, page.url, item, fetcher)
        except Exception as e:  # noqa: BLE001 - one bad item never stops the others
            where = item.link or f"{page.url}#{item.key}"
            message = str(e) if isinstance(e, FetchError | OSError) else f"{type(e).__name__}: {e}"
            added = Added(where, "failed", " ".join(message.split())[:300], title=item.title)
        tried += added.status != "known"
        yield added


def _add_item(folder: Path, feed_url: str, item: FeedItem, fetcher: Fetcher) -> Added:
    url = item.link or f"{feed_url}#{item.key}"
    known = _known(folder, url, item.title)
    if known is not None:
        return known
    text, note = fragment_text(item.html), ""
    extra: dict[str, Any] = {}
    if item.summary_only and item.link:
        try:
            page = page_record(fetcher.fetch(item.link, "page"))
            text, extra = page["text"], {k: page[k] for k in ("author", "date") if k in page}
        except FetchError as e:
            if not text:
                raise
            note = f" (the feed's summary only: {e})"
    if not text.strip():
        raise FetchError(f"{url}: the feed item has no text, and no page to fetch it from")
    record: dict[str, Any] = {"url": url, "title": item.title[:TITLE_MAX_CHARS] or title_from_text(text)}
    if item.author:
        record["author"] = item.author
    record.update(extra)
    if item.date:  # the feed's date for the item goes before the page's own
        record["date"] = item.date.date
    record.update({"feed": feed_url, "feed_item": item.key, "fetched": _now(), "text": text})
    added = save_record(folder, record)
    return Added(added.url, added.status, added.message + note, added.path, added.title) if note else added


def add_urls(folder: str | Path, urls: Iterable[str], feed: bool = False, fetcher: Fetcher | None = None,
             progress: Callable[[Added], None] | None = None) -> list[Added]:
    """Add each of ``urls`` (pages; feeds with ``feed=True``) to the articles ``folder``; one that fails
    gives a ``"failed"`` :class:`Added` with its one-line message and the others go on. ``progress`` is
    called with each :class:`Added` as it is done (a feed's items one by one), so a long feed shows progress."""
    out: list[Added] = []
    for added in iter_add_urls(folder, urls, feed, fetcher):
        out.append(added)
        if progress is not None:
            progress(added)
    return out


def iter_add_urls(folder: str | Path, urls: Iterable[str], feed: bool = False,
                  fetcher: Fetcher | None = None) -> Iterator[Added]:
    """:func:`add_urls` one :class:`Added` at a time, as each is done."""
    folder = Path(folder)
    own = fetcher is None
    fetcher = fetcher or Fetcher()
    try:
        for url in urls:
            try:
                yield from add_feed(folder, url, fetcher) if feed else add_page(folder, url, fetcher)
            except FetchError as e:
                yield Added(url.strip(), "failed", str(e))
            except OSError as e:  # the folder cannot be written: said for this address, the rest still tried
                yield Added(url.strip(), "failed", f"{url.strip()}: cannot save it into '{folder}' "
                                                   f"({e.strerror or e})")
            except Exception as e:  # noqa: BLE001 - a parser failing on an odd page never stops the others
                log.warning("adding %s failed", url, exc_info=True)
                detail = " ".join(str(e).split())[:200]
                yield Added(url.strip(), "failed", f"{url.strip()}: could not be read ({type(e).__name__}: {detail})")
    finally:
        if own:
            fetcher.close()
