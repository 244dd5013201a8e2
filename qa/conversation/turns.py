"""A conversation's turns and what the rules read from the previous one: :class:`Turn`, the
:class:`Rewrite` of a follow-up, the :class:`Candidate` names a pronoun may stand for, the shape of a
question (:func:`question_shape`), and the kind of a name in the turn (:func:`name_kind`, with the
noun phrases and coordinations it sits in).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.entities import Entity
from qa.types import Answer
from qa.vocabulary import Vocabulary
from qa.words import (
    AUX,
    FUNCTION_WORDS,
    ORG_NOUNS,
    PERSON_NOUNS,
    PERSON_ROLES,
    PLACE_NOUNS,
    PREPOSITIONS,
    SPEECH,
    WH_WORDS,
)


@dataclass(frozen=True)
class Turn:
    """One exchange: what was asked, the standalone question that was answered, and the answer.

    ``rewrite_note`` is for the person: set when the follow-up was asked as typed because it could not
    be resolved safely, or when its rewrite was a guess ("Asked as typed: could not tell who 'he' is.").
    """

    question: str
    understood_question: str
    answer: Answer
    entity: str | None = None        # the name the rewrite substituted, if any
    rewrite_note: str | None = None

    @property
    def rewritten(self) -> bool:
        return " ".join(self.question.split()) != self.understood_question


@dataclass(frozen=True)
class Rewrite:
    """The standalone form of a follow-up: the question, the first name substituted, a note for the
    person (see :attr:`Turn.rewrite_note`), and each pronoun with what it was read as."""

    question: str
    entity: str | None = None
    note: str | None = None
    resolved: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Candidate:
    """Something a pronoun may stand for: how to write it, its kind, and where it came from."""

    text: str
    kind: str                   # person, people, org, group, place, thing, things, unknown
    gender: str | None = None   # m, f or None
    gender_sure: bool = False   # from a title or the full name, not just a shared surname
    source: str = "question"    # question or answer
    role: str = ""              # head (what the answer names), list, topic, context or ""
    locative: bool = False      # found after in/to/from/at


def wh_word(question: str) -> str | None:
    first = question.strip().split(maxsplit=1)[0].lower() if question.strip() else ""
    first = re.sub(r"\W+$", "", first)
    return first if first in WH_WORDS else None


@dataclass(frozen=True)
class Shape:
    """A question's outline: its wh-word and noun ("Which club" -> which, club), the auxiliary after
    them, and whether the wh-phrase is the subject ("Who quit UKIP?")."""

    words: tuple[str, ...]
    wh: str | None
    noun: str | None
    aux: int | None           # index in ``words`` of the auxiliary after the wh-phrase
    subject_wh: bool          # the wh-phrase is the subject: the verb follows it
    body: int                 # index of the first word after the wh-phrase


def question_shape(question: str) -> Shape:
    words = tuple(question.strip().rstrip("?!. ").split())
    if not words:
        return Shape(words, None, None, None, False, 0)
    wh = wh_word(words[0])
    if wh is None:
        return Shape(words, None, None, 0 if words[0].lower() in AUX else None, False, 0)
    k = 1
    noun = None
    if wh == "how" and k < len(words) and words[k].lower() in ("much", "many", "long", "old", "far", "big",
                                                               "high", "often", "soon"):
        k += 1
    if wh in ("which", "what", "whose", "how") and k < len(words) and words[k].lower() not in AUX:
        if not (wh == "how" and words[1].lower() in ("long", "old", "far", "big", "high", "often", "soon")):
            # "Which club", "What share of women", "How many countries"
            while k < len(words) and words[k].lower() not in AUX and words[k].lower() not in PREPOSITIONS \
                    and (wh != "what" or k == 1):
                noun = words[k]
                k += 1
                if wh in ("which", "whose", "how") and k < len(words) and not words[k][:1].islower():
                    break
                if wh == "what":
                    break
    if k < len(words) and words[k].lower() in AUX:
        return Shape(words, wh, noun, k, False, k + 1)
    return Shape(words, wh, noun, None, wh in ("who", "what", "which"), k)


def asked_type(shape: Shape) -> str | None:
    """What the previous question asked for: a person, an organisation, a place, or ``None``."""
    if shape.wh in ("who", "whom"):
        return "person"
    if shape.wh == "where":
        return "place"
    nouns = [shape.noun] if shape.noun else []
    if shape.wh in ("which", "what"):
        nouns += list(shape.words[shape.body:])  # "Which was Kinnock's first constituency?"
    for n in nouns:
        w = n.lower().strip("'’s") if n else ""
        w = w[:-1] if w.endswith("s") and w[:-1] in PLACE_NOUNS | ORG_NOUNS | PERSON_NOUNS else w
        if w in PLACE_NOUNS:
            return "place"
        if w in ORG_NOUNS:
            return "org"
        if w in PERSON_NOUNS:
            return "person"
    return None


def name_kind(ent: Entity, vocab: Vocabulary, hint: str | None = None) -> tuple[str, str | None, bool]:
    """``(kind, gender, whether the gender is sure)`` of a name found in the previous turn."""
    if ent.titled or (ent.person and not ent.org):
        kind = "person"
    elif ent.org:
        kind = "org"
    else:
        corpus = vocab.kind(ent.text)
        if corpus in ("person", "place", "group"):
            kind = corpus
        elif corpus == "nonperson":
            # the answer to "Who ...?" that is no person is an organisation acting
            kind = "place" if ent.place or hint == "place" else "org" if hint in ("org", "person") else "thing"
        elif hint:
            kind = hint
        elif ent.place:
            kind = "place"
        else:
            kind = "unknown"
    if kind != "person":
        return kind, None, False
    if ent.female is not None:
        return kind, "f" if ent.female else "m", True
    gender, sure = vocab.gender(ent.text)
    return kind, gender, sure


def written_name(ent: Entity) -> str:
    return f"the {ent.text}" if ent.the and not ent.titled and not ent.person else ent.text


def coordinations(text: str, ents: list[Entity], kinds: list[tuple[str, str | None, bool]]
                   ) -> list[tuple[Candidate, set[int]]]:
    """Names joined by "and" (or a list): "JP McManus and John Magnier" -> one plural candidate, with
    the indices of the names it joins."""
    out: list[tuple[Candidate, set[int]]] = []
    k = 0
    while k < len(ents) - 1:
        group = [k]
        while group[-1] + 1 < len(ents):
            a, b = ents[group[-1]], ents[group[-1] + 1]
            gap = text[a.end:b.start]
            if re.fullmatch(r"\s*(?:,|,?\s*and|,?\s*&)\s+(?:[a-z][\w\-]*\s+){0,3}", gap) or \
                    re.fullmatch(r"\s*,\s*", gap):
                group.append(group[-1] + 1)
            else:
                break
        if len(group) >= 2 and re.search(r"\band\b|&", text[ents[group[0]].end:ents[group[-1]].start]):
            names = [ents[g].text for g in group]
            the = "the " if ents[group[0]].the else ""
            joined = the + (", ".join(names[:-1]) + " and " + names[-1])
            all_people = all(kinds[g][0] == "person" for g in group)
            out.append((Candidate(joined, "people" if all_people else "things", None, False, "answer", "list"),
                        set(group)))
            k = group[-1] + 1
        else:
            k += 1
    return out


def np_after_the(text: str, ent: Entity, question: bool) -> str | None:
    """The noun phrase a name modifies: "the Cardiff gig" for Cardiff in "How much did the Cardiff gig
    raise?", or ``None`` when the name stands alone. In a question the word after the name may be the
    verb ("Which drug did the FDA approve as ...?"): it is taken for a noun only when another content
    word follows it."""
    if not ent.the:
        return None
    m = re.match(r"\s+([a-z][a-z\-]+)(\s+[a-z][a-z\-]*)?", text[ent.end:])
    if not m or m.group(1) in FUNCTION_WORDS or m.group(1) in SPEECH:
        return None
    nxt = (m.group(2) or "").strip()
    if question and (not nxt or nxt in FUNCTION_WORDS):
        return None
    return f"the {ent.text} {m.group(1)}"


def is_modifier(ent: Entity) -> bool:
    """A name used as an adjective before a role or a kind of thing: "US tycoon", "Socialist president"."""
    return " " not in ent.text and (ent.after in PERSON_ROLES or ent.after in ORG_NOUNS)


def answer_head(text: str) -> str:
    """The part of an answer that names what was asked for: up to a dash, a comma, a bracket, or an
    affiliation ("Jerome P. Horwitz of the Michigan Cancer Foundation" -> "Jerome P. Horwitz")."""
    head = re.split(r"\s+-\s+|\s+—\s+|,\s|\s\(|\s+of\s+the\s+|\s+from\s+the\s+", text, maxsplit=1)[0]
    return head.strip()
