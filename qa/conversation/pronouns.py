"""Which name of the previous turn a pronoun of a follow-up stands for: the candidates in the order of
what the previous turn was about, filtered by what each pronoun can stand for (see :mod:`qa.conversation`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.conversation.turns import (
    Candidate,
    Shape,
    Turn,
    answer_head,
    asked_type,
    coordinations,
    is_modifier,
    name_kind,
    np_after_the,
    question_shape,
    written_name,
)
from qa.entities import find_entities
from qa.vocabulary import Vocabulary
from qa.words import (
    AUX,
    CONNECTORS,
    FEMALE_PRONOUNS,
    FUNCTION_WORDS,
    IRREGULAR,
    NEUTER,
    PERSONAL,
    PLURAL,
    POSSESSIVE_END,
    PREPOSITIONS,
    TIME_WORDS,
    WH_WORDS,
    is_capitalised,
    lemma_candidates,
    plural_noun,
)


def _topic_phrase(shape: Shape) -> tuple[str, bool] | None:
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
        if any(is_capitalised(w) for w in phrase[1:]):
            return None
        head = next((phrase[k - 1] for k in range(1, len(phrase)) if phrase[k].lower() in PREPOSITIONS), phrase[-1])
        return " ".join(phrase), plural_noun(head)
    if shape.subject_wh and shape.body + 1 < len(words) and words[shape.body + 1].lower() == "the":
        span = words[shape.body + 1:]
        cut = next((k for k, w in enumerate(span) if k > 1 and (w.lower() in TIME_WORDS or w.lower() in
                                                                ("last", "this", "next", "yesterday"))), len(span))
        span = span[:cut]
        if len(span) < 2 or any(is_capitalised(w) for w in span[1:]):
            return None
        head = next((span[k - 1] for k in range(1, len(span)) if span[k].lower() in PREPOSITIONS), span[-1])
        return " ".join(span), plural_noun(head)
    return None


def _about_named(shape: Shape) -> bool:
    """"Who is Juan Guaido?": a question about the name it holds (its answer describes that name)."""
    w = shape.words
    return (shape.wh in ("who", "whom") and len(w) >= 3 and w[1].lower() in ("is", "was", "are", "were")
            and all(is_capitalised(x) or x.lower() in CONNECTORS for x in w[2:])
            and not POSSESSIVE_END.search(w[-1]) and not any(POSSESSIVE_END.search(x) and "'" in x for x in w[2:]))


def candidates(prev: Turn, vocab: Vocabulary) -> tuple[list[Candidate], list[Candidate], Shape]:
    """What the previous turn offers: ``(from the question, from the answer, the question's shape)``."""
    common = vocab.lower
    q = prev.understood_question
    shape = question_shape(q)
    q_cands: list[Candidate] = []
    about = _about_named(shape)
    for e in find_entities(q, common):
        if e.office:
            continue  # "the Home Secretary": the answer names who holds it
        kind, gender, sure = name_kind(e, vocab, "person" if about else None)
        np = np_after_the(q, e, question=True)
        if np and kind != "person":
            # a name used as a modifier: the phrase is what "it"/"they" stand for
            plural = plural_noun(np.split()[-1])
            q_cands.append(Candidate(np, "things" if plural else "thing", None, False, "question"))
            continue
        if is_modifier(e):
            continue
        q_cands.append(Candidate(written_name(e), kind, gender, sure, "question", "", e.place))
    topic = _topic_phrase(shape)
    if topic:
        q_cands.append(Candidate(topic[0], "things" if topic[1] else "thing", None, False, "question", "topic"))

    a_cands: list[Candidate] = []
    a = prev.answer
    if not a.text:
        return q_cands, a_cands, shape
    answer_type = asked_type(shape)
    text = a.text
    head = answer_head(text)
    q_names = {c.text.lower().removeprefix("the ") for c in q_cands}
    a_ents = [e for e in find_entities(text, common) if e.text.lower() not in q_names and not e.office]
    head_ents = [k for k, e in enumerate(a_ents) if e.end <= len(head) + 1 and not is_modifier(e)]
    head_k = head_ents[-1] if head_ents else None
    kinds = [name_kind(e, vocab, answer_type if k == head_k else None) for k, e in enumerate(a_ents)]
    if head_k is not None and answer_type in ("person", "org") and kinds[head_k][0] == "place":
        kinds[head_k] = ("org", None, False)  # "Who imposed sanctions? The United States": a government acting
    lists = coordinations(text, a_ents, kinds)
    head_cand: Candidate | None = None
    for cand, members in lists:
        if head_k is not None and head_k in members or (head_ents and head_ents[0] in members):
            head_cand = Candidate(cand.text, cand.kind, None, False, "answer", "head")
        else:
            a_cands.append(cand)
    for k, (e, (kind, gender, sure)) in enumerate(zip(a_ents, kinds, strict=True)):
        if is_modifier(e):
            continue
        np = np_after_the(text, e, question=False)
        if np and plural_noun(np.split()[-1]):
            # "the Barclay twins": the phrase names a group
            people = answer_type == "person" or kind == "person"
            cand = Candidate(np, "people" if people else "things", None, False, "answer",
                             "head" if k in head_ents and head_cand is None else "")
        else:
            cand = Candidate(written_name(e), kind, gender, sure, "answer", "head" if k == head_k else "", e.place)
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
            if e.text.lower() not in known and not is_modifier(e):
                kind, gender, sure = name_kind(e, vocab)
                a_cands.append(Candidate(written_name(e), kind, gender, sure, "answer", "context"))
    return q_cands, a_cands, shape


def fits(pronoun: str, c: Candidate) -> bool:
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


def same_verb(shape: Shape, f_words: Sequence[str]) -> bool:
    """Whether the follow-up repeats the verb of a wh-subject question ("Who created AZT?" -> "... create")."""
    if not shape.subject_wh or shape.body >= len(shape.words):
        return False
    verb = shape.words[shape.body]
    if not verb.islower() or verb in FUNCTION_WORDS:
        return False
    forms = {verb, *lemma_candidates(verb)}
    return any(forms & {w, *lemma_candidates(w)} for w in f_words if w.islower() and w not in FUNCTION_WORDS)


def order_candidates(pronoun: str, subject: bool, shared_verb: bool, q_cands: list[Candidate], a_cands: list[Candidate],
           shape: Shape) -> list[Candidate]:
    """Candidates for ``pronoun``, most likely first."""
    answer_type = asked_type(shape)
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


def is_subject(toks: list[tuple[str, int, int]], k: int) -> bool:
    """Whether the pronoun at token ``k`` is a subject: first, or right after an auxiliary / wh-word."""
    if k == 0:
        return True
    prev = toks[k - 1][0].lower()
    return prev in AUX or prev in WH_WORDS or prev in (",", "and", "but")


def ask_note(pronoun: str) -> str:
    what = {"there": "where 'there' is"}.get(pronoun)
    if what is None:
        if pronoun in PERSONAL:
            what = f"who '{pronoun}' is"
        elif pronoun in PLURAL:
            what = f"who '{pronoun}' are"
        else:
            what = f"what '{pronoun}' is"
    return f"Asked as typed: could not tell {what}."
