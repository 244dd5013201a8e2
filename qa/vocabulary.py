"""What the indexed articles say about words and names: :class:`Vocabulary` (is a word ordinary,
is a name a person, an organisation, a group or a place, and which gender the articles give it), read
lazily from the articles' text and cached; :func:`vocabulary` computes it once per index generation of a
:class:`~qa.engine.QA`.

    from qa.vocabulary import vocabulary
    vocab = vocabulary(qa)
    vocab.kind("Guaido")          # "person", "org", "place"... or None: how the articles use the name
    "said" in vocab.lower         # True: the articles use it as an ordinary word
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qa.words import FEMALE_TITLES, MALE_TITLES, ORG_WORDS, POSSESSIVE_END, TITLES

if TYPE_CHECKING:  # pragma: no cover
    from qa.engine import QA


_CAPS = r"(?:[A-Z][\w'’\-]*\s+){0,2}"          # a first name or two between a cue and the name
_BEFORE_TITLE = re.compile(r"\b(Mr|Mrs|Ms|Miss|Dr|Sir|Lord|Lady|Dame|President|Senator|Sen|Governor|Gov|"
                           r"Chancellor|Minister|Secretary|Judge|Prince|Princess|Pope|Professor|Prof)\.?\s+"
                           + _CAPS + "$")
_BEFORE_ROLE = re.compile(r"\b(?:chairman|executive|president|spokesman|spokeswoman|director|minister|secretary|"
                          r"leader|manager|coach|captain|analyst|economist|founder|boss|official|striker|singer|"
                          r"actor|actress|tycoon|sprinter|solicitor|lawyer|governor|senator|ambassador|commissioner|"
                          r"presenter|frontman|chancellor|member)\s+" + _CAPS + "$")
_BEFORE_ORG = re.compile(r"\b(?:band|company|firm|group|club|bank|airline|carrier|retailer|team|side|union|agency|"
                         r"party|newspaper|broadcaster|network|giant|chain|operator|label|charity|regulator|maker|"
                         r"manufacturer|insurer|lender|publisher|brewer|subsidiary|unit)\s+" + _CAPS + "$")
_BEFORE_THE = re.compile(r"\b[Tt]he\s+" + _CAPS + "$")
_BEFORE_PLACE = re.compile(r"\b(?:in|to|from|near|across|throughout|into|outside|visit|visited|visiting)\s+"
                           r"(?:[A-Z][\w'’\-]*\s+)?$")
_BEFORE_SAID = re.compile(r"\b(?:said|says|told|added)\s+" + _CAPS + "$")
_CAPS_AFTER = r"(?:\s+[A-Z][\w'’\-]*){0,2}"
_AFTER_PRONOUN = re.compile(
    _CAPS_AFTER + r"(?:['’]s)?\s+(?:said|says|told|added|noted|explained|argued|insisted|warned|claimed|admitted|"
    r"announced|confirmed|denied|believes|believed|thinks|hopes|expects|wants|plans|stated)\s+"
    r"(?:(?:on|last|this|in)\s+\w+\s+)?(?:that\s+)?(he|she|it|they|his|her|its|their)\b")
_AFTER_WHO = re.compile(_CAPS_AFTER + r",\s+(?:\d{1,3},|who\b)")
_AFTER_WHICH = re.compile(_CAPS_AFTER + r",\s+which\b")
_AFTER_PLURAL = re.compile(_CAPS_AFTER + r"\s+(?:have|are|were)\s+(?!been\b)[a-z]")
_BEFORE_LIST = re.compile(r"(?:\band|&|,)\s+" + _CAPS + "$")
VOCAB_CHARS = 20_000              # characters read per article
VOCAB_MAX_CHARS = 32_000_000      # characters read in all (articles spread over the collection beyond it)
_PLAIN_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
MAX_HITS = 400                    # mentions of a name looked at


@dataclass(frozen=True)
class Evidence:
    """How the articles use a name: as a person, a non-person, a place; with male or female cues."""

    person: int = 0
    nonperson: int = 0
    place: int = 0
    group: int = 0      # with a plural verb: "Busted have", "Wolves are"
    male: int = 0
    female: int = 0

    @property
    def total(self) -> int:
        return self.person + self.nonperson + self.place + self.group


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """What the indexed articles say about words and names, looked up lazily (and remembered).

    ``text`` is the articles' text joined (Latin-1, curly quotes made straight). A word is *lower* (an
    ordinary word, so a capitalised one at the start of a question is not a name) when the articles
    use it in lower case at least as often as capitalised mid-sentence; ``extra_lower`` adds words to
    that. A name is typed by its first ``MAX_HITS`` mentions (:meth:`evidence`): as a person after a
    title or a role word, before "said he", ", who" or an age, or in "said X."; as a non-person after
    "the" or an organisation noun ("band X"), before "said it" or ", which"; as a place after
    "in"/"to"/"from" or before "-based"; as a group before a plural verb ("X have ..."). Each lookup is
    a scan of ``text``, so the results are cached.
    """

    text: str = ""
    extra_lower: frozenset[str] = frozenset()
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_texts(cls, texts: Iterable[str], chars: int = VOCAB_CHARS,
                   max_chars: int = VOCAB_MAX_CHARS) -> Vocabulary:
        texts = [t[:chars] for t in texts]
        total = sum(len(t) for t in texts)
        if total > max_chars:  # spread over the collection rather than its first articles
            step = total / max_chars
            texts = [texts[int(i * step)] for i in range(int(len(texts) / step))]
        text = "\n\n".join(texts).translate(_PLAIN_QUOTES)
        # one byte a character: a single character beyond Latin-1 would make Python store all of it wider
        return cls(text.encode("latin-1", "replace").decode("latin-1"))

    @property
    def lower(self) -> LowerWords:
        return LowerWords(self)

    def _hits(self, surface: str) -> list[tuple[int, int]]:
        """Where ``surface`` occurs as a whole word (the first ``MAX_HITS``)."""
        surface = surface.translate(_PLAIN_QUOTES)
        key = ("hits", surface)
        hit = self._cache.get(key)
        if hit is None:
            hit = []
            text = self.text
            for m in re.finditer(re.escape(surface), text):  # a literal scan is fast; \b would not be
                s, e = m.span()
                if (s and (text[s - 1].isalnum() or text[s - 1] == "-")) or (e < len(text) and text[e].isalnum()):
                    continue
                hit.append((s, e))
                if len(hit) >= MAX_HITS:
                    break
            self._cache[key] = hit
        return hit

    def mid_sentence(self, phrase: str) -> int:
        """How often ``phrase`` is written mid-sentence (after a lower-case word or a comma)."""
        text = self.text
        return sum(1 for s, _e in self._hits(phrase)
                   if s >= 2 and text[s - 1] == " " and (text[s - 2].islower() or text[s - 2] in ",;"))

    def is_lower(self, word: str) -> bool:
        w = word.lower()
        if w in self.extra_lower:
            return True
        if not self.text or not w.isalpha():
            return False
        key = ("lower", w)
        hit = self._cache.get(key)
        if hit is None:
            lower = len(self._hits(w))
            hit = lower > 0 and lower >= self.mid_sentence(w[:1].upper() + w[1:])
            self._cache[key] = hit
        return hit

    def evidence(self, surface: str, as_first_name: bool = False) -> Evidence:
        """How the articles use ``surface`` (as the first word of a longer name with ``as_first_name``)."""
        key = ("evidence", surface, as_first_name)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        text = self.text
        p = n = pl = g = m = f = 0
        for s, e in self._hits(surface):
            after = text[e:e + 90]
            if as_first_name and not re.match(r"\s+[A-Z]", after):
                continue
            before = text[max(0, s - 60):s]
            title = _BEFORE_TITLE.search(before)
            if title:
                p += 1
                t = title.group(1).lower()
                m += t in MALE_TITLES
                f += t in FEMALE_TITLES
            elif _BEFORE_ROLE.search(before) or (_BEFORE_SAID.search(before) and re.match(r"\s*[.,;\"”]", after)):
                p += 1  # "..., said Peskov." (not "said Canadian Tire has ...")
            elif _BEFORE_ORG.search(before):
                n += 1
            elif _BEFORE_THE.search(before):
                n += 1
            elif _BEFORE_PLACE.search(before):
                pl += 1
            pron = _AFTER_PRONOUN.match(after)
            if pron:
                word = pron.group(1)
                if word in ("he", "his"):
                    p, m = p + 1, m + 1
                elif word in ("she", "her"):
                    p, f = p + 1, f + 1
                elif word in ("it", "its"):
                    n += 1
            elif _AFTER_WHO.match(after):
                p += 1
            elif _AFTER_WHICH.match(after):
                n += 1
            elif after.startswith("-based"):
                pl += 1
            elif _AFTER_PLURAL.match(after) and not _BEFORE_LIST.search(before):
                g += 1
        ev = Evidence(p, n, pl, g, m, f)
        self._cache[key] = ev
        return ev

    def _forms(self, name: str) -> list[Evidence]:
        name = POSSESSIVE_END.sub("", name.strip())
        words = [w for w in name.split() if w.lower().rstrip(".") not in TITLES]
        if not words or not self.text:
            return []
        forms = [" ".join(words)]
        if len(words) > 1:
            forms.append(words[-1])
        return [self.evidence(f) for f in forms]

    def kind(self, name: str) -> str | None:
        """``person``, ``place``, ``nonperson`` or ``None`` (too little evidence) for ``name``."""
        for ev in self._forms(name):
            p, n, pl = ev.person, ev.nonperson, ev.place
            if ev.total < 2:
                if p == 1 and ev.total == 1 and not any(w.lower().rstrip(".") in ORG_WORDS for w in name.split()):
                    return "person"  # a small collection: one clear mention is all there is
                continue
            if p >= 2 and p >= 2 * (n + pl + ev.group):
                return "person"
            if ev.group >= 2 and ev.group >= p:
                return "group"
            if pl >= 2 and pl >= 2 * p and pl >= n / 2:
                return "place"
            if n >= 2 and n >= 2 * p:
                return "nonperson"
            return None
        words = [w for w in POSSESSIVE_END.sub("", name).split() if w.lower().rstrip(".") not in TITLES]
        if 2 <= len(words) <= 4 and self.text and not any(w.lower().rstrip(".") in ORG_WORDS for w in words):
            ev = self.evidence(words[0], as_first_name=True)
            if ev.person >= 2 and ev.nonperson + ev.place <= ev.person:
                return "person"
        return None

    def gender(self, name: str) -> tuple[str | None, bool]:
        """``(m, f or None, sure)`` for a person's name: from the full name, then the first name (sure),
        then the surname alone (not sure: other people share it)."""
        words = [w for w in POSSESSIVE_END.sub("", name).split() if w.lower().rstrip(".") not in TITLES]
        if not words or not self.text:
            return None, False
        evs = [(self.evidence(" ".join(words)), True)]
        if len(words) >= 2:
            evs += [(self.evidence(words[0], as_first_name=True), True), (self.evidence(words[-1]), False)]
        for ev, sure in evs:
            if ev.male >= 2 * ev.female + 1:
                return "m", sure
            if ev.female >= 2 * ev.male + 1:
                return "f", sure
        return None, False


@dataclass(frozen=True)
class LowerWords:
    """``word in vocabulary.lower``: whether the articles use ``word`` as an ordinary word."""

    vocab: Vocabulary

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.vocab.is_lower(word)


EMPTY_VOCABULARY = Vocabulary()


_vocab_lock = threading.Lock()
_vocab: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # QA -> (generation, Vocabulary)


def vocabulary(qa: QA) -> Vocabulary:
    """What the indexed articles say about words and names, computed once per index generation and
    shared by every conversation over ``qa``."""
    try:
        snap = qa.snapshot
    except Exception:  # an unusable index: capitalisation rules alone
        return EMPTY_VOCABULARY
    gen = snap.generation
    with _vocab_lock:
        cached = _vocab.get(qa)
        if cached is not None and cached[0] == gen:
            return cached[1]
        vocab = Vocabulary.from_texts(art.text for art in snap.articles.values())
        _vocab[qa] = (gen, vocab)
        return vocab


def lowercase_vocabulary(qa: QA) -> Container[str]:
    """Words the indexed articles use in lower case (see :class:`Vocabulary`), for ``in`` tests."""
    return vocabulary(qa).lower
