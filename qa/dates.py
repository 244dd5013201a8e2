"""An article's publication date: from its metadata, else a dateline at the top of its text, else the file's
modification time.

    from qa.dates import record_date, html_date, dateline_date, file_date
    record_date({"title": "...", "published": "2024-03-12T09:30:00Z"})   # ArticleDate("2024-03-12", "metadata")
    dateline_date("LONDON, March 12 (Reuters) - Britain ...", reference)  # ArticleDate("2024-03-12", "dateline")

A date is kept as an ISO calendar date (``YYYY-MM-DD``) without the time of day: most sources give no time,
and a time without a reliable zone would only pretend to a precision the citation does not need. A timestamp
with a zone keeps the publisher's own calendar day (``2024-03-12T23:30:00-05:00`` is 12 March). The file
time is taken in UTC, so the same file gets the same date on every machine.

Date strings are parsed by python-dateutil (JSON fields, datelines) and htmldate (HTML metadata); this module
only decides where to look. A string that lacks its day or year (``March 2024``) is no date, except in a
dateline, whose year news agencies leave out ("LONDON, March 12 (Reuters) -"): that year is the one that puts
the date closest before the file's own date.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from qa.types import DATE_DATELINE as DATELINE
from qa.types import DATE_FILE_TIME as FILE_TIME
from qa.types import DATE_METADATA as METADATA

DATE_SOURCES = (METADATA, DATELINE, FILE_TIME)

#: JSON record fields that hold a publication date, most specific first
DATE_KEYS = ("datePublished", "date_published", "published_at", "publishedAt", "published", "pubDate", "pub_date",
             "publication_date", "publicationDate", "publish_date", "publishDate", "date")
#: a dateline is looked for in the first lines of the text only: a date further down is about something else
DATELINE_LINES = 4
DATELINE_CHARS = 400
_EARLIEST = date(1800, 1, 1)

#: month names and their abbreviations ("march", "mar", "sept") -> month number: the one table of them
MONTH_NUMBERS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTH_NUMBERS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTH_NUMBERS["sept"] = 9

#: the same names as a regular-expression alternation (lower case, longest first)
MONTH_PATTERN = "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True))

_MONTH = rf"(?:{MONTH_PATTERN})\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]|20)\d{2}"
_WEEKDAY = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+"
_DATE = (rf"(?:{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?|{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?"
         rf"|{_YEAR}-\d{{2}}-\d{{2}})")
# "LONDON, March 12 (Reuters) -", "NEW YORK, 12 March 2024 -", "Paris, March 12, 2024 —": a place in capitals
# (or capitalised words: case-sensitive, so that a sentence's opening words are not taken for one), the date,
# then an agency in brackets or a dash
_DATELINE = re.compile(
    rf"^\s*(?:(?-i:[A-Z][A-Za-z.'\-]*(?:\s+[A-Z][A-Za-z.'\-]*){{0,3}})\s*(?:\([^)\n]{{1,40}}\))?,\s*)"
    rf"(?:{_WEEKDAY})?(?P<date>{_DATE})\s*(?:\([^)\n]{{1,40}}\)\s*)?(?:[-–—:]|$)",
    re.IGNORECASE)
# a line that is a date and nothing much else: "12 March 2024", "Published: Tuesday, March 12, 2024 10:30 GMT"
_DATE_LINE = re.compile(
    rf"^\s*(?:(?:published|posted|dated?)\s*(?:on\s*)?:?\s*)?(?:{_WEEKDAY})?(?P<date>{_DATE})"
    rf"\s*(?:[,|·•\-–—]?\s*(?:at\s+)?\d{{1,2}}[:.]\d{{2}}(?:\s*[ap]\.?m\.?)?(?:\s+[A-Z]{{2,5}})?)?\s*$",
    re.IGNORECASE)
_HAS_YEAR = re.compile(_YEAR)


@dataclass(frozen=True)
class ArticleDate:
    """An article's date (``YYYY-MM-DD``) and where it came from (:data:`METADATA`, :data:`DATELINE` or
    :data:`FILE_TIME`)."""

    date: str
    source: str


def _checked(d: date, today: date | None = None) -> str | None:
    """``d`` as ISO text, or ``None`` when it cannot be a publication date (before 1800, or after tomorrow)."""
    today = today or datetime.now(UTC).date()
    if not _EARLIEST <= d <= date.fromordinal(today.toordinal() + 1):
        return None
    return d.isoformat()


def parse_date(text: str) -> str | None:
    """``text`` as ISO date when python-dateutil reads a whole date in it (day, month and year), else ``None``."""
    from dateutil import parser

    text = text.strip()
    if not text or len(text) > 100 or not any(ch.isdigit() for ch in text):
        return None
    try:
        # parsed twice with different defaults: a part the text lacks (day, month, year) comes out differently
        a = parser.parse(text, default=datetime(2001, 1, 1))
        b = parser.parse(text, default=datetime(2002, 2, 2))
    except (ValueError, OverflowError, TypeError):
        return None
    if a.date() != b.date():
        return None
    return _checked(a.date())


def _from_value(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        # seconds since 1970, or milliseconds (what JavaScript writes) when too large for seconds
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
            return _checked(datetime.fromtimestamp(seconds, UTC).date())
        except (ValueError, OverflowError, OSError):
            return None
    if isinstance(value, str):
        return parse_date(value)
    return None


def record_date(record: Mapping[str, Any]) -> ArticleDate | None:
    """The date in a JSON record's first date field (:data:`DATE_KEYS`) that holds a readable one."""
    for key in DATE_KEYS:
        if key in record:
            found = _from_value(record[key])
            if found is not None:
                return ArticleDate(found, METADATA)
    return None


def html_date(html: str) -> ArticleDate | None:
    """The publication date in an HTML page's metadata: ``<meta>`` tags (``article:published_time``,
    ``name="date"``, Dublin Core, ...), JSON-LD ``datePublished``, ``<time datetime>`` and ``<abbr>`` dates.

    htmldate reads them, but given only those elements: on a whole page it would also take a date from the
    URL, the headline or anywhere in the text, which is a guess, not metadata.
    """
    import lxml.html
    from htmldate import find_date

    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return None
    keep = tree.xpath("//meta | //script[contains(@type, 'ld+json')] | //time | //abbr")
    if not keep:
        return None
    parts = "".join(lxml.html.tostring(e, encoding="unicode", with_tail=False) for e in keep)
    today = datetime.now(UTC).date()
    found = find_date(f"<html><head></head><body>{parts}</body></html>", extensive_search=False,
                      original_date=True, min_date=_EARLIEST.isoformat(),
                      max_date=date.fromordinal(today.toordinal() + 1).isoformat())
    if not found:
        return None
    checked = _checked(date.fromisoformat(found), today)
    return ArticleDate(checked, METADATA) if checked else None


def dateline_date(text: str, reference: date | None = None) -> ArticleDate | None:
    """The date of a dateline ("LONDON, March 12 (Reuters) -") or a date line ("12 March 2024") in the first
    :data:`DATELINE_LINES` lines of ``text``; ``reference`` (the file's date) gives a dateline without a year
    its year. A date line must carry its year."""
    head = text[:DATELINE_CHARS]
    lines = [line for line in head.splitlines() if line.strip()][:DATELINE_LINES]
    for line in lines:
        m = _DATELINE.match(line) or _DATE_LINE.match(line)
        if m is None:
            continue
        found = _dateline_value(m.group("date"), reference, yearless=m.re is _DATELINE)
        if found is not None:
            return ArticleDate(found, DATELINE)
    return None


def _dateline_value(text: str, reference: date | None, yearless: bool) -> str | None:
    if _HAS_YEAR.search(text):
        return parse_date(text)
    if not yearless:
        return None
    from dateutil import parser

    today = datetime.now(UTC).date()
    ref = reference or today
    try:
        d = parser.parse(text, default=datetime(ref.year, 1, 1)).date()
    except (ValueError, OverflowError):
        return None
    if d > date.fromordinal(ref.toordinal() + 1):  # a dateline is written before the file is saved
        try:
            d = d.replace(year=d.year - 1)
        except ValueError:  # 29 February
            return None
    return _checked(d, today)


def file_date(mtime: float) -> ArticleDate:
    """The date of a file's modification time (seconds since 1970), in UTC."""
    return ArticleDate(datetime.fromtimestamp(mtime, UTC).date().isoformat(), FILE_TIME)
