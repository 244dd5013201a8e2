"""Elliptical follow-ups ("Why?", "When did it happen?", "What about X?", "and in 2019?") rebuilt
from the previous question (see :mod:`qa.conversation`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.conversation.turns import (
    Turn,
    answer_head,
    coordinations,
    is_modifier,
    name_kind,
    np_after_the,
    question_shape,
    wh_word,
    written_name,
)
from qa.entities import find_entities
from qa.vocabulary import Vocabulary
from qa.words import (
    ADVERBIAL_WH,
    AUX,
    COMMON_STARTERS,
    DETERMINERS,
    FUNCTION_WORDS,
    IMPERATIVES,
    IRREGULAR,
    NOT_QUESTIONS,
    PERSON_ROLES,
    PREPOSITIONS,
    PRONOUNS,
    TIME_WORDS,
    WH_WORDS,
    YEAR,
    base_form,
    is_acronym,
    is_capitalised,
    plural_noun,
    tokens,
)

_ELLIPSIS_LEAD = re.compile(r"^(?:and|but|so|also|ok(?:ay)?|then)\s*,?\s+|^(?:and\s+)?(?:what|how)\s+about\s+|"
                            r"^(?:and\s+)?what\s+of\s+", re.IGNORECASE)
WHAT_ABOUT = re.compile(r"^(?:and\s+)?(?:what|how)\s+about\s+|^(?:and\s+)?what\s+of\s+", re.IGNORECASE)


def _has_verb_like(words: list[str]) -> bool:
    return any(w.lower() in AUX or w.lower().endswith(("ed", "ing")) for w in words[1:]) or \
        (bool(words) and words[0].lower() in AUX)


def elliptical_fragment(question: str) -> str | None:
    """The fragment of an elliptical follow-up ("and in 2019?" -> "in 2019"), or ``None``."""
    q = question.strip().rstrip("?!. ").strip()
    if not q:
        return None
    lead = _ELLIPSIS_LEAD.match(q)
    if lead:
        rest = q[lead.end():].strip()
        if rest and (rest.split()[0].lower() in AUX | IMPERATIVES or (wh_word(rest) and len(rest.split()) > 1)):
            return None  # "and did he ...", "and where did he go" are full questions
        return rest or None
    words = q.split()
    first = words[0].lower()
    if q.lower() in NOT_QUESTIONS or first in IMPERATIVES:
        return None
    if wh_word(q) and len(words) == 1:
        return q
    if len(words) <= 4 and not wh_word(q) and not _has_verb_like(words) and (
            first in PREPOSITIONS or YEAR.search(q) or is_capitalised(words[0]) and first not in COMMON_STARTERS):
        return q
    return None


def _is_time_phrase(words: Sequence[str]) -> bool:
    return any(YEAR.fullmatch(w) or w.lower() in TIME_WORDS for w in words)


def _phrase_spans(base: str) -> list[tuple[int, int, str, bool]]:
    """Prepositional and time phrases of ``base``: ``(start, end, preposition, is_time)``. A phrase ends
    after a name, a year, a time word, or before punctuation / another preposition / a verb-like word."""
    toks = tokens(base)
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
                if words and (YEAR.fullmatch(words[-1]) or words[-1].lower() in TIME_WORDS) and lw not in \
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
        elif YEAR.fullmatch(tok):
            out.append((s, toks[k][2], "", True))
            k += 1
        else:
            k += 1
    return out


def _lower_first(text: str) -> str:
    words = text.split(maxsplit=1)
    if words and (words[0].lower() in COMMON_STARTERS or words[0].lower() in AUX) and not is_acronym(words[0]):
        return text[0].lower() + text[1:]
    return text


def _gap_after_verb(rest: list[str]) -> int | None:
    """Where the object of the verb goes in ``rest`` (an auxiliary, a subject, a verb ...): after the
    verb, when the verb is followed by a preposition or nothing ("did the party repay | to Lord Ashcroft")."""
    i = 1
    if i < len(rest) and rest[i].lower() in DETERMINERS:
        i += 1
    named = i
    while i < len(rest) and is_capitalised(rest[i]):
        i += 1
    if i == named and i < len(rest) and rest[i].islower() and rest[i - 1].lower() in DETERMINERS:
        i += 1  # "the party"
    elif i > named and named > 1 and i + 1 < len(rest) and rest[i].islower() and rest[i + 1].islower() and \
            rest[i] not in FUNCTION_WORDS and rest[i + 1] not in FUNCTION_WORDS:
        i += 1  # "the Cardiff gig | raise"
    if i >= len(rest) or i == 1 or not rest[i].islower() or rest[i] in FUNCTION_WORDS:
        return None
    if i + 1 == len(rest) or rest[i + 1].lower() in FUNCTION_WORDS:
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
    head = answer_head(text)
    if len(head.split()) > 6:
        return None
    ents = [e for e in find_entities(head, vocab.lower) if not is_modifier(e) and not e.office]
    if not ents:
        return None
    all_ents = [e for e in find_entities(text, vocab.lower) if not is_modifier(e) and not e.office]
    for cand, members in coordinations(text, all_ents, [name_kind(e, vocab) for e in all_ents]):
        if any(all_ents[m].start == ents[-1].start for m in members):
            return cand.text  # "Pixies, Foo Fighters and Iron Maiden"
    np = np_after_the(head, ents[-1], question=False)
    if np and plural_noun(np.split()[-1]):
        return np
    return written_name(ents[-1])


def rebuild_wh(new_wh: str, prev: Turn, vocab: Vocabulary) -> str | None:
    """The previous question asked with ``new_wh`` (why, when, where, how) instead, or ``None`` when it
    cannot be done grammatically."""
    shape = question_shape(prev.understood_question)
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
            if body[0].islower() and body[0] not in FUNCTION_WORDS and body[0] not in PRONOUNS:
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
                filler = f"{'those' if plural_noun(shape.noun) else 'that'} {shape.noun}"
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
                all(is_capitalised(w) or w.lower() in DETERMINERS for w in body):
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
        lemma = base_form(verb, vocab.lower)
        aux = "did" if verb.endswith("ed") or verb.lower() in IRREGULAR else "does" if verb.endswith("s") else "did"
        return f"{new} {aux} {subject} {lemma} {' '.join(words[shape.body + 1:])}".rstrip() + "?"
    return None


def _head_noun_swap(base: str, fragment: str) -> str | None:
    """"What about the Bristol show?" after "... from the Glasgow show?": the phrase with the same head
    noun (or the same kind of role: "the chairman" for "the president") is replaced."""
    frag_words = fragment.split()
    head = frag_words[-1].lower()
    toks = tokens(base)
    for k, (tok, _s, e) in enumerate(toks):
        low = tok.lower()
        if low == head or (head in PERSON_ROLES and low in PERSON_ROLES and len(frag_words) <= 2):
            # the phrase: back to its determiner
            b = k
            while b > 0 and (toks[b - 1][0].lower() in DETERMINERS or is_capitalised(toks[b - 1][0])) and \
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
        new_kind = name_kind(new, vocab)[0]
        chosen = next((e for e in ents if name_kind(e, vocab)[0] == new_kind and new_kind != "unknown"), ents[0])
        start = chosen.start
        if chosen.the and base[:start].lower().endswith("the "):
            start -= 4
        end = chosen.end
        np = np_after_the(base, chosen, question=True) if is_modifier(chosen) else None
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
        return (f"What about {fragment}, regarding {written_name(ents[0])}?",
                f"Read as a question about {fragment} in the context of {written_name(ents[0])}.")
    return None, f"Asked as typed: could not tell what '{fragment}' takes the place of in the previous question."


def combine(prev: Turn, fragment: str, vocab: Vocabulary, what_about: bool) -> tuple[str | None, str | None]:
    """``(rewrite, note)`` for an elliptical follow-up; ``(None, note)`` when it cannot be rebuilt."""
    base = prev.understood_question.strip().rstrip("?!. ").strip()
    frag_words = fragment.split()
    first = frag_words[0].lower()
    if len(frag_words) == 1 and first in WH_WORDS:
        if first not in ADVERBIAL_WH:
            return None, f"Asked as typed: could not tell what '{fragment}?' asks about."
        rebuilt = rebuild_wh(first, prev, vocab)
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
    year_new, year_old = YEAR.search(fragment), YEAR.search(base)
    if year_new and year_old and len(frag_words) == 1:
        return f"{base[:year_old.start()]}{year_new.group()}{base[year_old.end():]}?", None
    if year_new and len(frag_words) == 1:
        times = [sp for sp in spans if sp[3]]
        if times:
            s, e = times[-1][0], times[-1][1]
            return f"{base[:s]}in {fragment}{base[e:]}?", None
        return f"{base} in {fragment}?", None
    if is_capitalised(fragment) and first not in COMMON_STARTERS:
        return _what_about(base, fragment, vocab)
    return None, None
