"""Agreement and conflict across articles: which articles give the shown answer, which give another one,
and how to say so.

    from qa.answerers.agreement import group, message, fold
    alternatives = group(answer_text, picks, expects)    # the other articles' different answers, grouped
    message(citations, alternatives)   # "Found in 3 articles that agree." or
                                       # "The articles differ. An article of 12 March 2024 says 50; one of
                                       #  2 February 2024 says 40."
    fold(newer, older)                 # a "latest" question's newer answer, leading the one it replaces

The reader (:meth:`qa.reader.SpanReader.decide`) decides which spans of other articles agree with its
answer and which give a different one; :func:`qa.answerers.equivalence.relation` says whether two spans
say the same thing. An answer of one article is untouched: "Found in 1 article.", no alternatives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date as Date

from qa.answerers.answer_types import Expects, question_type
from qa.answerers.equivalence import Relation, relation
from qa.types import DATE_FILE_TIME, SPAN, Alternative, Answer, Citation, newest_date


def group(text: str, picks: Sequence[tuple[str, float, Citation]], expects: Expects = Expects.ANY
          ) -> tuple[Alternative, ...]:
    """The different answers of other articles, as alternatives to ``text``, best first.

    ``picks`` are ``(span, confidence, citation)``, one per article, best first; a pick that says the same
    as an earlier one joins its alternative (one citation per article), and a pick that is not clearly
    different from ``text`` (:data:`Relation.DIFFERENT`) is left out: only another figure, date or person
    is a conflict."""
    groups: list[tuple[str, float, list[Citation]]] = []
    for span, score, c in picks:
        if relation(text, span, expects) is not Relation.DIFFERENT:
            continue
        for g in groups:
            if relation(g[0], span, expects) is Relation.SAME:
                if all(o.article_id != c.article_id for o in g[2]):
                    g[2].append(c)
                break
        else:
            groups.append((span, score, [c]))
    return tuple(Alternative(t, s, tuple(cs)) for t, s, cs in groups)


def message(citations: Sequence[Citation], alternatives: Sequence[Alternative], text: str | None = None) -> str:
    """What an answer says about its sources: how many articles give it ("Found in 3 articles that agree."),
    and, when other articles give other answers, each with its date, the shown one first ("The articles
    differ. An article of 12 March 2024 says 50; one of 2 February 2024 says 40.")."""
    n = len({c.article_id for c in citations})
    if not alternatives or text is None:
        return "Found in 1 article." if n == 1 else f"Found in {n} articles that agree."
    parts = [_says(text, citations, first=True)]
    parts += [_says(a.text, a.citations, first=False) for a in alternatives]
    return "The articles differ. " + "; ".join(parts) + "."


def _says(text: str, citations: Sequence[Citation], first: bool) -> str:
    n = len({c.article_id for c in citations})
    newest = newest_date(citations)
    source = next((c.date_source for c in citations if c.date == newest), None) if newest else None
    when = long_date(newest, source)
    if n == 1:
        who = ("An article" if first else "one") + (f" of {when}" if when else " without a date")
        return f"{who} says {text}"
    who = f"{n} articles" + (f", the newest of {when}," if when else " without dates")
    return f"{who} say {text}"


def long_date(iso: str | None, date_source: str | None = None) -> str | None:
    """``2024-03-12`` as "12 March 2024" ("12 March 2024 (file date)" when it is only the file's time)."""
    if not iso:
        return None
    try:
        d = Date.fromisoformat(iso)
    except ValueError:
        return iso
    text = f"{d.day} {d.strftime('%B')} {d.year}"
    return f"{text} (file date)" if date_source == DATE_FILE_TIME else text


def fold(lead: Answer, other: Answer) -> Answer:
    """``lead`` with what ``other`` said folded in: ``other``'s answer and alternatives join ``lead``'s citations
    where they say the same, and its alternatives (``other``'s answer first) where they clearly differ; what
    neither can be told is dropped, as ``other`` was before. For a "latest" question, whose newer article's
    answer replaces the reader's best one (:func:`qa.engine._newest_answer`)."""
    if lead.text is None or other.text is None or lead.kind != SPAN or other.kind != SPAN:
        return lead
    expects = question_type(lead.question).expects
    citations = list(lead.citations)
    cited = {c.article_id for c in citations}
    alternatives: list[Alternative] = []
    for alt in (Alternative(other.text, other.score, other.citations), *other.alternatives, *lead.alternatives):
        new = [c for c in alt.citations if c.article_id not in cited]
        if not new:
            continue
        rel = relation(lead.text, alt.text, expects)
        if rel is Relation.SAME:
            citations += new
        elif rel is Relation.DIFFERENT:
            for i, a in enumerate(alternatives):
                if relation(a.text, alt.text, expects) is Relation.SAME:
                    alternatives[i] = replace(a, citations=(*a.citations, *new))
                    break
            else:
                alternatives.append(replace(alt, citations=tuple(new)))
        else:
            continue
        cited |= {c.article_id for c in new}
    if tuple(citations) == lead.citations and tuple(alternatives) == lead.alternatives:
        return lead
    return replace(lead, citations=tuple(citations), alternatives=tuple(alternatives),
                   message=message(citations, alternatives, lead.text))
