"""The items of an RSS or Atom feed: each one an article, with its link, title, date and text.

    from qa.sources.feeds import parse_feed
    feed = parse_feed(path.read_bytes())            # raises FeedError when it is not a feed
    for item in feed.items: print(item.key, item.date, item.title)

feedparser reads the feed (RSS 0.9x/1.0/2.0 and Atom, in any encoding it declares). An item's ``key`` is what
tells it from the feed's other items across runs: its ``guid``/``id``, else its link, else its title. Its
``html`` is the item's full content when the feed carries it (``content:encoded``, Atom ``content``), else its
summary (``description``, Atom ``summary``), and ``summary_only`` says which: ``qa add --feed`` fetches the
linked page for a summary-only item, while a feed file in the folder is read as it is (reading the folder
never uses the network). Its date is the item's ``published`` (else ``updated``) date, read by
:func:`qa.dates.parse_date`, so the publisher's calendar day is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa.dates import METADATA, ArticleDate, parse_date


class FeedError(ValueError):
    """Data that is not an RSS or Atom feed; the message says so."""


@dataclass(frozen=True)
class FeedItem:
    """One item of a feed: ``key`` (its id across runs), ``link`` (``""`` when it has none), ``title``, ``html``
    (content or summary, HTML or plain text), whether that is only a summary, its date and author."""

    key: str
    link: str
    title: str
    html: str
    summary_only: bool
    date: ArticleDate | None = None
    author: str = ""


@dataclass(frozen=True)
class Feed:
    """A feed's title and its items, in the feed's order."""

    title: str
    items: tuple[FeedItem, ...]


def _item_date(entry) -> ArticleDate | None:
    for key in ("published", "updated", "created"):
        found = parse_date(str(entry.get(key) or ""))
        if found is not None:
            return ArticleDate(found, METADATA)
    return None


def _http_link(link: str) -> str:
    return link if link.startswith(("http://", "https://")) else ""


def _item(entry) -> FeedItem | None:
    contents = [c.get("value", "") for c in entry.get("content") or () if c.get("value", "").strip()]
    html = max(contents, key=len) if contents else str(entry.get("summary") or "")
    link = _http_link(str(entry.get("link") or "").strip())
    title = " ".join(str(entry.get("title") or "").split())
    key = str(entry.get("id") or "").strip() or link or title
    if not key:
        return None
    return FeedItem(key=key, link=link, title=title, html=html, summary_only=not contents,
                    date=_item_date(entry), author=str(entry.get("author") or "").strip())


def parse_feed(data: bytes, base_url: str | None = None) -> Feed:
    """The feed in ``data``; raises :class:`FeedError` when it is not RSS or Atom. Items without an id, a link
    or a title (nothing to tell them apart by) are left out. ``base_url`` (where the feed was fetched from)
    turns items' relative links into whole addresses."""
    import feedparser

    # feedparser reads a feed's own address from this header, as if it had fetched it
    parsed = feedparser.parse(data, response_headers={"content-location": base_url} if base_url else None)
    if not parsed.get("version") and not parsed.entries:
        raise FeedError("is not an RSS or Atom feed")
    items = tuple(item for item in map(_item, parsed.entries) if item is not None)
    return Feed(" ".join(str(parsed.feed.get("title") or "").split()), items)
