"""What kind of answer a question wants, and whether a candidate span is of that kind.

    from qa.answerers.answer_types import question_type, agreement
    qt = question_type("How long is the Kestrel Bridge?")     # expects a quantity with a unit
    agreement(qt, "480 metres")      # Agreement.MATCH
    agreement(qt, "3 March 2024")    # Agreement.MISMATCH: a date is not a length

Pure functions over strings, no model: the reader uses them to prefer a candidate span of the type
the question asks for, and to refuse rather than show a span of another type (``qa/reader/reader.py``).
Some questions cannot be answered with a short span at all (why, how + verb, yes/no, "summarise",
"what happened", "who is <name>?"): :func:`question_type` marks them ``kind="evidence"`` and the
reader answers them with the sentence that speaks to the question (``qa/answerers/gate.py`` knows an
evidence answer from a span when it computes the confidence).

The typing is deliberately conservative: a span is a MISMATCH only when it is clearly of another
kind (a date for "how long", a bare title for "who", no number at all for "how many"); anything the
patterns cannot judge is UNKNOWN, which is not held against it. Regular expressions rather than a
library: ``bench/RESULTS.md`` ("Trustworthy answers") records why dateparser, quantulum3 and
number-parser did not fit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from qa.dates import MONTH_PATTERN
from qa.types import EVIDENCE, SPAN

# -------------------------------------------------------------------------------------------------
# what a question wants


class Expects(str, Enum):  # noqa: UP042 - StrEnum would change str(Expects.X)
    """The answer type a question asks for."""

    QUANTITY = "quantity"  # a number with a unit, or a duration: how long/far/big/tall/heavy/old
    NUMBER = "number"  # a count or an amount: how many/much, what percentage
    DATE = "date"  # a date or time expression: when, what year/date/day
    PERSON = "person"  # a person or an organisation, not a bare title: who, whom, whose
    PLACE = "place"  # where, which country/city
    ANY = "any"  # nothing the patterns can check


@dataclass(frozen=True)
class QuestionType:
    """``kind`` is :data:`SPAN` (a short span answers it) or :data:`EVIDENCE` (only a sentence can:
    why, how + verb, yes/no, summaries, "who is <name>?"); ``expects`` the answer type; ``cue`` the
    words that decided."""

    kind: str
    expects: Expects
    cue: str = ""

    @property
    def typed(self) -> bool:
        return self.kind == SPAN and self.expects is not Expects.ANY


_AUX = ("is|are|was|were|am|do|does|did|has|have|had|can|could|will|would|should|shall|may|might|must|"
        "isn't|aren't|wasn't|weren't|don't|doesn't|didn't|hasn't|haven't|hadn't|can't|couldn't|won't|"
        "wouldn't|shouldn't")
_WH = re.compile(r"\b(who|whom|whose|when|where|why|how|what|which)\b")
_YES_NO = re.compile(rf"^(?:{_AUX})\b")
_SUMMARY = re.compile(r"^(?:please\s+)?(?:summari[sz]e|summary|describe|explain|tell me (?:about|more)|give me an? "
                      r"(?:overview|summary))\b|\bwhat (?:happened|is happening|was happening|is going on|went on)\b")
_WHY = re.compile(r"\bwhy\b|\bfor what reasons?\b|\bhow come\b|\bwhat (?:is|was|were|are) the reasons?\b")
_HOW_VERB = re.compile(rf"\bhow (?:{_AUX})\b")
# "Who is Maduro?", "What is NATO?": a description of the named thing is asked for, which no short
# span gives reliably (a bare title, or another name found next to it, is not one)
_DEFINITION = re.compile(r"^(?:[Ww]ho|[Ww]hat)(?:\s+(?:is|was|are|were)\s+|'s\s+)((?:[A-Z0-9][\w'\u2019.\-]*\s*)+)\?*$")
_QUANTITY_ADJ = ("long|far(?! (?:back|west|east|north|south|up|down|into|along|inland|out|away|ahead|from|in|beyond))|"
                 "big|tall|high|wide|deep|heavy|large|fast|old|hot|cold|thick|small|short|close|"
                 "much time|many years|many months|many days|many weeks|many hours|many minutes|many decades|"
                 "many centuries")
_HOW_QUANTITY = re.compile(rf"\bhow (?:{_QUANTITY_ADJ})\b")
_HOW_NUMBER = re.compile(r"\bhow (?:many|much)\b|\b(?:what|which) (?:number|percentage|percent|proportion|share|"
                         r"fraction|amount|sum|population|total)\b")
_WHAT_QUANTITY = re.compile(r"\b(?:what|which) (?:distance|length|height|width|depth|size|weight|mass|speed|"
                            r"temperature|age|duration|altitude|elevation|volume)\b|\bat what (?:age|speed|height|"
                            r"temperature|distance)\b")
_WHAT_DATE = re.compile(r"\b(?:what|which) (?:year|years|date|day|month|century|decade|time|era|season|period|"
                        r"week|weekday)\b|\bsince when\b|\buntil when\b|\bhow far back\b")
_WHAT_PLACE = re.compile(r"\b(?:what|which) (?:country|countries|city|cities|town|towns|state|states|region|regions|"
                         r"continent|island|islands|river|province|county|counties|village|place|places|location|"
                         r"area|areas|capital|nation|port|district|neighbourhood|neighborhood)\b")
_WHAT_PERSON = re.compile(r"\b(?:what|which) (?:person|people|man|woman|men|women|king|queen|president|leader|"
                          r"company|companies|organi[sz]ation|firm|team|party|band|group|scientist|author|"
                          r"writer|player|politician|minister|official|officials|emperor|pope)\b")


def defined_name(question: str) -> str | None:
    """The name a "Who is <name>?" / "What is <name>?" question asks about, else None."""
    m = _DEFINITION.match(" ".join(question.replace("\u2019", "'").split()))
    return m.group(1).strip() if m else None


def question_type(question: str) -> QuestionType:
    """The kind of answer ``question`` wants, from its wording alone."""
    q = " ".join(question.lower().replace("\u2019", "'").split())
    if defined_name(question):
        return QuestionType(EVIDENCE, Expects.ANY, "who/what is <name>")
    if _SUMMARY.search(q):
        return QuestionType(EVIDENCE, Expects.ANY, "summary")
    if _WHY.search(q):
        return QuestionType(EVIDENCE, Expects.ANY, "why")
    if not _WH.search(q) and _YES_NO.match(q):
        # "Is it A or B?" is answered by one of the alternatives, a span
        if re.search(r"\bor\b", q):
            return QuestionType(SPAN, Expects.ANY, "A or B")
        return QuestionType(EVIDENCE, Expects.ANY, "yes/no")
    # the specific "how ..." / "what <noun>" phrases first: they decide over the bare wh-word
    for pattern, expects in ((_HOW_QUANTITY, Expects.QUANTITY), (_HOW_NUMBER, Expects.NUMBER),
                             (_WHAT_QUANTITY, Expects.QUANTITY), (_WHAT_DATE, Expects.DATE),
                             (_WHAT_PLACE, Expects.PLACE), (_WHAT_PERSON, Expects.PERSON)):
        m = pattern.search(q)
        if m:
            return QuestionType(SPAN, expects, m.group(0))
    if _HOW_VERB.search(q):
        return QuestionType(EVIDENCE, Expects.ANY, "how + verb")
    m = _WH.search(q)
    wh = m.group(1) if m else ""
    if wh in ("who", "whom", "whose"):
        return QuestionType(SPAN, Expects.PERSON, wh)
    if wh == "when":
        return QuestionType(SPAN, Expects.DATE, wh)
    if wh == "where":
        return QuestionType(SPAN, Expects.PLACE, wh)
    return QuestionType(SPAN, Expects.ANY, wh)


# -------------------------------------------------------------------------------------------------
# what a span is

_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_NUMBER_WORDS = ("zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                 "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
                 "hundred|hundreds|thousand|thousands|million|millions|billion|billions|trillion|trillions|"
                 "dozen|dozens|score|scores|half|halves|third|thirds|quarter|quarters|fifth|fifths|tenth|tenths|"
                 "single|double|twice|triple|once|thrice|couple|pair")
_ORDINALS = ("first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|"
             "fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|twenty-first|"
             "twenty-second")
_TIME_UNITS = ("seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|nights?|weeks?|fortnights?|months?|years?|yrs?|"
               "decades?|century|centuries|millenni(?:um|a)|semesters?|terms?|seasons?|generations?")
_UNITS = ("metres?|meters?|kilometres?|kilometers?|centimetres?|centimeters?|millimetres?|millimeters?|km|cm|mm|m|"
          "[μµn]m|microns?|micrometres?|micrometers?|nanometres?|nanometers?|"
          "miles?|mi|feet|foot|ft|inch(?:es)?|yards?|yd|nautical miles?|light[- ]years?|"
          "acres?|hectares?|ha|sq(?:uare)? \\w+|km2|km²|m2|m²|cubic \\w+|litres?|liters?|ml|gallons?|barrels?|"
          "kilograms?|kg|grams?|g|tonnes?|tons?|pounds?|lbs?|ounces?|oz|stones?|carats?|"
          "mph|km/h|kph|knots?|m/s|degrees?|°[cf]?|celsius|fahrenheit|kelvin|"
          "per ?cent|percent|%|percentage points?|points?|"
          "watts?|kw|mw|gw|kwh|mwh|gwh|volts?|amps?|hertz|hz|khz|mhz|ghz|bytes?|kb|mb|gb|tb|bits?|calories|"
          "joules?|horsepower|hp|storeys?|stories|floors?|laps?|"
          f"{_TIME_UNITS}|years? old|years? of age")
_CURRENCY_WORDS = ("dollars?|euros?|pounds?(?: sterling)?|yen|yuan|renminbi|francs?|marks?|rupees?|roubles?|rubles?|"
                   "pesos?|cents?|pence|p|shillings?|guineas?|crowns?|kronor|krona|bolivars?|lira|dinars?")
_NUM = (rf"(?:\d[\d,.]*(?:\s?(?:m|bn|k|million|billion|trillion|thousand))?|(?:a|an|one)\b|"
        rf"(?:{_NUMBER_WORDS})\b(?:-\w+)?)")

_HAS_DIGIT = re.compile(r"\d")
_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I)
_MONEY = re.compile(rf"[$£€¥]|\b(?:us|a|c|hk|nz)\$|\b\d[\d,.]*\s?(?:m|bn|million|billion|trillion)?\s?"
                    rf"(?:{_CURRENCY_WORDS})\b|\b(?:{_NUMBER_WORDS})\s(?:{_CURRENCY_WORDS})\b", re.I)
_QUANTITY = re.compile(rf"{_NUM}(?:\s|-)?(?:\w+\s)?(?:{_UNITS})(?![\w])", re.I)
_DURATION_WORDS = re.compile(rf"\b(?:several|many|few|some|two|a|an|one|more than a|over a|nearly a|almost a)\s"
                             rf"(?:{_TIME_UNITS})\b|\b(?:decades|centuries|years|months|weeks|days|hours|minutes|seconds|millennia)\b",
                             re.I)
_DATE = re.compile(
    rf"\b(?:{MONTH_PATTERN})\b\.?|\b(?:{_WEEKDAYS})s?\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s(?:of\s)?(?:{MONTH_PATTERN})\b"
    rf"|\b(?:1\d{{3}}|20\d{{2}})s?\b(?!\s?(?:{_UNITS}|{_CURRENCY_WORDS})\b)|'\d0s\b"
    rf"|\b(?:(?:mid|early|late)[\s-])?(?:twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties)\b"
    rf"|\b(?:\d{{1,2}}(?:st|nd|rd|th)|{_ORDINALS})(?:[\s-]and[\s-](?:\d{{1,2}}(?:st|nd|rd|th)|{_ORDINALS}))?"
    rf"[\s-]centur(?:y|ies)\b|\b\d+\s?(?-i:BC|AD|BCE|CE|B\.C\.|A\.D\.)(?=\W|$)|\b(?-i:AD|A\.D\.)\s?\d+"
    rf"|\b(?:today|yesterday|tomorrow|tonight|ago|recently|currently|now|nowadays|formerly|annually|weekly|daily)\b"
    rf"|\b(?:last|next|this|that|previous|following|same|early|late|mid)[\s-](?:week|month|year|weekend|night|morning|"
    rf"evening|afternoon|day|decade|century|spring|summer|autumn|fall|winter|season)\b"
    rf"|\b(?:spring|summer|autumn|winter) (?:of )?\d{{4}}\b|\b\d{{1,2}}[:.]\d{{2}}\b"
    rf"|\b\d{{1,2}}\s?(?:am|pm|a\.m\.|p\.m\.)"
    rf"|\b(?:noon|midnight|o'clock|dawn|dusk)\b|\b(?:middle ages|renaissance|antiquity|prehistory|"
    rf"(?:world war|cold war|bronze age|iron age|stone age|industrial revolution))\b",
    re.I)
_SUM = re.compile(rf"(?:[$£€¥]|\b(?:us|a|c|hk|nz)\$)\s?\d[\d,.]*(?:\s?(?:m|bn|k|million|billion|trillion)\b)?"
                  rf"|\b\d[\d,.]*\s?(?:m|bn|million|billion|trillion)?\s?(?:{_CURRENCY_WORDS})\b", re.I)
_BARE_SMALL_NUMBER = re.compile(r"(?:aged?\s)?\d{1,3}")
#: date questions that ask for a day of the calendar, and the days a span may name without a date in it
_CALENDAR_CUES = frozenset({"what date", "which date", "what day", "which day", "what month", "which month"})
_NAMED_DAY = re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)\b|\b(?:{_ORDINALS})\b|"
                        r"\b(?:day|eve|christmas|easter|new year|hanukk?ah|ramadan|eid|diwali|thanksgiving|passover|"
                        r"halloween|valentine|holiday|festival|feast)\b", re.I)
#: what a question asks about when a sum of money can measure it ("how big was the deal?")
_MONEY_QUESTION = re.compile(
    r"\b(?:deals?|loss(?:es)?|profits?|budgets?|deficits?|debts?|fines?|bills?|markets?|econom(?:y|ies)|funds?|"
    r"funding|stakes?|bids?|offers?|payouts?|payments?|bonus(?:es)?|salar(?:y|ies)|pay|wages?|prices?|costs?|"
    r"revenues?|sales|turnover|spending|investments?|subsid(?:y|ies)|tax(?:es)?|bail-?outs?|takeovers?|"
    r"mergers?|contracts?|settlements?|damages|awards?|prizes?|grants?|loans?|value|valuation|fees?|"
    r"transfers?|income|earnings|dividends?|shares?|assets?|savings|cash|money|fortune|wealth|worth|"
    r"rise|increase|fall|drop|cut|jackpot|compensation|pension|rent|tariffs?|aid)\b", re.I)
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b")
_TEMPORAL_LEAD = re.compile(r"^(?:during|after|before|since|until|till|into|in|on|at|by|from|around|about|circa|c\.)\b",
                            re.I)

#: words that name a role or a title, not who holds it: a span made of these alone is not a "who" answer
TITLE_WORDS = frozenset("""
president vice-president vice prime minister ministers secretary chancellor premier king queen prince princess emperor
empress tsar czar sultan emir sheikh shah pharaoh duke duchess earl count countess baron lord lady sir dame pope bishop
archbishop cardinal priest pastor rabbi imam general admiral colonel major captain lieutenant sergeant commander
commandant marshal officer officers chief chiefs head heads chairman chairwoman chairperson chair ceo cfo coo founder
director directors manager managers coach governor governors mayor senator senators congressman congresswoman
representative representatives ambassador ambassadors envoy envoys consul diplomat spokesman spokeswoman spokesperson
leader leaders official officials judge judges justice justices attorney prosecutor lawyer mp mps mep mr mrs ms miss
dr doctor professor dean president-elect deputy acting former interim foreign defence defense finance interior health
home state federal national regional local general-secretary secretary-general minister-president first supreme
executive senior junior chief-executive owner owners member members spokesmen king-emperor monarch ruler rulers
sovereign regent viceroy commissioner inspector superintendent sheriff constable detective agent
""".split())
_FILLER = frozenset("the a an his her its their our my your then this that of to for by with from as".split())
_FUNCTION_CAPS = frozenset("the a an in on at of by for from to with and or but as this that these those it its "
                           "he she they we his her their after before during since until about".split())
_PLACE_NOUNS = re.compile(r"\b(?:city|town|village|country|state|province|county|region|district|island|islands|"
                          r"river|lake|sea|ocean|mountain|mountains|valley|coast|border|capital|continent|peninsula|"
                          r"north|south|east|west|northern|southern|eastern|western|central|street|road|square|"
                          r"building|hall|palace|castle|church|cathedral|abbey|stadium|airport|port|harbour|"
                          r"harbor|bay|gulf|desert|forest|park|campus|headquarters|embassy|parliament|area|"
                          r"abroad|overseas|home|here|there|everywhere|nearby|inland)\b", re.I)
_WORD = re.compile(r"[^\W_]+(?:['\u2019.\-][^\W_]+)*\.?")


def words(text: str) -> list[str]:
    """The words of ``text`` (letters and digits, with inner apostrophes, dots and hyphens)."""
    return _WORD.findall(text)


def _key(word: str) -> str:
    w = word.lower().replace("\u2019", "'").rstrip(".")
    if w.endswith("'s"):
        w = w[:-2]
    return w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w


_QUESTION_STOP = frozenset("the a an of in on at to for from by with and or is are was were be been do does did what "
                           "which who whom whose when where why how that this these those it its as into about "
                           "than there their they he she his her him has have had not".split())


def repeats_question(span: str, question: str) -> bool:
    """True when every content word of ``span`` is already in ``question``: such a span restates the
    question ("Maduro" for "Who is Maduro?") instead of answering it. Not for a question that offers
    alternatives ("A or B?"), whose answer is one of its own words."""
    if re.search(r"\bor\b", question, re.I):
        return False
    span_words = {_key(w) for w in words(span)} - _QUESTION_STOP
    if not span_words:
        return False
    return span_words <= {_key(w) for w in words(question)}


def is_bare_title(span: str) -> bool:
    """A role or a title without its holder ("President", "the prime minister", "Foreign Minister")."""
    ws = [w.lower().rstrip(".") for w in words(span)]
    return bool(ws) and any(w in TITLE_WORDS for w in ws) and all(w in TITLE_WORDS or w in _FILLER for w in ws)


def describes(name: str, sentence: str) -> bool:
    """Whether ``sentence`` says what ``name`` is: the name (or its last word, "Maduro" for "Nicolas
    Maduro") with a title or a role just before it ("President Nicolas Maduro", "opposition leader
    Juan Guaido"), an apposition after it ("Guaido, the head of the National Assembly,") or a copula
    ("NATO is a military alliance"). A sentence that only mentions the name does not answer "Who is
    <name>?"."""
    for form in _name_forms(name):
        for m in _name_pattern(form).finditer(sentence):
            before = words(sentence[: m.start()])
            while before and before[-1][:1].isupper() and before[-1].lower().rstrip(".") not in TITLE_WORDS:
                before.pop()  # the rest of the name ("Nicolas" before "Maduro")
            after = sentence[m.end():]
            prev = before[-1] if before else ""
            if prev.lower().rstrip(".") in _ROLE_WORDS:
                return True
            if re.match(r"\s*(?:,|\(|\u2014|-{1,2}\s)\s*(?:the|a|an|who|which|whose|one of|[a-z]+ of)\b", after):
                return True
            if re.match(r"\s+(?:is|was|are|were|has been|had been|became|becomes|remains|serves as|served as)\s+"
                        r"(?:the|a|an|one|now|still|also|currently)\b", after):
                return True
    return False


def mentions(name: str, sentence: str) -> bool:
    """Whether ``sentence`` names ``name``, whole or by its last word ("Maduro" for "Nicolas Maduro"), or,
    for a possessive ("Guy's Rival"), names its owner."""
    owner = re.match(r"(.+?)['\u2019]s?\s", name)
    forms = [*_name_forms(name), *(_name_forms(owner.group(1)) if owner else [])]
    return any(_name_pattern(form).search(sentence) for form in forms)


def _name_forms(name: str) -> list[str]:
    """The name and its last word (when longer than two letters), longest first."""
    forms = {name.strip()}
    last = name.split()[-1] if name.split() else ""
    if len(last) > 2:
        forms.add(last)
    return sorted(forms, key=len, reverse=True)


def _name_pattern(form: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(form)}(?![\w-])")


def unnamed_message(name: str) -> str:
    """What to tell a person when no sentence the reader found a span in names ``name``."""
    return f"The articles do not contain an answer to this question: the closest passages do not mention {name}."


#: words that say what a person or body is when they stand just before its name (titles, roles,
#: relations); honorifics ("Mr", "Dr") say nothing about who someone is
HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "sir", "dame", "dr", "former", "acting", "first"})
_ROLE_WORDS = (TITLE_WORDS - HONORIFICS) | frozenset("""
boss delegate negotiator mediator adviser advisor aide star striker midfielder defender goalkeeper player captain
champion rival winner singer actor actress director author writer novelist poet artist musician rapper presenter host
journalist reporter editor economist analyst scientist researcher campaigner activist candidate challenger opponent
ally partner wife husband son daughter brother sister father mother widow colleague founder chairman investor
billionaire businessman businesswoman entrepreneur company firm group bank agency party band club team
""".split())


def has_proper_name(span: str) -> bool:
    """Holds a capitalised word that is not a title, a month, a weekday or a function word."""
    for w in words(span):
        low = w.lower().rstrip(".")
        if not w[0].isupper() or low in TITLE_WORDS or low in _FUNCTION_CAPS:
            continue
        if re.fullmatch(rf"(?:{MONTH_PATTERN}|{_WEEKDAYS})", low):
            continue
        return True
    return False


def is_date(span: str) -> bool:
    return _DATE.search(span) is not None


def is_quantity(span: str) -> bool:
    """A number with a unit (length, mass, money, percent, duration ...) or a stretch of time."""
    return bool(_QUANTITY.search(span) or _MONEY.search(span) or _DURATION_WORDS.search(span))


def is_money_only(span: str) -> bool:
    """An amount of money and no other measure ("$599", "£1.1bn"; not "$5 a barrel over 10 years")."""
    if not _MONEY.search(span):
        return False
    rest = _SUM.sub(" ", span)  # "$40m" is forty million dollars, not forty metres
    return not (_QUANTITY.search(rest) or _DURATION_WORDS.search(rest))


def has_number(span: str) -> bool:
    return _NUMBER.search(span) is not None


@dataclass(frozen=True)
class SpanShape:
    """What the patterns see in a span."""

    date: bool
    quantity: bool
    number: bool
    proper: bool
    bare_title: bool

    @classmethod
    def of(cls, span: str) -> SpanShape:
        return cls(date=is_date(span), quantity=is_quantity(span), number=has_number(span),
                   proper=has_proper_name(span), bare_title=is_bare_title(span))


class Agreement(int, Enum):
    """Whether a span is of the type its question asks for."""

    MISMATCH = -1
    UNKNOWN = 0
    MATCH = 1


def agreement(qt: QuestionType, span: str, question: str = "") -> Agreement:
    """Is ``span`` of the type ``qt`` asks for? A span that only restates ``question`` never is."""
    if question and repeats_question(span, question):
        return Agreement.MISMATCH
    if not qt.typed:
        return Agreement.UNKNOWN
    s = SpanShape.of(span)
    e = qt.expects
    if e is Expects.QUANTITY:
        if s.quantity and is_money_only(span) and not _MONEY_QUESTION.search(question):
            # "$599" for "how big is the hard drive": a price measures no size, length or time; only a
            # question about money itself ("how big was the loss?") is answered by one
            return Agreement.MISMATCH
        if s.quantity:
            return Agreement.MATCH
        if qt.cue.endswith("old") and s.number and not s.date:  # an age is often a bare number
            return Agreement.MATCH
        if s.date and (_TEMPORAL_LEAD.search(span) or _CLOCK.search(span)):  # "since the 1960s", "3:08"
            return Agreement.UNKNOWN
        if s.date or s.bare_title or not s.number:
            return Agreement.MISMATCH
        return Agreement.UNKNOWN
    if e is Expects.NUMBER:
        if s.number and not (s.date and not s.quantity and _HAS_DIGIT.search(span) is None):
            return Agreement.MATCH
        if s.bare_title or (s.proper and not s.number):
            return Agreement.MISMATCH
        vague = re.search(r"\b(?:most|all|none|some|few|several|many|much|little|majority|"
                          r"minority|half|every|no|free|\w+fold)\b", span, re.I)
        return Agreement.UNKNOWN if vague else Agreement.MISMATCH
    if e is Expects.DATE:
        if s.date:
            return Agreement.MATCH
        if _BARE_SMALL_NUMBER.fullmatch(span.strip()):  # "94" (an age, a count) is no date
            return Agreement.MISMATCH
        if s.bare_title or (s.quantity and not _DURATION_WORDS.search(span)):
            return Agreement.MISMATCH
        if "century" in qt.cue and re.search(rf"\b(?:{_ORDINALS})\b", span, re.I):
            return Agreement.MATCH
        if qt.cue in ("what year", "which year", "what years", "what decade", "which decade", "what century",
                      "which century") and not s.number:
            return Agreement.MISMATCH
        if qt.cue in _CALENDAR_CUES and not _NAMED_DAY.search(span):
            # "Bath aged 94" for "On what date did she die?": a date question of this wording wants the
            # calendar; "when" is left open, as it is often answered by an event ("after the war")
            return Agreement.MISMATCH
        return Agreement.UNKNOWN
    if e is Expects.PERSON:
        if s.bare_title or s.date or (s.quantity and not s.proper) or (s.number and not s.proper and
                                                                      _HAS_DIGIT.search(span)):
            return Agreement.MISMATCH
        return Agreement.MATCH if s.proper else Agreement.UNKNOWN
    if e is Expects.PLACE:
        if s.bare_title or (s.date and not s.proper) or (s.quantity and not s.proper):
            return Agreement.MISMATCH
        return Agreement.MATCH if s.proper or _PLACE_NOUNS.search(span) else Agreement.UNKNOWN
    return Agreement.UNKNOWN


_WHAT = {Expects.QUANTITY: "a quantity with a unit or a length of time", Expects.NUMBER: "a number or an amount",
         Expects.DATE: "a date or a time", Expects.PERSON: "a person or an organisation", Expects.PLACE: "a place"}


def wrong_type_message(qt: QuestionType) -> str:
    """What to tell a person when no span of the asked-for type was found."""
    what = _WHAT.get(qt.expects, "an answer of the kind asked for")
    return f"The articles do not contain an answer to this question: the question asks for {what}, " \
           "and the closest passages hold none."
