"""Conversations: follow-up questions that lean on the previous turn.

    from qa import QA
    from qa.conversation import Conversation

    chat = Conversation(QA("seeds", "vectors"))
    chat.ask("Who slipped out of Venezuela last week?")   # answer: Guaido
    answer = chat.ask("Where did he go?")
    chat.last.understood_question                       # 'Where did Guaido go?'
    chat.last.rewrite_note                              # None: nothing was in doubt
    answer.text, answer.citations[0].title

A follow-up is rewritten into a standalone question before it is answered, using only the previous
turn (its understood question and its answer, with the sentence around the answer when known). No
model is used; the rules are:

- **Names and their kinds.** Names are runs of capitalised words; titles and role words before them
  are dropped ("Culture Minister Renaud de Vabres" is "Renaud de Vabres"), and a run ending in a title
  ("the Home Secretary") names an office, not a candidate. Each name gets a kind: person, people,
  organisation, group, place, thing, or unknown. The evidence, strongest first: the words around it in
  the previous turn (a title or role word before it, "said" or ", who" after it, an organisation word
  in it such as "Corp" or "Committee", an acronym, ", the investment bank" after it); how the indexed
  articles use it (:class:`Vocabulary`: "Mr X", "X said he", "X, 52," or "said X." for a person; "the X",
  "X said it", ", which" for a non-person; "in X", "X-based" for a place; "X have ..." for a group);
  then what the previous question asked for ("Who ...?" is answered by a person, or by an
  organisation when the name is not a person's; "Which village ...?" by a place; "Which club ...?" by
  an organisation). A name used as an adjective ("the Cardiff gig", "US tycoon") gives way to its
  phrase or is skipped.
- **Pronouns.** he/she/him/his/her/hers stand only for a person, and not for one the articles call by
  the other gender (a full name or first name is trusted; a surname shared by others only reorders);
  it/its for anything but a person (a two- or three-word name nobody has typed looks like a person's
  and is not taken); they/them/their for an organisation, a group, names joined by "and", a plural
  phrase ("the Barclay twins"), or, failing those, the two persons of the previous turn; "there" for a
  place (a where-question's short answer, or a name after in/to/from). "it" may also be the previous
  question's unnamed topic ("How much will the program cost?" -> "How will the program be
  financed?"). Candidates come in the order of what the previous turn was about: after a question
  asking for someone or something ("Who ...", "Which club ..."), the answer first ("Who is Juan
  Guaido?" is about the name it holds, so that name first); otherwise the question's own names. When
  the follow-up repeats the verb of a "Who/What did ...?" question, roles carry over: after "Who
  created AZT?", "When did he create it?" reads "he" as the answer and "it" as AZT. A pronoun repeated
  for the same referent is replaced once; "it" after say/mean/deny and in "do it" or "is it true that"
  is left alone.
- **Ellipsis.** "Why?", "When?", "Where?", "How?" (and "When did it happen?") ask the previous question
  again with the new question word, grammatically: "How many countries have recognized Guaido?" ->
  "Why have countries recognized Guaido?"; "Who quit UKIP?" (answer: Kilroy-Silk) -> "Why did
  Kilroy-Silk quit UKIP?"; a gap left by "What"/"Which"/"How much" takes a short answer, or "that" /
  "those <noun>" ("How much did the party repay to X?" (£500) -> "Why did the party repay £500 to X?").
  "What about X?" swaps X for the previous question's name of the same kind, or for the phrase with
  the same head noun or role ("the Dayton show" for "the Toledo show", "the chairman" for "the
  president"), keeping the question's form. "and in 2019?" / "and to France?" replace the phrase
  with that preposition (a time phrase replaces a time phrase), or are added.
- **When unsure, as typed.** A pronoun with no candidate of its kind, or an ellipsis that cannot be
  rebuilt ("Why?" after "Who is X?"), leaves the question as typed and says so in
  :attr:`Rewrite.note` (on a turn, :attr:`Turn.rewrite_note`): "Asked as typed: could not tell who 'he'
  is." A guess that could have gone another way is made and noted too ("What about the economy,
  regarding Guaido?"; "Took 'he' to be X; it could also be Y.").

A question that needs no history (the first one, or one that names what it asks about) passes through
unchanged. The articles' evidence is read lazily, name by name, and remembered for the index
generation (:func:`vocabulary`); without it the rules run on the turn's own text alone, and a name
with no evidence there stays unknown (so "he" is asked as typed rather than guessed). :func:`resolve`
does the rewriting alone, without answering; :func:`rewrite` is its short form.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from qa.types import Answer

if TYPE_CHECKING:  # pragma: no cover
    from qa.engine import QA

# ----------------------------------------------------------------------------- word lists
WH_WORDS = ("who", "whom", "whose", "what", "which", "when", "where", "why", "how")
AUX = frozenset(
    "is are was were be been am do does did has have had can could will would shall should may might must".split()
)
DO_FORMS = frozenset({"do", "does", "did"})
PREPOSITIONS = frozenset(
    "in on at during after before since until by for from to with without about under over into across "
    "near against between among through throughout within outside inside around toward towards of".split()
)
LOCATIVE = frozenset("in to from at into across near throughout inside outside toward towards visit visited "
                     "visiting".split())
SPEECH = frozenset("say said says tell told added asked warned claimed stated announced insisted vowed argued".split())
TITLES = frozenset(
    "mr mrs ms miss dr prof sir lord lady dame president vice-president vice prime minister chancellor senator "
    "sen rep representative gov governor gen general col colonel capt captain king queen prince princess pope "
    "judge justice secretary ambassador envoy interim acting former deputy chairman ceo mayor saint st".split()
)
FEMALE_TITLES = frozenset("mrs ms miss lady dame queen princess madam".split())
MALE_TITLES = frozenset("mr sir lord king prince".split())
# Lower-case words that put a person's name after them ("chief executive Geoff Dixon").
PERSON_ROLES = frozenset(
    """chairman chairwoman executive president spokesman spokeswoman director minister secretary leader manager
    coach captain analyst economist founder boss official striker singer actor actress tycoon sprinter solicitor
    lawyer judge presenter host frontman author writer editor chancellor member mp mep peer bishop officer
    commissioner governor senator ambassador player star champion athlete chief head premier""".split()
)
# Words that make the name they end an organisation ("Canadian Tire Corp", "Ontario Securities Commission").
ORG_WORDS = frozenset(
    """corp corporation co company inc incorporated ltd plc llc ag sa nv gmbh group bank agency council committee
    commission party union foundation association service services ministry department airlines airways motors
    society institute university board court fund office trust federation league club authority organisation
    organization administration network studios records partners holdings industries system assembly parliament
    senate congress government police fc""".split()
)
# Nouns that type what they name: "the village of X", "Which club ...", "investment bank NM Rothschild".
ORG_NOUNS = frozenset(
    """company firm bank club team band group union agency committee party airline carrier newspaper paper
    broadcaster network organisation organization body council court government retailer insurer lender maker
    manufacturer giant chain operator label studio charity regulator watchdog supermarket publisher brewer
    institution university school service venture website""".split()
)
PLACE_NOUNS = frozenset(
    """country city town village state province region capital port county seat constituency area district
    island continent nation venue stadium ground prison hospital camp""".split()
)
PERSON_NOUNS = PERSON_ROLES | frozenset("man woman boy girl person someone".split())
MONTHS_DAYS = frozenset(
    "january february march april may june july august september october november december jan feb mar apr "
    "jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday".split()
)
TIME_WORDS = MONTHS_DAYS | frozenset(
    "year years month months week weeks day days quarter quarters half decade century season today yesterday "
    "tomorrow tonight morning afternoon evening night weekend".split()
)
# Words that are capitalised only because they start a sentence (or a question).
COMMON_STARTERS = frozenset(
    """a an the this that these those it its he she his her him they them their we us our you your i me my
    what which who whom whose when where why how and or but so yet nor if then than as because although though
    while whereas unless since until after before during about above across against along among around at by
    for from in into near of off on onto out over per through throughout to toward towards under upon with
    within without according also still however meanwhile moreover furthermore besides instead thus hence
    therefore otherwise indeed perhaps maybe yes no not there here now today yesterday tomorrow tonight
    some many most much more few several all both each every either neither any another other such one two
    three four five six seven eight nine ten first second third last next many despite amid following
    is are was were be been do does did has have had can could will would shall should may might must
    let please tell give show explain describe list name say said just only even again once later earlier
    foreign local national new old other officials""".split()
)
CONNECTORS = frozenset("of de del der la le von van da di du".split())
NOT_QUESTIONS = frozenset({"thanks", "thank you", "thx", "ok", "okay", "yes", "no", "great", "cool", "hi", "hello",
                           "hey", "bye", "nice", "good", "sure", "got it"})
IMPERATIVES = frozenset("tell show explain describe list name give summarize summarise find define compare search "
                        "repeat".split())
MOTION = frozenset("go goes went gone going come comes came travel travelled traveled fly flew move moved return "
                   "returned head headed arrive arrived get got send sent flee fled".split())
# Verbs whose "it" is a statement, not a thing: "When did he say it?"
PROPOSITIONAL = frozenset("say said says mean meant means deny denied denies believe believed know knew confirm "
                          "confirmed explain explained".split())
EVENT_VERBS = frozenset("happen happened happens occur occurred occurs start started end ended".split())
PERSONAL = frozenset({"he", "she", "him", "his", "her", "hers"})
NEUTER = frozenset({"it", "its"})
PLURAL = frozenset({"they", "them", "their", "theirs"})
POSSESSIVE = frozenset({"his", "its", "their", "theirs", "hers"})
PRONOUNS = PERSONAL | NEUTER | PLURAL | {"there"}
FEMALE_PRONOUNS = frozenset({"she", "her", "hers"})
ADVERBIAL_WH = frozenset({"why", "when", "where", "how"})
DETERMINERS = frozenset("the a an this that these those his her its their our my your".split())
# Irregular past tenses, for "Who quit UKIP?" -> "Why did X quit UKIP?".
IRREGULAR = dict(pair.split(":") for pair in """
    quit:quit made:make said:say won:win bought:buy sold:sell took:take gave:give went:go came:come told:tell
    left:leave led:lead met:meet paid:pay put:put set:set cut:cut hit:hit beat:beat broke:break began:begin
    ran:run saw:see found:find thought:think brought:bring held:hold kept:keep lost:lose sent:send spent:spend
    stood:stand wrote:write chose:choose drove:drive fell:fall flew:fly got:get grew:grow knew:know rose:rise
    spoke:speak struck:strike threw:throw became:become built:build caught:catch fought:fight felt:feel fled:flee
    heard:hear hid:hide laid:lay lent:lend meant:mean read:read shot:shoot shut:shut sought:seek spread:spread
    stuck:stick taught:teach understood:understand withdrew:withdraw overtook:overtake had:have did:do was:be
    were:be forecast:forecast bid:bid let:let""".split())

_TOKEN = re.compile(
    r"(?:[A-Z]\.){2,}|(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Col|Capt|Prof|St|Lt|Jr|Sr|Co|Corp|Inc|Ltd|No)\.(?=\s+[A-Z])"
    r"|[A-Z]\.(?=\s+[A-Z])|[A-Za-zÀ-ÖØ-öø-ÿ0-9][\w\-'’]*[\w]|[A-Za-zÀ-ÖØ-öø-ÿ0-9]|[^\w\s]")
_CONTRACTION = re.compile(r"['’](?:re|ll|ve|m|d|t)$|n['’]t$", re.IGNORECASE)
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")
_POSSESSIVE = re.compile(r"['’]s?$")
_DUMMY_IT = re.compile(r"\b(?:it\s+(?:is|was|'s|seems|seemed|appears)\s+\w+\s+(?:that|to|whether|if)|"
                       r"(?:is|was)\s+it\s+(?:true|possible|likely|clear|known|the case)|it\s+(?:rains|rained))\b",
                       re.IGNORECASE)
_ELLIPSIS_LEAD = re.compile(r"^(?:and|but|so|also|ok(?:ay)?|then)\s*,?\s+|^(?:and\s+)?(?:what|how)\s+about\s+|"
                            r"^(?:and\s+)?what\s+of\s+", re.IGNORECASE)
_WHAT_ABOUT = re.compile(r"^(?:and\s+)?(?:what|how)\s+about\s+|^(?:and\s+)?what\s+of\s+", re.IGNORECASE)
_SENTENCE_END = frozenset({".", "!", "?", ":", ";", '"', "“", "”", "(", "-", "—"})


def _low(tok: str) -> str:
    return tok.lower().rstrip(".")


def _lemma(word: str, lower: Container[str] = frozenset()) -> str:
    """A verb's base form, roughly: "approved" -> "approve", "owns" -> "own", "quit" -> "quit"; the
    candidate the articles use is preferred."""
    cands = _lemma_candidates(word)
    for c in cands:
        if c in lower:
            return c
    return cands[0] if cands else word.lower()


def _needs_e(stem: str) -> bool:
    """Whether a past tense's stem takes back a silent e ("approv" -> "approve", "decid" -> "decide"),
    for when the articles cannot tell: a rough rule of English spelling."""
    if stem.endswith(("v", "c", "z", "u", "at", "rg", "dg", "ang", "us", "ys", "ais", "ois", "aus")):
        return True
    return (len(stem) >= 3 and stem[-1] not in "aeiouwxyt" and stem[-2] in "aio" and stem[-3] not in "aeiou"
            ) or (len(stem) >= 3 and stem[-1] == "t" and stem[-2] in "ao" and stem[-3] not in "aeiou")


def _lemma_candidates(word: str) -> list[str]:
    w = word.lower()
    if w in IRREGULAR:
        return [IRREGULAR[w]]
    cands: list[str] = []
    if w.endswith("ied") and len(w) > 4:
        cands.append(w[:-3] + "y")
    if w.endswith("ed") and len(w) > 3:
        stem = w[:-2]
        if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
            cands.append(stem[:-1])  # stopped -> stop
        cands += [w[:-1], stem] if _needs_e(stem) else [stem, w[:-1]]  # approved -> approve, opened -> open
    elif w.endswith("ies") and len(w) > 4:
        cands.append(w[:-3] + "y")
    elif w.endswith(("ches", "shes", "sses", "xes", "zes")):
        cands.append(w[:-2])
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
        cands.append(w[:-1])
    return cands


def _is_acronym(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters) and len(word) <= 8


def _plural_noun(word: str) -> bool:
    w = word.lower()
    return (len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "ous"))) or w in ("people", "men",
                                                                                                     "women")


# ----------------------------------------------------------------------------- vocabulary of the articles
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
    def lower(self) -> _Lower:
        return _Lower(self)

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
        name = _POSSESSIVE.sub("", name.strip())
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
        words = [w for w in _POSSESSIVE.sub("", name).split() if w.lower().rstrip(".") not in TITLES]
        if 2 <= len(words) <= 4 and self.text and not any(w.lower().rstrip(".") in ORG_WORDS for w in words):
            ev = self.evidence(words[0], as_first_name=True)
            if ev.person >= 2 and ev.nonperson + ev.place <= ev.person:
                return "person"
        return None

    def gender(self, name: str) -> tuple[str | None, bool]:
        """``(m, f or None, sure)`` for a person's name: from the full name, then the first name (sure),
        then the surname alone (not sure: other people share it)."""
        words = [w for w in _POSSESSIVE.sub("", name).split() if w.lower().rstrip(".") not in TITLES]
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
class _Lower:
    """``word in vocabulary.lower``: whether the articles use ``word`` as an ordinary word."""

    vocab: Vocabulary

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.vocab.is_lower(word)


EMPTY_VOCABULARY = Vocabulary()


# ----------------------------------------------------------------------------- names in a text
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


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _capitalised(tok: str) -> bool:
    return tok[:1].isupper() and any(c.isalpha() for c in tok)


def _is_common(word: str, common: Container[str]) -> bool:
    w = _POSSESSIVE.sub("", word).lower().rstrip(".")
    return w in common or w in COMMON_STARTERS


def find_entities(text: str, common: Iterable[str] | Container[str] = (), unique: bool = True) -> list[Entity]:
    """Names in ``text`` (runs of capitalised words), in order of appearance, without duplicates.

    Sentence-initial words count only when they are not common words (``COMMON_STARTERS`` plus
    ``common``: e.g. the words an article collection uses in lower case). Leading titles and role words
    ("President", "Culture Minister") are dropped; a possessive ``'s`` ends the name. ``unique=False``
    keeps every mention.
    """
    if not isinstance(common, (set, frozenset, _Lower)):
        common = set(common)
    toks = _tokens(text)
    out: list[Entity] = []
    seen: set[str] = set()
    i = 0
    while i < len(toks):
        tok, s, _ = toks[i]
        sentence_start = i == 0 or toks[i - 1][0] in _SENTENCE_END or "\n" in text[toks[i - 1][2]:s]
        if not _capitalised(tok) or tok.lower() in MONTHS_DAYS:
            i += 1
            continue
        j = i
        words: list[tuple[str, int, int]] = []
        while j < len(toks):
            w = toks[j][0]
            month_in_name = bool(words) and w.lower() in MONTHS_DAYS and not (
                j + 1 < len(toks) and toks[j + 1][0][:1].isdigit())  # "Theresa May", not "May 5"
            if _capitalised(w) and (w.lower() not in MONTHS_DAYS or month_in_name):
                words.append(toks[j])
                if _POSSESSIVE.search(w) and len(w) > 2 and w[-2] in "'’" or w.endswith(("'", "’")):
                    j += 1
                    break
                j += 1
            elif w.lower() in CONNECTORS and j + 1 < len(toks) and _capitalised(toks[j + 1][0]) and words and \
                    _low(words[-1][0]) not in TITLES:  # "Finance Minister of France": an office, then a country
                words.append(toks[j])
                j += 1
            else:
                break
        # a title inside the run ends what came before it: "French Culture Minister Renaud de Vabres";
        # "Finance Minister of France" names an office and its country, not a titled person
        titled = False
        female = None
        for k in range(len(words) - 1, -1, -1):
            if _low(words[k][0]) in TITLES and k < len(words) - 1:
                of = words[k + 1][0].lower() in CONNECTORS
                titled = not of
                if not of and _low(words[k][0]) in FEMALE_TITLES | MALE_TITLES:
                    female = _low(words[k][0]) in FEMALE_TITLES
                words = words[k + 1:]
                while words and words[0][0].lower() in CONNECTORS:
                    words.pop(0)
                break
        while words and (_low(words[0][0]) in TITLES or (words[0][0].lower() in COMMON_STARTERS
                                                          and not _is_acronym(words[0][0])
                                                          and not _keeps_starter(words, sentence_start, text, common))
                         or (len(words) > 2 and words[0][0].lower() in PERSON_ROLES)):
            if _low(words[0][0]) in TITLES or words[0][0].lower() in PERSON_ROLES:
                titled = True
                if _low(words[0][0]) in FEMALE_TITLES | MALE_TITLES:
                    female = _low(words[0][0]) in FEMALE_TITLES
            words.pop(0)
        while words and words[-1][0].lower() in CONNECTORS:
            words.pop()
        if len(words) == 1 and (sentence_start or words[0][1] != s) and _is_common(words[0][0], common) \
                and not _is_acronym(words[0][0]) and not titled:
            words = []  # a common word capitalised because it starts a sentence
        if words:
            name = text[words[0][1]:words[-1][2]]
            name = re.sub(r"['’]s?$", "", name).rstrip(".") if not re.search(r"\b[A-Z]\.$", name) else name
            key = name.lower()
            # a common word alone is a name only mid-sentence ("What did Orange launch?") or after a title
            if name and (key not in seen or not unique) and not _CONTRACTION.search(name) and \
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
                after3 = toks[j + 2][0].lower() if j + 2 < len(toks) else ""
                person = (titled or after in SPEECH or before in SPEECH or after == "who"
                          or (after == "," and after2 == "who"))
                last = name.split()[-1]
                org = (last.lower().rstrip(".") in ORG_WORDS or _is_acronym(last) or before in ORG_NOUNS
                       or (after == "," and after2 in ("the", "a", "an") and
                           any(t[0].lower() in ORG_NOUNS for t in toks[j + 2:j + 5]))
                       or (after == "," and after2 == "which"))
                the = k0 > 0 and toks[k0 - 1][0].lower() == "the"
                end = words[0][1] + len(name)
                office = _low(last) in TITLES
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
    return isinstance(common, _Lower) and common.vocab.mid_sentence(text[words[0][1]:words[1][2]]) > 0


# ----------------------------------------------------------------------------- turns
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


def _wh(question: str) -> str | None:
    first = question.strip().split(maxsplit=1)[0].lower() if question.strip() else ""
    first = re.sub(r"\W+$", "", first)
    return first if first in WH_WORDS else None


@dataclass(frozen=True)
class _Shape:
    """A question's outline: its wh-word and noun ("Which club" -> which, club), the auxiliary after
    them, and whether the wh-phrase is the subject ("Who quit UKIP?")."""

    words: tuple[str, ...]
    wh: str | None
    noun: str | None
    aux: int | None           # index in ``words`` of the auxiliary after the wh-phrase
    subject_wh: bool          # the wh-phrase is the subject: the verb follows it
    body: int                 # index of the first word after the wh-phrase


def _shape(question: str) -> _Shape:
    words = tuple(question.strip().rstrip("?!. ").split())
    if not words:
        return _Shape(words, None, None, None, False, 0)
    wh = _wh(words[0])
    if wh is None:
        return _Shape(words, None, None, 0 if words[0].lower() in AUX else None, False, 0)
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
        return _Shape(words, wh, noun, k, False, k + 1)
    return _Shape(words, wh, noun, None, wh in ("who", "what", "which"), k)


def _answer_type(shape: _Shape) -> str | None:
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


def _kind(ent: Entity, vocab: Vocabulary, hint: str | None = None) -> tuple[str, str | None, bool]:
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


def _written(ent: Entity) -> str:
    return f"the {ent.text}" if ent.the and not ent.titled and not ent.person else ent.text


def _coordinations(text: str, ents: list[Entity], kinds: list[tuple[str, str | None, bool]]
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


_FUNCTION_WORDS = PREPOSITIONS | AUX | DETERMINERS | frozenset(WH_WORDS) | frozenset(
    "as and or but than that so if not".split())


def _np_after_the(text: str, ent: Entity, question: bool) -> str | None:
    """The noun phrase a name modifies: "the Cardiff gig" for Cardiff in "How much did the Cardiff gig
    raise?", or ``None`` when the name stands alone. In a question the word after the name may be the
    verb ("Which drug did the FDA approve as ...?"): it is taken for a noun only when another content
    word follows it."""
    if not ent.the:
        return None
    m = re.match(r"\s+([a-z][a-z\-]+)(\s+[a-z][a-z\-]*)?", text[ent.end:])
    if not m or m.group(1) in _FUNCTION_WORDS or m.group(1) in SPEECH:
        return None
    nxt = (m.group(2) or "").strip()
    if question and (not nxt or nxt in _FUNCTION_WORDS):
        return None
    return f"the {ent.text} {m.group(1)}"


def _modifier(ent: Entity) -> bool:
    """A name used as an adjective before a role or a kind of thing: "US tycoon", "Socialist president"."""
    return " " not in ent.text and (ent.after in PERSON_ROLES or ent.after in ORG_NOUNS)


def _topic_phrase(shape: _Shape) -> tuple[str, bool] | None:
    """The previous question's unnamed topic, ``(phrase, plural)``: its subject after the auxiliary
    ("How much will the employment program cost?" -> "the employment program"), or the object of a
    wh-subject question ("Who blocked the proposal on flexible working hours last year?")."""
    words = list(shape.words)
    if shape.aux is not None and shape.aux + 1 < len(words) and words[shape.aux + 1].lower() == "the":
        span = words[shape.aux + 1:]
        cut = next((k for k, w in enumerate(span) if k > 1 and (w.lower() in PREPOSITIONS or w.lower() in AUX)),
                   len(span))
        span = span[:cut]
        if len(span) < 3:
            return None
        phrase = span[:-1]  # the last word before a preposition or the end is the verb
        if any(_capitalised(w) for w in phrase[1:]):
            return None
        head = next((phrase[k - 1] for k in range(1, len(phrase)) if phrase[k].lower() in PREPOSITIONS), phrase[-1])
        return " ".join(phrase), _plural_noun(head)
    if shape.subject_wh and shape.body + 1 < len(words) and words[shape.body + 1].lower() == "the":
        span = words[shape.body + 1:]
        cut = next((k for k, w in enumerate(span) if k > 1 and (w.lower() in TIME_WORDS or w.lower() in
                                                                ("last", "this", "next", "yesterday"))), len(span))
        span = span[:cut]
        if len(span) < 2 or any(_capitalised(w) for w in span[1:]):
            return None
        head = next((span[k - 1] for k in range(1, len(span)) if span[k].lower() in PREPOSITIONS), span[-1])
        return " ".join(span), _plural_noun(head)
    return None


def _answer_head(text: str) -> str:
    """The part of an answer that names what was asked for: up to a dash, a comma, a bracket, or an
    affiliation ("Jerome P. Horwitz of the Michigan Cancer Foundation" -> "Jerome P. Horwitz")."""
    head = re.split(r"\s+-\s+|\s+—\s+|,\s|\s\(|\s+of\s+the\s+|\s+from\s+the\s+", text, maxsplit=1)[0]
    return head.strip()


def _about_named(shape: _Shape) -> bool:
    """"Who is Juan Guaido?": a question about the name it holds (its answer describes that name)."""
    w = shape.words
    return (shape.wh in ("who", "whom") and len(w) >= 3 and w[1].lower() in ("is", "was", "are", "were")
            and all(_capitalised(x) or x.lower() in CONNECTORS for x in w[2:])
            and not _POSSESSIVE.search(w[-1]) and not any(_POSSESSIVE.search(x) and "'" in x for x in w[2:]))


def _candidates(prev: Turn, vocab: Vocabulary) -> tuple[list[Candidate], list[Candidate], _Shape]:
    """What the previous turn offers: ``(from the question, from the answer, the question's shape)``."""
    common = vocab.lower
    q = prev.understood_question
    shape = _shape(q)
    q_cands: list[Candidate] = []
    about = _about_named(shape)
    for e in find_entities(q, common):
        if e.office:
            continue  # "the Home Secretary": the answer names who holds it
        kind, gender, sure = _kind(e, vocab, "person" if about else None)
        np = _np_after_the(q, e, question=True)
        if np and kind != "person":
            # a name used as a modifier: the phrase is what "it"/"they" stand for
            plural = _plural_noun(np.split()[-1])
            q_cands.append(Candidate(np, "things" if plural else "thing", None, False, "question"))
            continue
        if _modifier(e):
            continue
        q_cands.append(Candidate(_written(e), kind, gender, sure, "question", "", e.place))
    topic = _topic_phrase(shape)
    if topic:
        q_cands.append(Candidate(topic[0], "things" if topic[1] else "thing", None, False, "question", "topic"))

    a_cands: list[Candidate] = []
    a = prev.answer
    if not a.text:
        return q_cands, a_cands, shape
    answer_type = _answer_type(shape)
    text = a.text
    head = _answer_head(text)
    q_names = {c.text.lower().removeprefix("the ") for c in q_cands}
    a_ents = [e for e in find_entities(text, common) if e.text.lower() not in q_names and not e.office]
    head_ents = [k for k, e in enumerate(a_ents) if e.end <= len(head) + 1 and not _modifier(e)]
    head_k = head_ents[-1] if head_ents else None
    kinds = [_kind(e, vocab, answer_type if k == head_k else None) for k, e in enumerate(a_ents)]
    if head_k is not None and answer_type in ("person", "org") and kinds[head_k][0] == "place":
        kinds[head_k] = ("org", None, False)  # "Who imposed sanctions? The United States": a government acting
    lists = _coordinations(text, a_ents, kinds)
    head_cand: Candidate | None = None
    for cand, members in lists:
        if head_k is not None and head_k in members or (head_ents and head_ents[0] in members):
            head_cand = Candidate(cand.text, cand.kind, None, False, "answer", "head")
        else:
            a_cands.append(cand)
    for k, (e, (kind, gender, sure)) in enumerate(zip(a_ents, kinds, strict=True)):
        if _modifier(e):
            continue
        np = _np_after_the(text, e, question=False)
        if np and _plural_noun(np.split()[-1]):
            # "the Barclay twins": the phrase names a group
            people = answer_type == "person" or kind == "person"
            cand = Candidate(np, "people" if people else "things", None, False, "answer",
                             "head" if k in head_ents and head_cand is None else "")
        else:
            cand = Candidate(_written(e), kind, gender, sure, "answer", "head" if k == head_k else "", e.place)
        if cand.role == "head" and head_cand is None:
            head_cand = cand
        else:
            a_cands.append(cand)
    if shape.wh == "where" and len(head.split()) <= 6 and not any(
            w.lower() in AUX or w.lower() in IRREGULAR or (w.islower() and w.endswith(("ed", "ing")) and len(w) > 4)
            for w in head.split()):
        # a short place phrase ("a Hindu temple in Neasden"), not a sentence ("Guaido slipped out of ...")
        place = re.sub(r"^(?:in|at|to|near|from|on)\s+", "", head, flags=re.IGNORECASE)
        if place and (place[0].isupper() or place.lower().startswith(("the ", "a "))):
            if head_cand is not None:
                a_cands.insert(0, head_cand)
            head_cand = Candidate(place, "place", None, False, "answer", "head", True)
    if head_cand is not None:
        a_cands.insert(0, head_cand)
    # the sentence around a short answer names more, after what the answer itself names
    ctx = a.context or (a.citations[0].passage if a.citations and len(text.split()) <= 8 else None)
    if ctx and ctx != text:
        known = q_names | {c.text.lower().removeprefix("the ") for c in a_cands}
        for e in find_entities(ctx, common):
            if e.text.lower() not in known and not _modifier(e):
                kind, gender, sure = _kind(e, vocab)
                a_cands.append(Candidate(_written(e), kind, gender, sure, "answer", "context"))
    return q_cands, a_cands, shape


def _fits(pronoun: str, c: Candidate) -> bool:
    if pronoun in PERSONAL:
        if c.kind != "person":
            return False
        return not (c.gender_sure and _gender_clash(pronoun, c))
    if pronoun in NEUTER:
        # an unknown name of two or three words is shaped like a person's: not "it" without evidence
        return c.kind in ("org", "place", "thing", "group") or (c.kind == "unknown" and len(c.text.split()) not in
                                                                 (2, 3))
    if pronoun in PLURAL:
        return c.kind in ("people", "org", "things", "group")
    return c.kind == "place"  # there


def _gender_clash(pronoun: str, c: Candidate) -> bool:
    return (c.gender == "m" and pronoun in FEMALE_PRONOUNS) or (c.gender == "f" and pronoun in PERSONAL
                                                                and pronoun not in FEMALE_PRONOUNS)


def _same_verb(shape: _Shape, f_words: Sequence[str]) -> bool:
    """Whether the follow-up repeats the verb of a wh-subject question ("Who created AZT?" -> "... create")."""
    if not shape.subject_wh or shape.body >= len(shape.words):
        return False
    verb = shape.words[shape.body]
    if not verb.islower() or verb in _FUNCTION_WORDS:
        return False
    forms = {verb, *_lemma_candidates(verb)}
    return any(forms & {w, *_lemma_candidates(w)} for w in f_words if w.islower() and w not in _FUNCTION_WORDS)


def _order(pronoun: str, subject: bool, shared_verb: bool, q_cands: list[Candidate], a_cands: list[Candidate],
           shape: _Shape) -> list[Candidate]:
    """Candidates for ``pronoun``, most likely first."""
    answer_type = _answer_type(shape)
    named = [c for c in q_cands if c.role != "topic"]
    topics = [c for c in q_cands if c.role == "topic"]
    if pronoun == "there":
        answer_first = shape.wh == "where" or answer_type == "place"
    elif shared_verb:
        answer_first = subject  # "Who created AZT?" -> "When did he create it?": he = answer, it = AZT
        if not subject:
            named = named + topics  # the previous question's object, named or not
            topics = []
    else:
        asks_for_entity = shape.wh in ("who", "whom", "which") or (shape.wh == "what" and shape.noun is not None
                                                                   and answer_type is not None)
        answer_first = asks_for_entity and not _about_named(shape)
    groups = [a_cands, named] if answer_first else [named, a_cands]
    ordered = [c for g in groups for c in g] + topics
    if pronoun in PERSONAL:  # a gender the articles only hint at goes after those that fit
        ordered.sort(key=lambda c: _gender_clash(pronoun, c))
    if pronoun == "there":  # within what came first, a place said to be gone to or been in
        first = {id(c) for c in groups[0]}
        ordered.sort(key=lambda c: (id(c) not in first, not c.locative))
    return ordered


def _is_subject(toks: list[tuple[str, int, int]], k: int) -> bool:
    """Whether the pronoun at token ``k`` is a subject: first, or right after an auxiliary / wh-word."""
    if k == 0:
        return True
    prev = toks[k - 1][0].lower()
    return prev in AUX or prev in WH_WORDS or prev in (",", "and", "but")


def _ask_note(pronoun: str) -> str:
    what = {"there": "where 'there' is"}.get(pronoun)
    if what is None:
        if pronoun in PERSONAL:
            what = f"who '{pronoun}' is"
        elif pronoun in PLURAL:
            what = f"who '{pronoun}' are"
        else:
            what = f"what '{pronoun}' is"
    return f"Asked as typed: could not tell {what}."


# ----------------------------------------------------------------------------- ellipsis
def _has_verb_like(words: list[str]) -> bool:
    return any(w.lower() in AUX or w.lower().endswith(("ed", "ing")) for w in words[1:]) or \
        (bool(words) and words[0].lower() in AUX)


def _elliptical_fragment(question: str) -> str | None:
    """The fragment of an elliptical follow-up ("and in 2019?" -> "in 2019"), or ``None``."""
    q = question.strip().rstrip("?!. ").strip()
    if not q:
        return None
    lead = _ELLIPSIS_LEAD.match(q)
    if lead:
        rest = q[lead.end():].strip()
        if rest and (rest.split()[0].lower() in AUX | IMPERATIVES or (_wh(rest) and len(rest.split()) > 1)):
            return None  # "and did he ...", "and where did he go" are full questions
        return rest or None
    words = q.split()
    first = words[0].lower()
    if q.lower() in NOT_QUESTIONS or first in IMPERATIVES:
        return None
    if _wh(q) and len(words) == 1:
        return q
    if len(words) <= 4 and not _wh(q) and not _has_verb_like(words) and (
            first in PREPOSITIONS or _YEAR.search(q) or _capitalised(words[0]) and first not in COMMON_STARTERS):
        return q
    return None


def _is_time_phrase(words: Sequence[str]) -> bool:
    return any(_YEAR.fullmatch(w) or w.lower() in TIME_WORDS for w in words)


def _phrase_spans(base: str) -> list[tuple[int, int, str, bool]]:
    """Prepositional and time phrases of ``base``: ``(start, end, preposition, is_time)``. A phrase ends
    after a name, a year, a time word, or before punctuation / another preposition / a verb-like word."""
    toks = _tokens(base)
    out = []
    k = 0
    while k < len(toks):
        tok, s, _e = toks[k]
        low = tok.lower()
        starts_time = low in ("last", "this", "next") and k + 1 < len(toks) and toks[k + 1][0].lower() in TIME_WORDS
        if low in PREPOSITIONS - {"of"} or starts_time:
            end = toks[k][2]
            j = k + 1
            words: list[str] = []
            while j < len(toks):
                w = toks[j][0]
                lw = w.lower()
                if not w[0].isalnum() or lw in PREPOSITIONS - {"of"} or lw in AUX or lw in WH_WORDS:
                    break
                if words and words[-1][:1].isupper() and w[:1].islower():
                    break  # a name ends the phrase: "to Mexico fall"
                if words and (_YEAR.fullmatch(words[-1]) or words[-1].lower() in TIME_WORDS) and lw not in \
                        TIME_WORDS:
                    break
                words.append(w)
                end = toks[j][2]
                j += 1
                if lw in TIME_WORDS and starts_time:
                    break
            if words or starts_time:
                all_words = [tok] + words
                out.append((s, end, low if not starts_time else "", _is_time_phrase(all_words)))
            k = max(j, k + 1)
        elif _YEAR.fullmatch(tok):
            out.append((s, toks[k][2], "", True))
            k += 1
        else:
            k += 1
    return out


def _lower_first(text: str) -> str:
    words = text.split(maxsplit=1)
    if words and (words[0].lower() in COMMON_STARTERS or words[0].lower() in AUX) and not _is_acronym(words[0]):
        return text[0].lower() + text[1:]
    return text


def _gap_after_verb(rest: list[str]) -> int | None:
    """Where the object of the verb goes in ``rest`` (an auxiliary, a subject, a verb ...): after the
    verb, when the verb is followed by a preposition or nothing ("did the party repay | to Lord Ashcroft")."""
    i = 1
    if i < len(rest) and rest[i].lower() in DETERMINERS:
        i += 1
    named = i
    while i < len(rest) and _capitalised(rest[i]):
        i += 1
    if i == named and i < len(rest) and rest[i].islower() and rest[i - 1].lower() in DETERMINERS:
        i += 1  # "the party"
    elif i > named and named > 1 and i + 1 < len(rest) and rest[i].islower() and rest[i + 1].islower() and \
            rest[i] not in _FUNCTION_WORDS and rest[i + 1] not in _FUNCTION_WORDS:
        i += 1  # "the Cardiff gig | raise"
    if i >= len(rest) or i == 1 or not rest[i].islower() or rest[i] in _FUNCTION_WORDS:
        return None
    if i + 1 == len(rest) or rest[i + 1].lower() in _FUNCTION_WORDS:
        return i + 1
    return None


def _short_answer(prev: Turn, words: int = 6) -> str | None:
    """The previous answer, when it is a short phrase (not a sentence) that can fill a gap."""
    text = (prev.answer.text or "").strip().rstrip(".")
    if not text or len(text.split()) > words or re.search(r"[.!?]\s", text):
        return None
    return text


def _answer_subject(prev: Turn, vocab: Vocabulary) -> str | None:
    """What a short answer names, written to stand as a subject: "the Barclay twins", "JP McManus and
    John Magnier", "the US Anti-Doping Agency"; ``None`` for a long or nameless answer."""
    text = prev.answer.text or ""
    head = _answer_head(text)
    if len(head.split()) > 6:
        return None
    ents = [e for e in find_entities(head, vocab.lower) if not _modifier(e) and not e.office]
    if not ents:
        return None
    all_ents = [e for e in find_entities(text, vocab.lower) if not _modifier(e) and not e.office]
    for cand, members in _coordinations(text, all_ents, [_kind(e, vocab) for e in all_ents]):
        if any(all_ents[m].start == ents[-1].start for m in members):
            return cand.text  # "Pixies, Foo Fighters and Iron Maiden"
    np = _np_after_the(head, ents[-1], question=False)
    if np and _plural_noun(np.split()[-1]):
        return np
    return _written(ents[-1])


def _rebuild_wh(new_wh: str, prev: Turn, vocab: Vocabulary) -> str | None:
    """The previous question asked with ``new_wh`` (why, when, where, how) instead, or ``None`` when it
    cannot be done grammatically."""
    shape = _shape(prev.understood_question)
    words = list(shape.words)
    new = new_wh.capitalize()
    if not words:
        return None
    if shape.wh is None:
        if shape.aux == 0:  # "Did Reyes berate his team-mates?" -> "Why did Reyes berate his team-mates?"
            return f"{new} {_lower_first(' '.join(words))}?"
        return None
    if shape.aux is not None:
        rest = words[shape.aux:]
        body = rest[1:]
        if shape.wh in ("who", "whom", "what") and shape.noun is None and shape.aux == 1 and \
                rest[0].lower() in ("is", "are", "was", "were"):
            return None  # "Who is X?" / "What is X?": nothing to ask why or when about
        if shape.noun is not None and shape.wh in ("how", "which", "what", "whose"):
            if not body:
                return None
            how_much = shape.wh == "how" and words[1].lower() in ("much", "many")
            noun_words = words[2:shape.aux] if how_much else []
            if how_much and not noun_words:
                filler = _short_answer(prev)  # "How much did the party repay?" -> "... repay £500,000"
            elif how_much:
                filler = " ".join(noun_words)
            else:
                filler = _short_answer(prev)
            if body[0].islower() and body[0] not in _FUNCTION_WORDS and body[0] not in PRONOUNS:
                # the wh-phrase is the subject: "How many countries have recognized Guaido?"
                if not how_much:
                    filler = _answer_subject(prev, vocab) or f"the {shape.noun}"
                if not filler:
                    return None
                return f"{new} {rest[0]} {filler} {' '.join(body)}?"
            if body[-1].lower() in PREPOSITIONS:  # "Which club does Reyes want to play for?"
                return f"{new} {' '.join(rest)} {filler}?" if filler else None
            gap = _gap_after_verb(rest)
            if not filler and not how_much:  # "Which films has X made?" -> "... made those films?"
                filler = f"{'those' if _plural_noun(shape.noun) else 'that'} {shape.noun}"
            if filler and gap is not None:
                return f"{new} {' '.join(rest[:gap] + [filler] + rest[gap:])}?"
            if how_much and noun_words:
                return f"{new} {' '.join(rest)} {filler}?"
            return f"{new} {' '.join(rest)}?"
        if shape.wh == "how" and len(words) > 1 and words[1].lower() in ("much", "many"):
            # "How much did the party repay to Lord Ashcroft?" -> "Why did the party repay £500,000 to ..."
            filler = _short_answer(prev, 4)
            if body and body[-1].lower() in PREPOSITIONS:
                return f"{new} {' '.join(rest)} {filler}?" if filler else None
            gap = _gap_after_verb(rest)
            if filler and gap is not None:
                return f"{new} {' '.join(rest[:gap] + [filler] + rest[gap:])}?"
            return f"{new} {' '.join(rest)}?"
        if shape.wh == "how" and shape.aux == 2 and rest[0].lower() in ("is", "are", "was", "were") and \
                all(_capitalised(w) or w.lower() in DETERMINERS for w in body):
            return None  # "How old is Tama Umaga?": nothing left to ask why about
        if shape.wh in ADVERBIAL_WH:
            return f"{new} {' '.join(rest)}?"
        if shape.wh in ("what", "who", "whom") and shape.noun is None:
            # the wh-word was the object: its gap takes the answer, or "that"
            filler = _short_answer(prev, 4) or ("that" if shape.wh == "what" else None)
            if body and body[-1].lower() in PREPOSITIONS:
                return f"{new} {' '.join(rest)} {filler}?" if filler and shape.wh != "what" or \
                    _short_answer(prev, 4) else None
            gap = _gap_after_verb(rest)
            if gap is not None and filler:
                return f"{new} {' '.join(rest[:gap] + [filler] + rest[gap:])}?"
            return f"{new} {' '.join(rest)}?" if shape.wh == "what" else None
        return None
    if shape.subject_wh and prev.answer.text:
        # "Who quit UKIP last week?" (Kilroy-Silk) -> "Why did Kilroy-Silk quit UKIP last week?"
        subject = _answer_subject(prev, vocab)
        if not subject or shape.body >= len(words):
            return None
        verb = words[shape.body]
        if not verb.islower() or verb in AUX:
            return None
        lemma = _lemma(verb, vocab.lower)
        aux = "did" if verb.endswith("ed") or verb.lower() in IRREGULAR else "does" if verb.endswith("s") else "did"
        return f"{new} {aux} {subject} {lemma} {' '.join(words[shape.body + 1:])}".rstrip() + "?"
    return None


def _head_noun_swap(base: str, fragment: str) -> str | None:
    """"What about the Bristol show?" after "... from the Glasgow show?": the phrase with the same head
    noun (or the same kind of role: "the chairman" for "the president") is replaced."""
    frag_words = fragment.split()
    head = frag_words[-1].lower()
    toks = _tokens(base)
    for k, (tok, _s, e) in enumerate(toks):
        low = tok.lower()
        if low == head or (head in PERSON_ROLES and low in PERSON_ROLES and len(frag_words) <= 2):
            # the phrase: back to its determiner
            b = k
            while b > 0 and (toks[b - 1][0].lower() in DETERMINERS or _capitalised(toks[b - 1][0])) and \
                    toks[b - 1][0].lower() not in WH_WORDS and k - b < 4:
                b -= 1
                if toks[b][0].lower() in DETERMINERS:
                    break
            if b == 0:
                return None
            return f"{base[:toks[b][1]]}{fragment}{base[e:]}?"
    return None


def _what_about(base: str, fragment: str, vocab: Vocabulary) -> tuple[str | None, str | None]:
    """``(rewrite, note)`` for "What about X?" after ``base``."""
    common = vocab.lower
    if fragment.lower() in PRONOUNS | {"that", "this", "those", "these", "him", "her"}:
        return None, f"Asked as typed: could not tell what '{fragment}' is."
    if fragment.split()[-1].islower():  # "the Bristol show": a phrase with a head noun to match
        swapped = _head_noun_swap(base, fragment)
        if swapped:
            return swapped, None
    frag_ents = find_entities(fragment[0].upper() + fragment[1:] if fragment[:4].lower() == "the " else fragment,
                              common)
    ents = find_entities(base, common)
    if frag_ents and ents:
        new = frag_ents[0]
        new_kind = _kind(new, vocab)[0]
        chosen = next((e for e in ents if _kind(e, vocab)[0] == new_kind and new_kind != "unknown"), ents[0])
        start = chosen.start
        if chosen.the and base[:start].lower().endswith("the "):
            start -= 4
        end = chosen.end
        np = _np_after_the(base, chosen, question=True) if _modifier(chosen) else None
        if np:  # "the French government" is the phrase to swap, not "French"
            end = start + len(np)
        text = fragment
        if not fragment.lower().startswith("the ") and chosen.the and new.the and not np:
            text = f"the {fragment}"
        if text.lower().startswith("the ") and start > 0:
            text = "the " + text[4:]
        tail = base[end:]
        if re.match(r"['’](?!s\b)", tail) and not text.endswith("s"):
            tail = tail[0] + "s" + tail[1:]  # "American Motors' plant" -> "UKIP's plant"
        return f"{base[:start]}{text}{tail}?", None
    swapped = _head_noun_swap(base, fragment)
    if swapped:
        return swapped, None
    if ents:
        return (f"What about {fragment}, regarding {_written(ents[0])}?",
                f"Read as a question about {fragment} in the context of {_written(ents[0])}.")
    return None, f"Asked as typed: could not tell what '{fragment}' takes the place of in the previous question."


def _combine(prev: Turn, fragment: str, vocab: Vocabulary, what_about: bool) -> tuple[str | None, str | None]:
    """``(rewrite, note)`` for an elliptical follow-up; ``(None, note)`` when it cannot be rebuilt."""
    base = prev.understood_question.strip().rstrip("?!. ").strip()
    frag_words = fragment.split()
    first = frag_words[0].lower()
    if len(frag_words) == 1 and first in WH_WORDS:
        if first not in ADVERBIAL_WH:
            return None, f"Asked as typed: could not tell what '{fragment}?' asks about."
        rebuilt = _rebuild_wh(first, prev, vocab)
        if rebuilt is None:
            return None, f"Asked as typed: could not tell what '{fragment[0].upper() + fragment[1:]}?' refers to."
        return rebuilt, None
    if first in PREPOSITIONS or first in COMMON_STARTERS:
        fragment = fragment[0].lower() + fragment[1:]
    if (what_about or first in DETERMINERS) and first not in PREPOSITIONS:
        return _what_about(base, fragment, vocab)
    spans = _phrase_spans(base)
    frag_time = _is_time_phrase(frag_words)
    if first in PREPOSITIONS:
        # the phrase with the same preposition, else a time phrase for a time phrase, else added
        same = [sp for sp in spans if sp[2] == first and sp[3] == frag_time]
        same = same or [sp for sp in spans if sp[2] == first]
        if not same and frag_time:
            same = [sp for sp in spans if sp[3]]
        if same:
            s, e = same[-1][0], same[-1][1]
            return f"{base[:s]}{fragment}{base[e:]}?", None
        return f"{base} {fragment}?", None
    year_new, year_old = _YEAR.search(fragment), _YEAR.search(base)
    if year_new and year_old and len(frag_words) == 1:
        return f"{base[:year_old.start()]}{year_new.group()}{base[year_old.end():]}?", None
    if year_new and len(frag_words) == 1:
        times = [sp for sp in spans if sp[3]]
        if times:
            s, e = times[-1][0], times[-1][1]
            return f"{base[:s]}in {fragment}{base[e:]}?", None
        return f"{base} in {fragment}?", None
    if _capitalised(fragment) and first not in COMMON_STARTERS:
        return _what_about(base, fragment, vocab)
    return None, None


# ----------------------------------------------------------------------------- rewriting
def _vocab_of(common: Iterable[str] | Vocabulary, vocabulary: Vocabulary | None) -> Vocabulary:
    if vocabulary is not None:
        return vocabulary
    if isinstance(common, Vocabulary):
        return common
    words = frozenset(common)
    return Vocabulary(extra_lower=words) if words else EMPTY_VOCABULARY


def resolve(question: str, previous: Turn | None, common: Iterable[str] = (), *,
            vocabulary: Vocabulary | None = None) -> Rewrite:
    """The standalone form of ``question`` asked after ``previous`` (see the module docstring).

    ``vocabulary`` is what the indexed articles say about words and names (:func:`vocabulary`); a plain
    set of lower-case words (``common``) is enough for the capitalisation rules. Without a previous
    turn, or when nothing needs resolving, the question comes back unchanged.
    """
    if previous is None or not question or not question.strip():
        return Rewrite(question)
    vocab = _vocab_of(common, vocabulary)
    fragment = _elliptical_fragment(question)
    if fragment is not None:
        combined, note = _combine(previous, fragment, vocab, bool(_WHAT_ABOUT.match(question.strip())))
        if combined and combined.strip("? ") and combined != question:
            return Rewrite(combined, None, note)
        if note:
            return Rewrite(question, None, note)
    toks = _tokens(question)
    lows = [t[0].lower() for t in toks]
    if not any(w in PRONOUNS for w in lows):
        return Rewrite(question)
    # "When did it happen?" is "When?" about the previous question
    m = re.fullmatch(r"\s*(why|when|where|how)\s+(?:did|does|do|will|would|could|can)\s+(?:it|that|this)\s+(\w+)"
                     r"\s*\??\s*", question, re.IGNORECASE)
    if m and m.group(2).lower() in EVENT_VERBS:
        rebuilt = _rebuild_wh(m.group(1).lower(), previous, vocab)
        if rebuilt:
            return Rewrite(rebuilt)
        return Rewrite(question, None, "Asked as typed: could not tell what 'it' is.")
    skip: set[int] = set()
    if _DUMMY_IT.search(question):
        skip |= {k for k, w in enumerate(lows) if w == "it"}
    own = find_entities(question, vocab.lower)
    own_names = {e.text.lower() for e in own}
    q_cands, a_cands, shape = _candidates(previous, vocab)
    shared = _same_verb(shape, lows)
    out: list[str] = []
    cursor = 0
    resolved: list[tuple[str, str]] = []
    notes: list[str] = []
    used: dict[str, str] = {}        # pronoun class -> name, so a repeated pronoun is replaced once
    taken: set[str] = set()
    for k, (tok, s, e) in enumerate(toks):
        low = lows[k]
        if low not in PRONOUNS or k in skip:
            continue
        prev_tok = lows[k - 1] if k else ""
        next_tok = lows[k + 1] if k + 1 < len(toks) else ""
        if low == "there" and (next_tok in AUX or prev_tok in AUX and prev_tok not in DO_FORMS):
            # "is there", "there are": no place, unless "How many workers are there?" asks about one
            if not (next_tok in ("?", "") and prev_tok in AUX and (shape.wh == "where" or
                                                                     _answer_type(shape) == "place")):
                continue
            place = next((c for c in _order("there", False, False, q_cands, a_cands, shape) if _fits("there", c)),
                         None)
            if place is None:
                continue
            out.append(question[cursor:e])
            out.append(f" in {place.text}")
            cursor = e
            resolved.append(("there", place.text))
            continue
        if low == "it" and (prev_tok in PROPOSITIONAL or (prev_tok in ("do", "does", "did", "done", "doing")
                                                           and next_tok in ("", "?", ".", "and", "or", ","))):
            continue  # "When did he say it?", "Why did he do it?": a statement or an act, not a name
        if low in POSSESSIVE | {"her", "hers"} and any(ent.start < s for ent in own):
            continue  # "Did Guaido say his family ..." refers inside the question
        cls = "personal-f" if low in FEMALE_PRONOUNS else "personal-m" if low in PERSONAL else \
            "neuter" if low in NEUTER else "plural" if low in PLURAL else "there"
        if cls in used:
            continue  # the same referent again: the first mention names it
        order = _order(low, _is_subject(toks, k), shared, q_cands, a_cands, shape)
        fitting = [c for c in order if _fits(low, c) and c.text.lower().removeprefix("the ") not in own_names
                   and not any(c.text in t or t in c.text for t in taken)]
        chosen = fitting[0] if fitting else None
        if chosen is None and low in PLURAL:
            persons = [c for c in order if c.kind == "person" and c.text.lower() not in own_names]
            if len(persons) == 2:  # "Who did Kennedy meet?" (Blair) -> "What did they discuss?"
                chosen = Candidate(f"{persons[0].text} and {persons[1].text}", "people")
        if chosen is None:
            return Rewrite(question, None, _ask_note(low))
        if len(fitting) > 1 and fitting[1].source == chosen.source and chosen.kind == "person" and \
                fitting[1].kind == "person" and chosen.role != "head":
            notes.append(f"Took '{low}' to be {chosen.text}; it could also be {fitting[1].text}.")
        name = chosen.text
        if low in POSSESSIVE or low == "hers":
            repl = name if name.endswith(("'", "’")) else f"{name}'s"
        elif low == "her":
            repl = name if (not next_tok or not next_tok[0].isalnum() or next_tok in PREPOSITIONS
                            or next_tok in AUX or next_tok in COMMON_STARTERS) else f"{name}'s"
        elif low == "there":
            repl = name if prev_tok in PREPOSITIONS else f"to {name}" if prev_tok in MOTION else f"in {name}"
        else:
            repl = name
        if k == 0 or (k > 0 and toks[k - 1][0] in _SENTENCE_END):
            repl = repl[0].upper() + repl[1:]
        out.append(question[cursor:s])
        out.append(repl)
        cursor = e
        used[cls] = name
        taken.add(name)
        resolved.append((low, name))
    if not resolved:
        return Rewrite(question)
    out.append(question[cursor:])
    return Rewrite("".join(out), resolved[0][1], " ".join(notes) or None, tuple(resolved))


def rewrite(question: str, previous: Turn | None, common: Iterable[str] = (), *,
            vocabulary: Vocabulary | None = None) -> tuple[str, str | None]:
    """``(standalone question, substituted name or None)`` for ``question`` asked after ``previous``:
    :func:`resolve` without the note."""
    r = resolve(question, previous, common, vocabulary=vocabulary)
    return r.question, r.entity


# ----------------------------------------------------------------------------- conversation
_vocab_lock = threading.Lock()
_vocab: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # QA -> (generation, Vocabulary)


def vocabulary(qa: QA) -> Vocabulary:
    """What the indexed articles say about words and names, computed once per index generation and
    shared by every conversation over ``qa``."""
    try:
        snap = qa.snapshot
    except Exception:  # an unusable index: capitalisation rules alone
        return EMPTY_VOCABULARY
    gen = getattr(snap, "generation", None)
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


class Conversation:
    """A chat over a :class:`~qa.engine.QA`: remembers turns and resolves follow-ups.

        chat = Conversation(qa)
        chat.ask("Who slipped out of Venezuela last week?")
        chat.ask("Where did he go?")                 # answered as "Where did Guaido go?"
        [t.understood_question for t in chat.turns]
        chat.last.rewrite_note                       # set when the follow-up was asked as typed

    ``max_turns`` bounds the kept history. Each conversation is meant for one person; share the
    :class:`~qa.engine.QA` between conversations, not the conversation.
    """

    def __init__(self, qa: QA | None, *, max_turns: int = 50, k: int | None = None) -> None:
        self.qa = qa
        self.k = k
        self.max_turns = max_turns
        self.turns: list[Turn] = []

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def reset(self) -> None:
        self.turns.clear()

    def vocabulary(self) -> Vocabulary:
        return vocabulary(self.qa) if self.qa is not None else EMPTY_VOCABULARY

    def common_words(self) -> Container[str]:
        """Words the indexed articles use in lower case (so a capitalised one starts a sentence)."""
        return self.vocabulary().lower

    def resolve(self, question: str) -> Rewrite:
        """The standalone form of ``question`` given the previous turn, with its note."""
        if not self.turns:
            return Rewrite(question)
        return resolve(question, self.turns[-1], vocabulary=self.vocabulary())

    def understand(self, question: str) -> tuple[str, str | None]:
        """The standalone form of ``question`` given the previous turn (unchanged when there is none)."""
        r = self.resolve(question)
        return r.question, r.entity

    def ask_turn(self, question: str) -> Turn:
        """Answer ``question`` (a follow-up or not) and return the whole :class:`Turn`."""
        if self.qa is None:
            raise ValueError("this conversation has no QA to answer with")
        r = self.resolve(question)
        answer = self.qa.ask(r.question, k=self.k)
        turn = Turn(question=question, understood_question=answer.question, answer=answer, entity=r.entity,
                    rewrite_note=r.note)
        self.turns.append(turn)
        del self.turns[:-self.max_turns]
        return turn

    def ask(self, question: str) -> Answer:
        """Answer ``question``; ``self.last.understood_question`` is the question as it was understood."""
        return self.ask_turn(question).answer
