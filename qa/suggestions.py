"""Questions worth trying on a collection of articles, for a person who does not know it yet.

    from qa.suggestions import suggest_questions
    suggest_questions(qa.articles(), n=6)
    # ['Who vows to continue supporting Maduro in Venezuela?', 'Who is Nicolas Maduro?', ...]
    suggest_questions(qa.articles(), n=6, qa=qa)   # keep only questions the articles answer

Two sources, no model needed:

- headlines shaped "<Name> <verb> ...", asked back: "Russia Vows to Continue Supporting Maduro" becomes
  "Who vows to continue supporting Maduro?" (title case undone with the article's own capitalisation);
- the names the articles mention most (across most articles first): "Who is <person>?" for names
  seen with a title or a speech verb ("President ...", "... said"), "What happened in <place>?" for
  names seen after in/to/from.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from qa.entities import find_entities, lower_case_words
from qa.types import Article
from qa.words import COMMON_STARTERS, TITLES

if TYPE_CHECKING:  # pragma: no cover
    from qa.engine import QA

MAX_ARTICLES = 300          # articles looked at (spread over the collection)
MAX_TEXT = 20_000           # characters read per article
_WORD = re.compile(r"[\w\-'’]+|[^\w\s]")
_VERB_HINT = re.compile(r"^(?:[a-z]+(?:s|ed)|says|said|wins|won|to|will|may|can|plans|faces)$")


def body_text(article: Article) -> str:
    """The article's text without headline-like lines (mostly capitalised words), up to ``MAX_TEXT``."""
    keep = []
    for line in article.text[:MAX_TEXT].splitlines():
        words = [w for w in line.split() if len(w) > 3]
        if len(words) >= 2 and sum(w[:1].isupper() for w in words) >= 0.6 * len(words) and \
                not line.rstrip().endswith((".", "?", "!", '"', "”")):
            keep.append("")
        else:
            keep.append(line)
    return "\n".join(keep)


def _sample(articles: Sequence[Article]) -> list[Article]:
    if len(articles) <= MAX_ARTICLES:
        return list(articles)
    step = len(articles) / MAX_ARTICLES
    return [articles[int(i * step)] for i in range(MAX_ARTICLES)]


def title_question(title: str, body: str, common: set[str]) -> str | None:
    """"Who <rest of headline>?" for a headline that starts with a name and then a verb, else ``None``."""
    words = _WORD.findall(title.strip())
    if len(words) < 3 or len(words) > 16:
        return None
    mid_caps = set()
    for m in re.finditer(r"(?<=[a-z,;] )([A-Z][\w\-'’]*)", body):
        mid_caps.add(re.sub(r"['’]s?$", "", m.group(1)))

    def is_name(w: str) -> bool:
        return w in mid_caps and w.lower() not in common and w.lower() not in COMMON_STARTERS

    k = 0
    while k < len(words) and is_name(words[k]) and words[k].lower() not in TITLES:
        k += 1
    if k == 0 or k >= len(words) - 1:
        return None
    rest = words[k:]
    if not _VERB_HINT.match(rest[0].lower()) or not rest[0].isalpha():
        return None
    out: list[str] = []
    for w in rest:
        after_prep = bool(out) and out[-1] in ("in", "to", "from", "at", "of", "for", "on", "with", "near")
        keep = is_name(w) or (w.isupper() and len(w) > 1) or (after_prep and w.lower() not in common)
        out.append(w if keep else w.lower())
    text = " ".join(out)
    text = re.sub(r"\s+([,.;:!?'’])", r"\1", text).rstrip(" .,:;!?")
    return f"Who {text}?"


def _names(articles: Sequence[Article], common: set[str]) -> list[tuple[str, str]]:
    """``(name, kind)`` with kind ``person`` or ``place``, the most widespread first."""
    df: Counter[str] = Counter()
    count: Counter[str] = Counter()
    person: Counter[str] = Counter()
    place: Counter[str] = Counter()
    titled: Counter[str] = Counter()
    the: Counter[str] = Counter()
    longest: dict[str, str] = {}
    for art in articles:
        seen: set[str] = set()
        ents = find_entities(body_text(art), common, unique=False)
        singles = {e.text.lower() for e in ents if " " not in e.text}
        for e in ents:
            words = e.text.split()
            # "Juan Guaido" and "Guaido" are one name, keyed by the last word when it is also used alone
            key = words[-1].lower() if len(words) > 1 and words[-1].lower() in singles else e.text.lower()
            if len(e.text) > len(longest.get(key, "")) and not any(w.lower() in TITLES for w in words):
                longest[key] = e.text
            count[key] += 1
            person[key] += e.person
            place[key] += e.place
            titled[key] += e.titled
            the[key] += e.the and e.text.lower() == key
            if key not in seen:
                seen.add(key)
                df[key] += 1
    ranked = sorted(count, key=lambda k: (-df[k], -count[k], k))
    out = []
    for key in ranked:
        if count[key] < 2 and len(articles) > 0 and len(ranked) > 8:
            continue
        name = longest.get(key)
        if not name or len(name) < 3:
            continue
        if titled[key] or (person[key] >= 2 and not place[key]):
            out.append((name, "person"))
        elif place[key]:
            out.append((f"the {name}" if 2 * the[key] > count[key] else name, "place"))
    return out


def suggest_questions(articles: Iterable[Article], n: int = 6, qa: QA | None = None,
                      before_each: Callable[[], None] | None = None) -> list[str]:
    """Up to ``n`` questions about ``articles``; with ``qa``, only those it finds an answer to.

    Candidates are checked one at a time, in order, until ``n`` are answered, so a question asked
    meanwhile waits for one candidate at most; ``before_each`` runs before each check (the chat uses it
    to let people's questions go first)."""
    arts = _sample(list(articles))
    if not arts or n <= 0:
        return []
    common: set[str] = set()
    for art in arts:
        common.update(lower_case_words(art.text[:MAX_TEXT]))
    candidates: list[str] = []
    for art in arts:
        q = title_question(art.title, body_text(art), common)
        if q:
            candidates.append(q)
        if len(candidates) >= max(1, n // 2):
            break
    for name, kind in _names(arts, common):
        candidates.append(f"Who is {name}?" if kind == "person" else f"What happened in {name}?")
        if len(candidates) >= 3 * n:
            break
    seen: set[str] = set()
    unique: list[str] = []  # the first of each question asked twice (in any case)
    for q in candidates:
        if q.lower() not in seen:
            seen.add(q.lower())
            unique.append(q)
    if qa is None:
        return unique[:n]
    found: list[str] = []
    for q in unique:
        if len(found) >= n:
            break
        if before_each is not None:
            before_each()
        if qa.ask(q).found:
            found.append(q)
    return found
