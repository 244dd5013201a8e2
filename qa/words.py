"""English words and word shapes the language rules lean on: closed word lists (question words,
auxiliaries, prepositions, pronouns, titles and role words, organisation and place nouns, months), the
tokenizer of questions and sentences, and rough verb lemmas. Used by :mod:`qa.entities` (names in a text),
:mod:`qa.vocabulary` (what the articles say about a name) and :mod:`qa.conversation` (follow-up rewriting).
"""

from __future__ import annotations

import re
from collections.abc import Container

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
CONTRACTION = re.compile(r"['’](?:re|ll|ve|m|d|t)$|n['’]t$", re.IGNORECASE)
YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")
POSSESSIVE_END = re.compile(r"['’]s?$")


SENTENCE_END = frozenset({".", "!", "?", ":", ";", '"', "“", "”", "(", "-", "—"})


def lowered(tok: str) -> str:
    return tok.lower().rstrip(".")


def base_form(word: str, lower: Container[str] = frozenset()) -> str:
    """A verb's base form, roughly: "approved" -> "approve", "owns" -> "own", "quit" -> "quit"; the
    candidate the articles use is preferred."""
    cands = lemma_candidates(word)
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


def lemma_candidates(word: str) -> list[str]:
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


def is_acronym(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters) and len(word) <= 8


def plural_noun(word: str) -> bool:
    w = word.lower()
    return (len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "ous"))) or w in ("people", "men",
                                                                                                     "women")


def tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def is_capitalised(tok: str) -> bool:
    return tok[:1].isupper() and any(c.isalpha() for c in tok)


FUNCTION_WORDS = PREPOSITIONS | AUX | DETERMINERS | frozenset(WH_WORDS) | frozenset(
    "as and or but than that so if not".split())


# ----------------------------------------------------------------------------- content words
_WORD = re.compile(r"\w+")
STOPWORDS = frozenset(
    "a an the of in on at to for from by with and or but is are was were be been being do does did what "
    "which who whom whose when where why how that this these those it its as into about than then there "
    "their they he she his her him we you i me my our your has have had not no can could would should "
    "will shall may might must".split()
)


def content_words(text: str) -> set[str]:
    """The lower-cased words of ``text`` that carry meaning (``STOPWORDS`` left out)."""
    return {w for w in _WORD.findall(text.lower()) if w not in STOPWORDS}
