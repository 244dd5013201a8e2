"""Conversations: follow-up questions that lean on the previous turn.

    from qa import QA
    from qa.conversation import Conversation

    chat = Conversation(QA("seeds", "vectors"))
    chat.ask("Who is Venezuela's opposition leader?")    # answer mentions Guaido
    answer = chat.ask("Where did he go last week?")
    chat.last.understood_question                       # 'Where did Guaido go last week?'
    answer.text, answer.citations[0].title

A follow-up is rewritten into a standalone question before it is answered, using only the previous
turn (its understood question and its answer):

- pronouns (he, she, him, his, her, they, them, their, it, its, there) are replaced by the entity they
  most likely stand for: after a "who"/"which" question, a name from the answer; otherwise the main
  name of the previous question (so "Where did Guaido go?" then "What did he say?" stays on Guaido);
- elliptical questions reuse the previous one: "Why?" swaps the question word, "and in 2019?" replaces
  (or adds) the matching phrase, "What about Russia?" swaps the previous question's main name.

A question that needs no history (the first one, or one that names what it asks about) passes through
unchanged. Entities are found with capitalisation rules, made sharper by the indexed articles' own
vocabulary when a :class:`~qa.engine.QA` is given; no model and no corpus-specific rules are used.
:func:`rewrite` does the rewriting alone, without answering.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa.types import Answer

if TYPE_CHECKING:  # pragma: no cover
    from qa.engine import QA

# ----------------------------------------------------------------------------- vocabulary
WH_WORDS = ("who", "whom", "whose", "what", "which", "when", "where", "why", "how")
AUX = frozenset(
    "is are was were be been am do does did has have had can could will would shall should may might must".split()
)
PREPOSITIONS = frozenset(
    "in on at during after before since until by for from to with without about under over into across "
    "near against between among through throughout within outside inside around toward towards".split()
)
LOCATIVE = frozenset("in to from at into across near throughout inside outside toward towards visit visited "
                     "visiting".split())
SPEECH = frozenset("said says told added asked warned claimed stated announced insisted vowed argued".split())
TITLES = frozenset(
    "mr mrs ms miss dr prof sir lord lady president vice-president vice prime minister chancellor senator sen "
    "rep representative gov governor gen general col colonel capt captain king queen prince princess pope "
    "judge justice secretary ambassador envoy interim acting former deputy chairman ceo mayor saint st".split()
)
MONTHS_DAYS = frozenset(
    "january february march april may june july august september october november december jan feb mar apr "
    "jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday".split()
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
CONNECTORS = frozenset("of de del der la le von van da di du and".split()) - {"and"}

_TOKEN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ0-9][\w\-'’.]*[\w]|[A-Za-zÀ-ÖØ-öø-ÿ0-9]|[^\w\s]")
_CONTRACTION = re.compile(r"['’](?:re|ll|ve|m|d|t)$|n['’]t$", re.IGNORECASE)
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")
_POSSESSIVE = re.compile(r"['’]s?$")

NOT_QUESTIONS = frozenset({"thanks", "thank you", "thx", "ok", "okay", "yes", "no", "great", "cool", "hi", "hello",
                           "hey", "bye", "nice", "good", "sure", "got it"})
IMPERATIVES = frozenset("tell show explain describe list name give summarize summarise find define compare search "
                        "repeat".split())
MOTION = frozenset("go goes went gone going come comes came travel travelled traveled fly flew move moved return "
                   "returned head headed arrive arrived get got send sent flee fled".split())
SUBJECT_OBJECT = frozenset({"he", "she", "him", "they", "them", "it"})
POSSESSIVE = frozenset({"his", "its", "their", "theirs", "hers"})
PERSONAL = frozenset({"he", "she", "him", "his", "her", "hers"})
PRONOUNS = SUBJECT_OBJECT | POSSESSIVE | {"her", "there"}
_DUMMY_IT = re.compile(r"\b(?:it\s+(?:is|was|'s|seems|seemed|appears)\s+\w+\s+(?:that|to|whether|if)|"
                       r"(?:is|was)\s+it\s+(?:true|possible|likely|clear|known|the case)|it\s+(?:rains|rained))\b",
                       re.IGNORECASE)
_ELLIPSIS_LEAD = re.compile(r"^(?:and|but|so|also|ok(?:ay)?|then)\s*,?\s+|^(?:and\s+)?(?:what|how)\s+about\s+|"
                            r"^(?:and\s+)?what\s+of\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Entity:
    """A name found in a text: its words, where it was found, and hints about what it names."""

    text: str
    start: int
    place: bool = False     # after in/to/from/at...
    person: bool = False    # after a title, or next to "said", or before "who"
    titled: bool = False    # after a title ("President ...")
    the: bool = False       # after "the" ("the United States")


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _capitalised(tok: str) -> bool:
    return tok[:1].isupper() and any(c.isalpha() for c in tok)


def find_entities(text: str, common: Iterable[str] = (), unique: bool = True) -> list[Entity]:
    """Names in ``text`` (runs of capitalised words), in order of appearance, without duplicates.

    Sentence-initial words count only when they are not common words (``COMMON_STARTERS`` plus
    ``common``: e.g. the words an article collection uses in lower case). Leading titles ("President")
    are dropped; a possessive ``'s`` ends the name. ``unique=False`` keeps every mention.
    """
    common = set(common) | COMMON_STARTERS
    toks = _tokens(text)
    out: list[Entity] = []
    seen: set[str] = set()
    i = 0
    while i < len(toks):
        tok, s, _ = toks[i]
        sentence_start = i == 0 or toks[i - 1][0] in {".", "!", "?", ":", ";", '"', "“", "”", "(", "-", "—"} \
            or "\n" in text[toks[i - 1][2]:s]
        if not _capitalised(tok) or tok.lower() in MONTHS_DAYS:
            i += 1
            continue
        j = i
        words: list[tuple[str, int, int]] = []
        while j < len(toks):
            w = toks[j][0]
            if _capitalised(w) and w.lower() not in MONTHS_DAYS:
                words.append(toks[j])
                if _POSSESSIVE.search(w) and len(w) > 2 and w[-2] in "'’" or w.endswith(("'", "’")):
                    j += 1
                    break
                j += 1
            elif w.lower() in CONNECTORS and j + 1 < len(toks) and _capitalised(toks[j + 1][0]) and words:
                words.append(toks[j])
                j += 1
            else:
                break
        # drop leading titles and common words, trailing connectors
        while words and (words[0][0].lower().rstrip(".") in TITLES or words[0][0].lower() in COMMON_STARTERS):
            words.pop(0)
        while words and words[-1][0].lower() in CONNECTORS:
            words.pop()
        if len(words) == 1 and (sentence_start or words[0][1] != s) and \
                _POSSESSIVE.sub("", words[0][0]).lower().rstrip(".") in common:
            words = []  # a common word capitalised because it starts a sentence
        if words:
            name = text[words[0][1]:words[-1][2]]
            name = re.sub(r"['’]s?$", "", name).rstrip(".")
            key = name.lower()
            if name and (key not in seen or not unique) and key not in common and not _CONTRACTION.search(name):
                seen.add(key)
                b = i - 1
                while b >= 0 and toks[b][0].lower() in ("the", "a", "an"):
                    b -= 1
                before = toks[b][0].lower() if b >= 0 else ""
                titled = any(w[0].lower().rstrip(".") in TITLES for w in toks[i:i + 1]) or before.rstrip(".") in TITLES
                after = toks[j][0].lower() if j < len(toks) else ""
                after2 = toks[j + 1][0].lower() if j + 1 < len(toks) else ""
                person = (titled or after in SPEECH or before in SPEECH or after == "who"
                          or (after == "," and after2 == "who"))
                k0 = next(k for k in range(i, j) if toks[k][1] == words[0][1])
                the = k0 > 0 and toks[k0 - 1][0].lower() == "the"
                out.append(Entity(name, words[0][1], place=before in LOCATIVE, person=person, titled=titled,
                                  the=the))
        i = max(j, i + 1)
    return out


# ----------------------------------------------------------------------------- turns
@dataclass
class Turn:
    """One exchange: what was asked, the standalone question that was answered, and the answer."""

    question: str
    understood_question: str
    answer: Answer
    entity: str | None = None   # the name the rewrite substituted, if any

    @property
    def rewritten(self) -> bool:
        return " ".join(self.question.split()) != self.understood_question


def _wh(question: str) -> str | None:
    first = question.strip().split(maxsplit=1)[0].lower() if question.strip() else ""
    first = re.sub(r"\W+$", "", first)
    return first if first in WH_WORDS else None


def _answer_entities(turn: Turn, common: set[str]) -> list[Entity]:
    a = turn.answer
    if a.text is None:
        return []
    ents = find_entities(a.text, common)
    ctx = a.context or (a.citations[0].passage if a.citations and len(a.text.split()) <= 8 else None)
    if ctx and ctx != a.text:
        names = {e.text.lower() for e in ents}
        ents += [e for e in find_entities(ctx, common) if e.text.lower() not in names]
    return ents


def _choose(pronoun: str, prev: Turn, common: set[str]) -> str | None:
    """The name ``pronoun`` most likely refers to, from the previous turn."""
    q_ents = find_entities(prev.understood_question, common)
    q_names = {e.text.lower() for e in q_ents}
    a_ents = [e for e in _answer_entities(prev, common) if e.text.lower() not in q_names]
    wh = _wh(prev.understood_question)
    short_entity_answer = (prev.answer.text is not None and len(prev.answer.text.split()) <= 5
                           and bool(find_entities(prev.answer.text, common)))
    if pronoun == "there":
        answer_first = wh == "where" or short_entity_answer
    else:
        answer_first = wh in ("who", "whom", "which") or (wh == "what" and short_entity_answer)
    groups = [a_ents, q_ents] if answer_first else [q_ents, a_ents]
    if pronoun == "there":
        prefer, avoid = (lambda e: e.place), (lambda e: e.person)
    elif pronoun in PERSONAL:
        prefer, avoid = (lambda e: e.person), (lambda e: e.place)
    elif pronoun in ("it", "its"):
        prefer, avoid = (lambda e: not e.person), (lambda e: e.person)
    else:
        prefer, avoid = (lambda e: False), (lambda e: False)
    if pronoun == "there":  # a place is named after in/to/from wherever it was found
        for group in groups:
            for e in group:
                if e.place:
                    return e.text
    for group in groups:
        if not group:
            continue
        for e in group:
            if prefer(e):
                return e.text
        for e in group:
            if not avoid(e):
                return e.text
    for group in groups:
        if group:
            return group[0].text
    return None


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


def _phrase_span(tokens: list[tuple[str, int, int]], k: int, text: str) -> tuple[int, int]:
    """From token ``k`` (a preposition) to the end of its phrase (before punctuation, a preposition,
    a question word or an auxiliary)."""
    end = tokens[k][2]
    for tok, _s, e in tokens[k + 1:]:
        low = tok.lower()
        if not tok[0].isalnum() or low in PREPOSITIONS or low in AUX or low in WH_WORDS:
            break
        end = e
    return tokens[k][1], end


def _combine(prev_q: str, fragment: str, common: set[str]) -> str:
    base = prev_q.strip().rstrip("?!. ").strip()
    frag_words = fragment.split()
    first = frag_words[0].lower()
    if first in PREPOSITIONS or first in COMMON_STARTERS:
        fragment = fragment[0].lower() + fragment[1:]
    # "Why?" after "Where did X go?" -> "Why did X go?"
    if len(frag_words) == 1 and first in WH_WORDS:
        wh = _wh(base)
        if wh:
            return f"{fragment[0].upper()}{fragment[1:].lower()}{base[len(base.split()[0]):]}?"
        return f"{fragment[0].upper()}{fragment[1:].lower()} {base[0].lower()}{base[1:]}?"
    toks = _tokens(base)
    # a year: swap it ("and 2019?") or the phrase holding it ("and in 2019?")
    if first in PREPOSITIONS:
        for k, (tok, _s, _e) in enumerate(toks):
            if tok.lower() == first:
                s, e = _phrase_span(toks, k, base)
                return f"{base[:s]}{fragment}{base[e:]}?"
    year_new, year_old = _YEAR.search(fragment), _YEAR.search(base)
    if year_new and year_old and len(frag_words) == 1:
        return f"{base[:year_old.start()]}{year_new.group()}{base[year_old.end():]}?"
    if _capitalised(fragment) and first not in COMMON_STARTERS and first not in PREPOSITIONS:
        ents = find_entities(base, common)
        if ents:
            e = ents[0]
            return f"{base[:e.start]}{fragment}{base[e.start + len(e.text):]}?"
    if first not in PREPOSITIONS and not _YEAR.search(fragment):
        ents = find_entities(base, common)
        if ents:  # "and the economy?" after "What did Russia vow?" -> "What about the economy, regarding Russia?"
            return f"What about {fragment}, regarding {ents[0].text}?"
    return f"{base} {fragment}?"


def rewrite(question: str, previous: Turn | None, common: Iterable[str] = ()) -> tuple[str, str | None]:
    """``(standalone question, substituted name or None)`` for ``question`` asked after ``previous``.

    Without a previous turn, or when nothing needs resolving, the question comes back unchanged.
    """
    if previous is None or not question or not question.strip():
        return question, None
    common = set(common)
    fragment = _elliptical_fragment(question)
    if fragment is not None:
        combined = _combine(previous.understood_question, fragment, common)
        if combined.strip("? ") and combined != question:
            return combined, None
    toks = _tokens(question)
    if not any(t[0].lower() in PRONOUNS for t in toks):
        return question, None
    if _DUMMY_IT.search(question):
        toks = [t for t in toks if t[0].lower() != "it"]
    own = find_entities(question, common)
    out: list[str] = []
    cursor = 0
    chosen: str | None = None
    cache: dict[str, str | None] = {}
    for k, (tok, s, e) in enumerate(toks):
        low = tok.lower()
        if low not in PRONOUNS:
            continue
        prev_tok = toks[k - 1][0].lower() if k else ""
        next_tok = toks[k + 1][0].lower() if k + 1 < len(toks) else ""
        if low == "there" and (next_tok in AUX or prev_tok in AUX and prev_tok not in ("did", "do", "does")):
            continue  # "is there", "there are": no place
        if low in POSSESSIVE | {"her", "hers"} and any(ent.start < s for ent in own):
            continue  # "Did Guaido say his family ..." refers inside the question
        if low not in cache:
            cache[low] = _choose(low, previous, common)
        name = cache[low]
        if not name:
            continue
        if low in POSSESSIVE or low == "hers":
            repl = f"{name}'s"
        elif low == "her":
            repl = name if (not next_tok or not next_tok[0].isalnum() or next_tok in PREPOSITIONS
                            or next_tok in AUX or next_tok in COMMON_STARTERS) else f"{name}'s"
        elif low == "there":
            repl = name if prev_tok in PREPOSITIONS else f"to {name}" if prev_tok in MOTION else f"in {name}"
        else:
            repl = name
        out.append(question[cursor:s])
        out.append(repl)
        cursor = e
        chosen = chosen or name
    if chosen is None:
        return question, None
    out.append(question[cursor:])
    return "".join(out), chosen


# ----------------------------------------------------------------------------- conversation
_vocab_lock = threading.Lock()
_vocab: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # QA -> (generation, words)
_WORD = re.compile(r"\b[a-z][a-z\-']+\b")
VOCAB_CHARS = 20_000       # characters read per article for the lower-case vocabulary


def lowercase_vocabulary(qa: QA) -> set[str]:
    """Words the indexed articles use in lower case, computed once per index generation and shared by
    every conversation over ``qa``."""
    try:
        snap = qa.snapshot
    except Exception:  # an unusable index: capitalisation rules alone
        return set()
    gen = getattr(snap, "generation", None)
    with _vocab_lock:
        cached = _vocab.get(qa)
        if cached is not None and cached[0] == gen:
            return cached[1]
        words: set[str] = set()
        for art in snap.articles.values():
            words.update(_WORD.findall(art.text[:VOCAB_CHARS]))
        _vocab[qa] = (gen, words)
        return words


class Conversation:
    """A chat over a :class:`~qa.engine.QA`: remembers turns and resolves follow-ups.

        chat = Conversation(qa)
        chat.ask("Who is Venezuela's opposition leader?")
        chat.ask("Where did he go last week?")       # answered as "Where did Guaido go last week?"
        [t.understood_question for t in chat.turns]

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

    def common_words(self) -> set[str]:
        """Words the indexed articles use in lower case (so a capitalised one starts a sentence)."""
        return lowercase_vocabulary(self.qa) if self.qa is not None else set()

    def understand(self, question: str) -> tuple[str, str | None]:
        """The standalone form of ``question`` given the previous turn (unchanged when there is none)."""
        if not self.turns:
            return question, None
        return rewrite(question, self.turns[-1], self.common_words())

    def ask_turn(self, question: str) -> Turn:
        """Answer ``question`` (a follow-up or not) and return the whole :class:`Turn`."""
        if self.qa is None:
            raise ValueError("this conversation has no QA to answer with")
        understood, entity = self.understand(question)
        answer = self.qa.ask(understood, k=self.k)
        turn = Turn(question=question, understood_question=answer.question, answer=answer, entity=entity)
        self.turns.append(turn)
        del self.turns[:-self.max_turns]
        return turn

    def ask(self, question: str) -> Answer:
        """Answer ``question``; ``self.last.understood_question`` is the question as it was understood."""
        return self.ask_turn(question).answer
