"""Names in a text and their kinds (person, organisation, place...), and the content words of a text.

    from qa.entities import find_entities
    from qa.words import content_words
    [e.text for e in find_entities("President Maduro met Guaido in Caracas.")]   # ['Maduro', 'Guaido', 'Caracas']
    content_words("Who is the leader of Venezuela?")                               # {'leader', 'venezuela'}

Names are runs of capitalised words; titles and role words before them are dropped ("Culture Minister
Renaud de Vabres" is "Renaud de Vabres") and each :class:`Entity` keeps the hints around it (a title, "said",
"in", "the", an organisation word). Shared by follow-up rewriting (:mod:`qa.conversation`) and suggested
questions (:mod:`qa.suggestions`).
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable
from dataclasses import dataclass, replace
from typing import cast

from qa.vocabulary import LowerWords
from qa.words import (
    COMMON_STARTERS,
    CONNECTORS,
    CONTRACTION,
    FEMALE_TITLES,
    LOCATIVE,
    MALE_TITLES,
    MONTHS_DAYS,
    ORG_NOUNS,
    ORG_WORDS,
    PERSON_ROLES,
    POSSESSIVE_END,
    SENTENCE_END,
    SPEECH,
    TITLES,
    is_acronym,
    is_capitalised,
    lowered,
    tokens,
)


@dataclass(frozen=True)
class Entity:
    """A name found in a text: its words, where it was found, and hints about what it names."""

    text: str
    start: int
    place: bool = False     # after in/to/from/at...
    person: bool = False    # after a title or role word, or next to "said", or before "who"
    titled: bool = False    # after a title ("President ...")
    the: bool = False       # after "the" ("the United States")
    org: bool = False       # ends with an organisation word, an acronym, or after an organisation noun
    female: bool | None = None   # after a female (True) or male (False) title
    end: int = -1           # where the name ends in the text
    before: str = ""        # the lower-case word before the name (articles skipped)
    after: str = ""         # the word after the name
    office: bool = False    # names an office, not its holder ("Home Secretary", "Finance Minister")


def _is_common(word: str, common: Container[str]) -> bool:
    w = POSSESSIVE_END.sub("", word).lower().rstrip(".")
    return w in common or w in COMMON_STARTERS


def find_entities(text: str, common: Iterable[str] | Container[str] = (), unique: bool = True) -> list[Entity]:
    """Names in ``text`` (runs of capitalised words), in order of appearance, without duplicates.

    Sentence-initial words count only when they are not common words (``COMMON_STARTERS`` plus
    ``common``: e.g. the words an article collection uses in lower case). Leading titles and role words
    ("President", "Culture Minister") are dropped; a possessive ``'s`` ends the name. ``unique=False``
    keeps every mention.
    """
    if not isinstance(common, (set, frozenset, LowerWords)):
        common = set(cast(Iterable[str], common))  # any other container of words given is iterable
    toks = tokens(text)
    out: list[Entity] = []
    seen: set[str] = set()
    i = 0
    while i < len(toks):
        tok, s, _ = toks[i]
        sentence_start = i == 0 or toks[i - 1][0] in SENTENCE_END or "\n" in text[toks[i - 1][2]:s]
        if not is_capitalised(tok) or tok.lower() in MONTHS_DAYS:
            i += 1
            continue
        j = i
        words: list[tuple[str, int, int]] = []
        while j < len(toks):
            w = toks[j][0]
            month_in_name = bool(words) and w.lower() in MONTHS_DAYS and not (
                j + 1 < len(toks) and toks[j + 1][0][:1].isdigit())  # "Theresa May", not "May 5"
            if is_capitalised(w) and (w.lower() not in MONTHS_DAYS or month_in_name):
                words.append(toks[j])
                if POSSESSIVE_END.search(w) and len(w) > 2 and w[-2] in "'’" or w.endswith(("'", "’")):
                    j += 1
                    break
                j += 1
            elif w.lower() in CONNECTORS and j + 1 < len(toks) and is_capitalised(toks[j + 1][0]) and words and \
                    lowered(words[-1][0]) not in TITLES:  # "Finance Minister of France": an office, then a country
                words.append(toks[j])
                j += 1
            else:
                break
        # a title inside the run ends what came before it: "French Culture Minister Renaud de Vabres";
        # "Finance Minister of France" names an office and its country, not a titled person
        titled = False
        female = None
        for k in range(len(words) - 1, -1, -1):
            if lowered(words[k][0]) in TITLES and k < len(words) - 1:
                of = words[k + 1][0].lower() in CONNECTORS
                titled = not of
                if not of and lowered(words[k][0]) in FEMALE_TITLES | MALE_TITLES:
                    female = lowered(words[k][0]) in FEMALE_TITLES
                words = words[k + 1:]
                while words and words[0][0].lower() in CONNECTORS:
                    words.pop(0)
                break
        while words and (lowered(words[0][0]) in TITLES or (words[0][0].lower() in COMMON_STARTERS
                                                          and not is_acronym(words[0][0])
                                                          and not _keeps_starter(words, sentence_start, text, common))
                         or (len(words) > 2 and words[0][0].lower() in PERSON_ROLES)):
            if lowered(words[0][0]) in TITLES or words[0][0].lower() in PERSON_ROLES:
                titled = True
                if lowered(words[0][0]) in FEMALE_TITLES | MALE_TITLES:
                    female = lowered(words[0][0]) in FEMALE_TITLES
            words.pop(0)
        while words and words[-1][0].lower() in CONNECTORS:
            words.pop()
        if len(words) == 1 and (sentence_start or words[0][1] != s) and _is_common(words[0][0], common) \
                and not is_acronym(words[0][0]) and not titled:
            words = []  # a common word capitalised because it starts a sentence
        if words:
            name = text[words[0][1]:words[-1][2]]
            name = re.sub(r"['’]s?$", "", name).rstrip(".") if not re.search(r"\b[A-Z]\.$", name) else name
            key = name.lower()
            # a common word alone is a name only mid-sentence ("What did Orange launch?") or after a title
            if name and (key not in seen or not unique) and not CONTRACTION.search(name) and \
                    not (" " not in key and sentence_start and words[0][1] == s and key in common):
                seen.add(key)
                k0 = next(k for k in range(i, j) if toks[k][1] == words[0][1])
                b = k0 - 1
                while b >= 0 and toks[b][0].lower() in ("the", "a", "an"):
                    b -= 1
                before = toks[b][0].lower() if b >= 0 else ""
                if before.rstrip(".") in TITLES or before in PERSON_ROLES:
                    titled = True
                    if before.rstrip(".") in FEMALE_TITLES | MALE_TITLES:
                        female = before.rstrip(".") in FEMALE_TITLES
                after = toks[j][0].lower() if j < len(toks) else ""
                after2 = toks[j + 1][0].lower() if j + 1 < len(toks) else ""
                person = (titled or after in SPEECH or before in SPEECH or after == "who"
                          or (after == "," and after2 == "who"))
                last = name.split()[-1]
                org = (last.lower().rstrip(".") in ORG_WORDS or is_acronym(last) or before in ORG_NOUNS
                       or (after == "," and after2 in ("the", "a", "an") and
                           any(t[0].lower() in ORG_NOUNS for t in toks[j + 2:j + 5]))
                       or (after == "," and after2 == "which"))
                the = k0 > 0 and toks[k0 - 1][0].lower() == "the"
                end = words[0][1] + len(name)
                office = lowered(last) in TITLES
                if office and out and not out[-1].office and re.fullmatch(r"\s+and\s+", text[out[-1].end:words[0][1]]):
                    out[-1] = replace(out[-1], office=True)  # "Social Affairs and Labour Minister"
                out.append(Entity(name, words[0][1], place=before in LOCATIVE, person=person and not org and not office,
                                  titled=titled and not office, the=the, org=org and not titled, female=female,
                                  end=end, before=before, after=after, office=office))
        i = max(j, i + 1)
    return out


# Capitalised words that open names as well as sentences: "New York", "National Union of Journalists".
_NAME_STARTERS = frozenset("new old foreign local national first second third".split())


def _keeps_starter(words: list[tuple[str, int, int]], sentence_start: bool, text: str, common: Container[str]) -> bool:
    """Whether a leading "New"/"National"... belongs to the name: always mid-sentence; at the start of
    a sentence when the articles write the phrase capitalised mid-sentence too."""
    if words[0][0].lower() not in _NAME_STARTERS or len(words) < 2:
        return False
    if words[0][1] > 0 and not sentence_start:
        return True
    return isinstance(common, LowerWords) and common.vocab.mid_sentence(text[words[0][1]:words[1][2]]) > 0


# ----------------------------------------------------------------------------- lower-case words
_LOWER_WORD = re.compile(r"\b[a-z][a-z\-']+\b")


def lower_case_words(text: str) -> set[str]:
    """The words ``text`` writes in lower case (two letters or more): ordinary words, not names."""
    return set(_LOWER_WORD.findall(text))
