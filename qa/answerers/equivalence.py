"""Whether two answer spans say the same thing: the same number, amount, date or person, written differently.

    from qa.answerers.equivalence import Relation, relation
    relation("fifty", "50")                      # Relation.SAME
    relation("$2.5bn", "2.5 billion dollars")    # Relation.SAME
    relation("Nicolas Maduro", "Maduro")         # Relation.SAME
    relation("40", "50")                         # Relation.DIFFERENT
    relation("the army", "to retaliate")         # Relation.UNSURE

Three outcomes rather than a yes/no, because the two uses need opposite guarantees: the reader cites
another article as agreeing only on ``SAME``, and reports it as saying something else only on
``DIFFERENT``; whatever the rules cannot read with confidence is ``UNSURE`` and is neither merged nor
reported as a conflict. Two different numbers or two different people are never ``SAME``.

Small rules rather than a library: the venv's number and date libraries do not read number words or
money (``bench/RESULTS.md``, "Trustworthy answers", records why dateparser, quantulum3 and number-parser
did not fit the span typing either). Pure functions over strings.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum

from qa.answerers.answer_types import HONORIFICS, TITLE_WORDS, Expects, is_date, words
from qa.dates import MONTH_NUMBERS, MONTH_PATTERN


class Relation(str, Enum):  # noqa: UP042 - StrEnum would change str(Relation.X)
    SAME = "same"
    DIFFERENT = "different"
    UNSURE = "unsure"


# ------------------------------------------------------------------------------------------- numbers

_SMALL = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
_TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALES = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12,
           "k": 1e3, "mn": 1e6, "mln": 1e6, "bn": 1e9, "tn": 1e12, "trn": 1e12}
_DOZEN = 12.0

#: unit word -> (dimension, factor to the dimension's base unit); money has one dimension per currency, so
#: that dollars and pounds never compare as amounts of one thing
_UNITS: dict[str, tuple[str, float]] = {}
for _names, _dim, _factor in (
    ("m metre metres meter meters", "length", 1.0), ("km kilometre kilometres kilometer kilometers", "length", 1e3),
    ("cm centimetre centimetres centimeter centimeters", "length", 0.01),
    ("mm millimetre millimetres millimeter millimeters", "length", 1e-3),
    ("mile miles mi", "miles", 1.0), ("foot feet ft", "feet", 1.0), ("inch inches", "inches", 1.0),
    ("kg kilogram kilograms kilo kilos", "mass", 1e3), ("g gram grams", "mass", 1.0),
    ("tonne tonnes t", "mass", 1e6), ("ton tons", "tons", 1.0), ("lb lbs", "pounds-weight", 1.0),
    ("percent %", "percent", 1.0), ("second seconds secs sec", "time", 1.0), ("minute minutes mins min", "time", 60.0),
    ("hour hours hrs hr", "time", 3600.0), ("day days", "time", 86400.0), ("week weeks", "time", 7 * 86400.0),
    ("month months", "months", 1.0), ("year years yrs yr", "months", 12.0), ("decade decades", "months", 120.0),
    ("$ dollar dollars usd us$", "USD", 1.0), ("£ pound pounds gbp sterling", "GBP", 1.0),
    ("€ euro euros eur", "EUR", 1.0), ("¥ yen jpy", "JPY", 1.0), ("yuan renminbi rmb cny", "CNY", 1.0),
    ("rupee rupees inr", "INR", 1.0), ("rouble roubles ruble rubles rub", "RUB", 1.0),
    ("mph", "speed-mph", 1.0), ("km/h kph", "speed-kmh", 1.0), ("degree degrees", "degrees", 1.0),
):
    for _n in _names.split():
        _UNITS[_n] = (_dim, _factor)
_CURRENCIES = frozenset(dim for dim, _ in _UNITS.values() if dim.isupper())

#: words that qualify a figure without changing which figure it is ("about 50", "some 50 people")
_HEDGES = frozenset("about around approximately roughly some nearly almost just up to over at least an estimated "
                    "estimate est total totalling totaling of a an the and".split())
#: words that turn a figure into a bound, a negation or its opposite: "over 50" and "under 50", "not 50" and
#: "50" are no longer one answer, so two spans are SAME only when they use the same ones
_BOUNDS = frozenset("over under above below more less fewer than least most not no minus negative exceeding "
                    "beyond nearly almost up".split())
_MINUS = re.compile(r"(?<![\w.])[-\u2212]\s*\d")

_TOKEN = re.compile(r"us\$|[$£€¥%]|\d[\d,]*(?:\.\d+)?|[^\W\d_]+(?:['\u2019][^\W\d_]+)?|km/h")


@dataclass(frozen=True)
class Quantity:
    """One figure of a span and the ways it can be read: ``(value, dimension)`` pairs (the dimension ``None``
    without a unit). "480m" has two readings: 480 metres, and 480 million."""

    readings: tuple[tuple[float, str | None], ...]

    def same(self, other: Quantity) -> bool:
        # a figure without a unit matches one with a unit ("50" / "50 people" are compared by their words);
        # not when either can be read two ways: "50m" is 50 metres or 50 million, neither of them "50"
        loose = len(self.readings) == 1 and len(other.readings) == 1
        return any(_close(v, w) and (d == e or loose and (d is None or e is None))
                   for v, d in self.readings for w, e in other.readings)

    def comparable(self, other: Quantity) -> bool:
        """Both figures of one kind (the same unit's dimension, or no unit on either side)."""
        return any(d == e for _, d in self.readings for _, e in other.readings)


def _ambiguous_against(x: Quantity, y: Quantity) -> bool:
    """``x`` can be read two ways and ``y`` has no unit to say which ("50m" against "50")."""
    return len(x.readings) > 1 and all(d is None for _, d in y.readings)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _digits(token: str) -> float | None:
    if not token[0].isdigit():
        return None
    if "," in token and not re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", token):
        return None  # "1,2" is not a figure written with thousands separators
    return float(token.replace(",", ""))


def _word_number(tokens: list[str], i: int) -> tuple[float, int] | None:
    """The number written in words from ``tokens[i]`` ("two hundred and fifty", "twenty-five", "a dozen") and
    the index after it, or ``None``."""
    total, current, j, seen = 0.0, 0.0, i, False
    while j < len(tokens):
        t = tokens[j]
        parts = t.split("-")
        if len(parts) == 2 and parts[0] in _TENS and parts[1] in _SMALL and 0 < _SMALL[parts[1]] < 10:
            current += _TENS[parts[0]] + _SMALL[parts[1]]
        elif t in _SMALL:
            current += _SMALL[t]
        elif t in _TENS:
            current += _TENS[t]
        elif t == "hundred" and (seen or _a_before(tokens, j, i)):
            current = (current or 1.0) * 100
        elif t == "dozen" and (seen or _a_before(tokens, j, i)):
            current = (current or 1.0) * _DOZEN
        elif t in ("thousand", "million", "billion", "trillion") and (seen or _a_before(tokens, j, i)):
            total += (current or 1.0) * _SCALES[t]
            current = 0.0
        elif t in ("and", "a", "an") and seen and j + 1 < len(tokens) and (
                tokens[j + 1] in _SMALL or tokens[j + 1] in _TENS or "-" in tokens[j + 1]):
            pass  # "two hundred and fifty"
        elif t in ("a", "an") and not seen and j + 1 < len(tokens) and tokens[j + 1] in ("hundred", "dozen",
                                                                                       "thousand", "million"):
            current = 1.0
        else:
            break
        seen = seen or t not in ("a", "an", "and")
        j += 1
    return (total + current, j) if seen else None


def _a_before(tokens: list[str], j: int, start: int) -> bool:
    return j > start and tokens[j - 1] in ("a", "an")


def quantities(text: str) -> tuple[list[Quantity], list[str]]:
    """The figures of ``text`` (digits or words, with their scale and unit: "$2.5bn", "2,500 million", "fifty
    metres") and its other words (lower case, without hedges such as "about")."""
    raw = _TOKEN.findall(text)
    tokens = [t.lower() for t in raw]
    out: list[Quantity] = []
    rest: list[str] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if i > 0 and raw[i][:1].isupper() and raw[i - 1][:1].isupper() and not raw[i - 1][:1].isdigit():
            rest.append(raw[i])  # a capitalised word after a name's word is part of it: "Sky One", "Channel Four"
            i += 1
            continue
        currency = _UNITS[t][0] if t in _UNITS and _UNITS[t][0] in _CURRENCIES and i + 1 < len(tokens) else None
        j = i + 1 if currency else i
        if j >= len(tokens):
            rest.append(raw[i])
            break
        value = _digits(tokens[j])
        if value is not None:
            j += 1
        else:
            words_value = _word_number(tokens, j)
            if words_value is None:
                rest.append(raw[i])
                i += 1
                continue
            value, j = words_value
        readings: list[tuple[float, str | None]] = []
        nxt = tokens[j] if j < len(tokens) else ""
        if nxt in _SCALES or nxt in ("m",) and currency:
            value *= _SCALES.get(nxt, 1e6)
            j += 1
            nxt = tokens[j] if j < len(tokens) else ""
        elif nxt == "m":
            readings.append((value * 1e6, None))  # "480m": 480 metres, or 480 million of something
        if nxt in ("st", "nd", "rd", "th"):  # "11th": a place in an order, not a count or a year
            out.append(Quantity(((value, "ordinal"),)))
            i = j + 1
            continue
        if nxt == "per" and j + 1 < len(tokens) and tokens[j + 1] == "cent":
            j += 1
            nxt = "percent"
        unit: str | None = currency
        if unit is None and nxt in _UNITS:
            unit, factor = _UNITS[nxt]
            value *= factor
            j += 1
        elif unit is None and nxt == "sterling":
            j += 1
        elif unit is not None and nxt in _UNITS and _UNITS[nxt][0] == unit:
            j += 1  # "$50 dollars"
        readings.insert(0, (value, unit))
        out.append(Quantity(tuple(readings)))
        i = j
    return out, [w for w in rest if w.lower() not in _HEDGES]


# ------------------------------------------------------------------------------------------- dates


def date_parts(text: str) -> dict[str, int]:
    """The year, month and day a date span names ("12 March 2024", "March 12, 2024", "2024"); what it leaves
    out is absent."""
    low = text.lower()
    parts: dict[str, int] = {}
    year = re.search(r"\b(1\d{3}|20\d{2})\b", low)
    if year:
        parts["year"] = int(year.group(1))
    month = re.search(rf"\b({MONTH_PATTERN})\b\.?", low)
    if month:
        parts["month"] = MONTH_NUMBERS[month.group(1)]
        day = (re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + month.group(1) + r"\b", low)
               or re.search(month.group(1) + r"\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?!\d)", low))
        if day and 1 <= int(day.group(1)) <= 31:
            parts["day"] = int(day.group(1))
    return parts


_DECADE = re.compile(r"\b\d{3}0['\u2019]?s\b")


def _date_relation(a: str, b: str) -> Relation | None:
    pa, pb = date_parts(a), date_parts(b)
    if not pa or not pb:
        return None
    if len(re.findall(r"\d+", a)) != len(re.findall(r"\d+", b)) and not re.search(r"[^\W\d_]", a + b):
        return Relation.UNSURE  # "1759-60" is a span of years, not 1759
    shared = pa.keys() & pb.keys()
    if any(pa[k] != pb[k] for k in shared):
        return Relation.DIFFERENT
    if not re.search(r"[^\W\d_]", a + b) and re.findall(r"\d+", a) != re.findall(r"\d+", b):
        return Relation.UNSURE  # "12/03/2024" and "13/03/2024": only the year is read of all-digit dates
    return Relation.SAME if pa == pb else Relation.UNSURE  # "March 2024" and "12 March 2024": not told apart


# ------------------------------------------------------------------------------------------- names

#: how many more words than the other one of two figures may have and still say the same ("50 people killed"
#: / "50"): a longer span says something else about the figure
MAX_EXTRA_WORDS = 2

_PARTICLES = frozenset("de del della der di da van von bin ibn al el la le du dos das".split())
_ARTICLES = frozenset({"the", "a", "an"})


def name_words(text: str) -> list[str] | None:
    """The words of a person's or an organisation's name with titles, articles and possessives dropped
    ("President Nicolas Maduro's" -> ["nicolas", "maduro"]), or ``None`` when ``text`` is not written as a
    name (a word in lower case that is not a particle, a figure)."""
    out: list[str] = []
    for w in words(text):
        low = w.lower().replace("\u2019", "'").rstrip(".")
        if low.endswith("'s"):
            low = low[:-2]
        if low in _ARTICLES or low in TITLE_WORDS:
            continue
        if low in _PARTICLES:
            out.append(low)
            continue
        if not w[0].isupper() or any(ch.isdigit() for ch in w):
            return None
        out.append(low)
    return [w for w in out if w not in _PARTICLES] or None


def _acronym(a: str, b: str) -> bool:
    """One is the other's initials ("WHO" / "World Health Organization"; "of", "the", "and" skipped)."""
    wa, wb = words(a), words(b)
    short, long = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    if len(short) != 1 or len(short[0]) < 2 or not short[0].isupper() or len(long) < 2:
        return False
    initials = "".join(w[0] for w in long if w.lower() not in ("of", "the", "and", "for"))
    return all(w[0].isupper() for w in long if w.lower() not in ("of", "the", "and", "for")) and \
        short[0].rstrip(".") == initials


def _same_name(a: list[str], b: list[str]) -> bool:
    """One name is the other with its given names dropped, or written as initials: the same surname, and when
    both give given names, the same ones ("Maduro" / "Nicolas Maduro", "J. Smith" / "John Smith"; not
    "George Bush" / "George W. Bush" nor "John Adams" / "John Quincy Adams", who are other people)."""
    if a == b:
        return True
    if a[-1] != b[-1]:
        return False
    ga, gb = a[:-1], b[:-1]
    if not ga or not gb:
        return True
    return len(ga) == len(gb) and all(g == w or (len(g) == 1 and w.startswith(g)) or (len(w) == 1 and g.startswith(w))
                                      for g, w in zip(ga, gb, strict=True))


def _titles(text: str) -> set[str]:
    """The title words of a name ("President", "Mrs")."""
    return {w.lower().rstrip(".") for w in words(text)} & TITLE_WORDS


# ------------------------------------------------------------------------------------------- both

def relation(a: str, b: str, expects: Expects = Expects.ANY) -> Relation:
    """Whether answer spans ``a`` and ``b`` say the same thing (``SAME``), clearly something else
    (``DIFFERENT``: another figure of the same kind, another date, another person), or neither can be told
    (``UNSURE``). ``expects`` is what the question asks for: names are told apart only when it asks for a
    person (two places can both be right: a city and its country), and surnames stand for full names unless
    it asks for a place."""
    if _bounds(a) != _bounds(b) or bool(_DECADE.search(a)) != bool(_DECADE.search(b)):
        # "over 50" / "under 50", "-5C" / "5C", "the 1990s" / "1990": a bound, a sign or a decade is part of
        # the answer
        return Relation.UNSURE
    if _plain(a) == _plain(b):
        return Relation.SAME
    if is_date(a) and is_date(b) and expects in (Expects.DATE, Expects.ANY):
        dated = _date_relation(a, b)
        if dated is not None:
            return dated
    qa, rest_a = quantities(a)
    qb, rest_b = quantities(b)
    if qa or qb:
        if not (qa and qb) or len(qa) != len(qb):
            return Relation.UNSURE
        if ("month" in date_parts(a)) != ("month" in date_parts(b)):
            return Relation.UNSURE  # "5 March" is a date, "five months" a duration
        about_same = _about_same(a, rest_a, b, rest_b)  # "50 people" / "50"
        if all(x.same(y) for x, y in zip(qa, qb, strict=True)):
            return Relation.SAME if about_same else Relation.UNSURE
        if any(_ambiguous_against(x, y) or _ambiguous_against(y, x) for x, y in zip(qa, qb, strict=True)):
            return Relation.UNSURE  # "50m" against "50": 50 metres is not 50 million, nor clearly another figure
        if about_same and all(x.comparable(y) for x, y in zip(qa, qb, strict=True)):
            return Relation.DIFFERENT
        return Relation.UNSURE
    na, nb = name_words(a), name_words(b)
    if na is None or nb is None:
        return Relation.UNSURE
    if _acronym(a, b):
        return Relation.SAME
    shorter = min(words(a), words(b), key=len)
    if len(shorter) == 1 and shorter[0].isupper() and len(shorter[0]) > 1:
        return Relation.UNSURE  # "TV" is no one's surname: "CBS TV" / "TV"
    ta, tb = _titles(a), _titles(b)
    if expects is not Expects.PLACE and _same_name(na, nb):
        if na != nb and min(len(na), len(nb)) == 1 and (ta | tb) & HONORIFICS:
            return Relation.UNSURE  # "Mrs Clinton" / "Bill Clinton": an honorific and a surname name no one person
        if ta and tb and ta != tb:
            return Relation.UNSURE  # "President Bush" / "First Lady Bush"
        return Relation.SAME
    short, long = (na, nb) if len(na) <= len(nb) else (nb, na)
    if len(short) == 1 and short[0] == long[0]:
        return Relation.UNSURE  # "Xi" / "Xi Jinping", "Kim" / "Kim Jong-un": a surname written first
    if na[-1] == nb[-1] and len(na) != len(nb):
        return Relation.UNSURE  # "George Bush" / "George W. Bush": one person or two, the words cannot tell
    return Relation.DIFFERENT if expects is Expects.PERSON else Relation.UNSURE


def _about_same(a: str, rest_a: list[str], b: str, rest_b: list[str]) -> bool:
    """Whether the words around two figures let them be one fact: one span's words are the other's, plus at
    most :data:`MAX_EXTRA_WORDS` more, none of them a name ("four" is not "four of Landau's problems")."""
    la, lb = {w.lower() for w in rest_a}, {w.lower() for w in rest_b}
    if not (la <= lb or lb <= la):
        return False
    text, rest, extra = (b, rest_b, lb - la) if la <= lb else (a, rest_a, la - lb)
    if len(extra) > MAX_EXTRA_WORDS:
        return False
    first = _TOKEN.findall(text)[:1]  # a capital that starts the span says nothing
    return not any(w[:1].isupper() and w.lower() in extra and [w] != first for w in rest)


def _bounds(text: str) -> set[str]:
    """The bound, negation and sign words of a span (:data:`_BOUNDS`; a minus sign before a figure as "minus")."""
    found = {t.lower() for t in _TOKEN.findall(text)} & _BOUNDS
    return found | {"minus"} if _MINUS.search(text) else found


def _plain(text: str) -> list[str]:
    """Lower-case words and currency signs without articles or punctuation: "The Army." and "the army" are one
    answer, "$5" and "£5" are not."""
    return [w for w in (t.lower().replace("\u2019", "'") for t in _TOKEN.findall(text)) if w not in _ARTICLES]
