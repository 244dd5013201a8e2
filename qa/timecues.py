"""Time in questions: the date range or recency preference a question's words ask for.

    from qa.timecues import time_cue, check_date
    time_cue("Who won the vote in March 2019?")          # TimeCue(since="2019-03-01", until="2019-03-31")
    time_cue("What is the latest casualty figure?")      # TimeCue(prefer_recent=True)
    time_cue("What happened last week?", newest=date(2024, 3, 12))   # since 2024-03-05, until 2024-03-12
    check_date("2024-03-01", "since")                    # "2024-03-01", or ValueError saying the format

The rules, each a regular expression over the question (case-insensitive, whole words):

- a span of periods ("from 2019 to 2021", "between March and May 2020", "in 2019-21") filters articles to it;
- an explicit year or month after a preposition of time ("in 2019", "in March 2019", "during 2019",
  "the report from 2019", "since 2019", "before 2019", "after 2019") filters articles by publication date. A year
  used as an adjective ("the 2019 budget", "2019's election") sets nothing: an article about a year's budget
  or election is often published the year before or after it. A month without a year ("in March") is the last
  such month on or before the newest article's date;
- "latest", "most recent", "newest", "now", "currently", "current", "these days", "at present" prefer newer
  articles (:attr:`TimeCue.prefer_recent`) without excluding older ones ("late" or "lately" are not cues);
- relative periods ("yesterday", "today", "this week", "last week", "past week", "this month", "last month",
  "this year", "last year", "last/past N days") are counted back from the **newest article date in the index**,
  not from the wall clock: a folder may hold old news, and its "today" is the day of its newest article.
  Without a dated article they set nothing.

The module is pure: it reads no files, keeps no state and never looks at the clock.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from qa.dates import MONTH_NUMBERS, MONTH_PATTERN
from qa.types import NO_CUE, TimeCue

ISO_FORMAT = "YYYY-MM-DD"

_MONTH = rf"(?P<month>{MONTH_PATTERN})\.?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
# the preposition decides how the period bounds the range: inside it, from its start, before its start, after its end
_PREP = r"(?P<prep>in|during|throughout|since|from|before|until|till|after|as\s+of)"
# "in March 2019", "in early 2019" is taken as all of 2019; a year followed by a noun-ish "'s" is an adjective
_EXPLICIT = (
    re.compile(rf"\b{_PREP}\s+(?:(?:early|mid|late)[\s-]+)?(?:{_MONTH}\s+(?:of\s+)?)?{_YEAR}\b(?!'s|\s*-\s*\d)",
               re.IGNORECASE),
    # a month without a year, not followed by a day ("in March 12" is a date, read elsewhere)
    re.compile(rf"\b{_PREP}\s+(?:(?:early|mid|late)[\s-]+)?{_MONTH}(?![\s.]*\d)\b", re.IGNORECASE),
)
# a span of periods: "from 2019 to 2021", "between March and May 2020", "in 2019-2021", "during 2019–21";
# the first period may leave out the year the second one gives
_SPAN_MONTH1 = _MONTH.replace("?P<month>", "?P<month1>")
_SPAN = re.compile(
    rf"\b(?:(?P<prep>from|between)\s+(?:{_SPAN_MONTH1}\s+)?(?P<year1>(?:19|20)\d{{2}})?\s*(?:to|and|until|till|through)"
    rf"\s+(?:{_MONTH}\s+)?{_YEAR}"
    rf"|(?P<prep2>in|during|from|between)\s+(?P<year1b>(?:19|20)\d{{2}})\s*[-\u2013\u2014/]\s*(?P<year2b>(?:19|20)?\d{{2}}))\b",
    re.IGNORECASE)
_RECENT = re.compile(
    r"\b(?:latest|most\s+recent(?:ly)?|newest|now|currently|current|these\s+days|at\s+present|presently"
    r"|up[\s-]to[\s-]date)\b",
    re.IGNORECASE)
_RELATIVE = re.compile(
    r"\b(?P<what>yesterday|today|(?:this|last|past)\s+(?:week|month|year)"
    r"|(?:last|past)\s+(?P<n>\d{1,3})\s+days)\b",
    re.IGNORECASE)




def check_date(value: str | None, name: str = "date") -> str | None:
    """``value`` as an ISO date (``YYYY-MM-DD``), ``None`` for ``None`` or blank; raises :class:`ValueError`
    with a one-line message that names ``name`` and the expected format otherwise."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(f"{name} must be a date written {ISO_FORMAT} (e.g. 2024-03-01), not '{text}'") from None


def check_range(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """Both dates checked (:func:`check_date`), and ``since`` not after ``until``."""
    s, u = check_date(since, "since"), check_date(until, "until")
    if s and u and s > u:
        raise ValueError(f"since ({s}) is after until ({u}); no date can be in that range")
    return s, u


def time_cue(question: str, newest: date | None = None) -> TimeCue:
    """The :class:`TimeCue` of ``question``; ``newest`` is the newest article date in the index, from which
    relative periods ("last week") are counted. An explicit year or month wins over a relative period; either
    may come with a recency preference."""
    recent = _RECENT.search(question)
    explicit = _explicit(question, newest)
    if explicit is not None:
        return TimeCue(explicit[0], explicit[1], recent is not None, explicit[2])
    relative = _relative(question, newest)
    if relative is not None:
        return TimeCue(relative[0], relative[1], recent is not None, relative[2])
    if recent is not None:
        return TimeCue(prefer_recent=True, phrase=recent.group(0))
    return NO_CUE


def _explicit(question: str, newest: date | None) -> tuple[str | None, str | None, str] | None:
    span = _span(question)
    if span is not None:
        return span
    for m in (m for pattern in _EXPLICIT for m in pattern.finditer(question)):
        prep = " ".join(m.group("prep").lower().split())
        month = MONTH_NUMBERS.get((m.group("month") or "").lower().rstrip("."))
        year_text = m.groupdict().get("year")
        if year_text:
            year = int(year_text)
        elif month and newest is not None:
            # "in March": the last March on or before the newest article
            year = newest.year if month <= newest.month else newest.year - 1
        else:
            continue  # "in May" with nothing dated, or "may" the verb without a year: no cue
        first = date(year, month or 1, 1)
        last = date(year, month, calendar.monthrange(year, month)[1]) if month else date(year, 12, 31)
        if prep in ("in", "during", "throughout", "from"):  # "the report from 2019" was published in 2019
            return first.isoformat(), last.isoformat(), m.group(0)
        if prep in ("since", "after"):
            start = first if prep != "after" else last + timedelta(days=1)
            return start.isoformat(), None, m.group(0)
        # before/until/till/as of: "before 2019" excludes 2019, "until 2019" and "as of March 2019" include it
        end = first - timedelta(days=1) if prep == "before" else last
        return None, end.isoformat(), m.group(0)
    return None


def _span(question: str) -> tuple[str, str, str] | None:
    """The range of "from 2019 to 2021", "between March and May 2020", "in 2019-21": from the first day of the
    first period to the last day of the second; ``None`` when there is none or it runs backwards."""
    for m in _SPAN.finditer(question):
        if m.group("prep2"):
            y1, y2 = m.group("year1b"), m.group("year2b")
            year1, year2 = int(y1), int(y2) if len(y2) == 4 else int(y1[:2] + y2)
            first, last = date(year1, 1, 1), date(year2, 12, 31)
        else:
            month1 = MONTH_NUMBERS.get((m.group("month1") or "").lower().rstrip("."))
            month2 = MONTH_NUMBERS.get((m.group("month") or "").lower().rstrip("."))
            year2 = int(m.group("year"))
            if m.group("year1") is None and month1 is None:
                continue  # "from to 2021" is no span
            year1 = int(m.group("year1")) if m.group("year1") else year2
            first = date(year1, month1 or 1, 1)
            last = (date(year2, month2, calendar.monthrange(year2, month2)[1]) if month2 else date(year2, 12, 31))
        if first <= last:
            return first.isoformat(), last.isoformat(), m.group(0)
    return None


def _relative(question: str, newest: date | None) -> tuple[str | None, str | None, str] | None:
    if newest is None:
        return None
    m = _RELATIVE.search(question)
    if m is None:
        return None
    what = " ".join(m.group("what").lower().split())
    end = newest
    if m.group("n"):
        start = newest - timedelta(days=int(m.group("n")))
    elif what == "today":
        start = newest
    elif what == "yesterday":
        # news of yesterday is often published today, so today's articles count too
        start = newest - timedelta(days=1)
    elif what.endswith("week"):
        start = newest - timedelta(days=newest.weekday()) if what.startswith("this") else newest - timedelta(days=7)
    elif what.endswith("month"):
        if what.startswith("this"):
            start = newest.replace(day=1)
        elif what.startswith("last"):
            end = newest.replace(day=1) - timedelta(days=1)
            start = end.replace(day=1)
        else:
            start = newest - timedelta(days=30)
    else:  # year
        if what.startswith("this"):
            start = newest.replace(month=1, day=1)
        elif what.startswith("last"):
            start, end = date(newest.year - 1, 1, 1), date(newest.year - 1, 12, 31)
        else:
            start = newest - timedelta(days=365)
    return start.isoformat(), end.isoformat(), m.group(0)
