"""A follow-up question rewritten into a standalone one: :func:`resolve` (with the note saying what
was in doubt) and its short form :func:`rewrite`; ellipsis first (:mod:`~qa.conversation.ellipsis`), then
pronouns (:mod:`~qa.conversation.pronouns`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from qa.conversation.ellipsis import WHAT_ABOUT, combine, elliptical_fragment, rebuild_wh
from qa.conversation.pronouns import ask_note, candidates, fits, is_subject, order_candidates, same_verb
from qa.conversation.turns import Candidate, Rewrite, Turn, asked_type
from qa.entities import find_entities
from qa.vocabulary import EMPTY_VOCABULARY, Vocabulary
from qa.words import (
    AUX,
    COMMON_STARTERS,
    DO_FORMS,
    EVENT_VERBS,
    FEMALE_PRONOUNS,
    MOTION,
    NEUTER,
    PERSONAL,
    PLURAL,
    POSSESSIVE,
    PREPOSITIONS,
    PRONOUNS,
    PROPOSITIONAL,
    SENTENCE_END,
    tokens,
)

_DUMMY_IT = re.compile(r"\b(?:it\s+(?:is|was|'s|seems|seemed|appears)\s+\w+\s+(?:that|to|whether|if)|"
                       r"(?:is|was)\s+it\s+(?:true|possible|likely|clear|known|the case)|it\s+(?:rains|rained))\b",
                       re.IGNORECASE)


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
    fragment = elliptical_fragment(question)
    if fragment is not None:
        combined, note = combine(previous, fragment, vocab, bool(WHAT_ABOUT.match(question.strip())))
        if combined and combined.strip("? ") and combined != question:
            return Rewrite(combined, None, note)
        if note:
            return Rewrite(question, None, note)
    toks = tokens(question)
    lows = [t[0].lower() for t in toks]
    if not any(w in PRONOUNS for w in lows):
        return Rewrite(question)
    # "When did it happen?" is "When?" about the previous question
    m = re.fullmatch(r"\s*(why|when|where|how)\s+(?:did|does|do|will|would|could|can)\s+(?:it|that|this)\s+(\w+)"
                     r"\s*\??\s*", question, re.IGNORECASE)
    if m and m.group(2).lower() in EVENT_VERBS:
        rebuilt = rebuild_wh(m.group(1).lower(), previous, vocab)
        if rebuilt:
            return Rewrite(rebuilt)
        return Rewrite(question, None, "Asked as typed: could not tell what 'it' is.")
    skip: set[int] = set()
    if _DUMMY_IT.search(question):
        skip |= {k for k, w in enumerate(lows) if w == "it"}
    own = find_entities(question, vocab.lower)
    own_names = {e.text.lower() for e in own}
    q_cands, a_cands, shape = candidates(previous, vocab)
    shared = same_verb(shape, lows)
    out: list[str] = []
    cursor = 0
    resolved: list[tuple[str, str]] = []
    notes: list[str] = []
    used: dict[str, str] = {}        # pronoun class -> name, so a repeated pronoun is replaced once
    taken: set[str] = set()
    for k, (_tok, s, e) in enumerate(toks):
        low = lows[k]
        if low not in PRONOUNS or k in skip:
            continue
        prev_tok = lows[k - 1] if k else ""
        next_tok = lows[k + 1] if k + 1 < len(toks) else ""
        if low == "there" and (next_tok in AUX or prev_tok in AUX and prev_tok not in DO_FORMS):
            # "is there", "there are": no place, unless "How many workers are there?" asks about one
            if not (next_tok in ("?", "") and prev_tok in AUX and (shape.wh == "where" or
                                                                     asked_type(shape) == "place")):
                continue
            place = next((c for c in order_candidates("there", False, False, q_cands, a_cands, shape)
                          if fits("there", c)), None)
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
        order = order_candidates(low, is_subject(toks, k), shared, q_cands, a_cands, shape)
        fitting = [c for c in order if fits(low, c) and c.text.lower().removeprefix("the ") not in own_names
                   and not any(c.text in t or t in c.text for t in taken)]
        chosen = fitting[0] if fitting else None
        if chosen is None and low in PLURAL:
            persons = [c for c in order if c.kind == "person" and c.text.lower() not in own_names]
            if len(persons) == 2:  # "Who did Kennedy meet?" (Blair) -> "What did they discuss?"
                chosen = Candidate(f"{persons[0].text} and {persons[1].text}", "people")
        if chosen is None:
            return Rewrite(question, None, ask_note(low))
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
        if k == 0 or (k > 0 and toks[k - 1][0] in SENTENCE_END):
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
