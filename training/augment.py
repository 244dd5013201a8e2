"""Synthetic news questions for training the span reader (news-domain augmentation).

SQuAD is Wikipedia; the product reads news, where many questions ask *who holds a role* ("Who is the
finance minister?") or *what someone is* ("Who is James Baker?"). Two patterns that news writing uses
all the time give such questions with exact answers, without any NER model:

* a title before a name: ``Treasury Secretary James Baker`` -> "Who is the Treasury Secretary?" ->
  ``James Baker``, and "Who is James Baker?" -> ``Treasury Secretary``;
* an appositive after a name: ``John Smith, the chairman of Texaco,`` -> "Who is the chairman of
  Texaco?" -> ``John Smith``, and "Who is John Smith?" -> ``the chairman of Texaco``.

Two kinds of unanswerable questions teach the reader to refuse on news text too:

* *other article*: the question over a passage of another article that holds neither the answer nor
  the name (easy: little of the question is there);
* *answer deleted*: the question over its own passage with the answer taken out of the fact —
  ``Treasury Secretary James Baker said`` becomes ``Treasury Secretary said`` for "Who is the Treasury
  Secretary?", and ``James Baker said`` for "Who is James Baker?". The question's words stay in the
  passage, next to other people's names and titles, as in SQuAD 2.0's unanswerable questions, so the
  reader learns that a name near the question's words is not an answer unless the text says so.

    from training.augment import news_examples
    examples = news_examples("../shared/data/news/reuters21578.jsonl", limit=4000, seed=13)

Training uses Reuters-21578 (``python -m training.train --augment reuters``); the BBC corpus stays
unseen (it is the distractor corpus of the end-to-end benchmark) and gives a held-out news check
(``python -m training.evaluate --news``).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from training.datasets import QAExample

ROLES = (
    "president", "vice president", "vice-president", "prime minister", "minister", "secretary",
    "chairman", "chairwoman", "chief executive", "chief executive officer", "governor", "senator",
    "chancellor", "director", "spokesman", "spokeswoman", "ambassador", "leader", "manager", "coach",
    "captain", "commissioner", "mayor", "treasurer", "premier", "economist", "analyst", "head",
    "chief", "founder", "editor", "general secretary", "attorney general", "judge", "boss",
)
_ROLE = "(?:" + "|".join(sorted((re.escape(r) for r in ROLES), key=len, reverse=True)) + ")"
_NAME_TOKEN = r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_NAME = rf"{_NAME_TOKEN}(?: [A-Z]\.)?(?: (?:van |de |von |da )?{_NAME_TOKEN}){{1,2}}"
_MOD = (r"(?:(?:(?:[A-Z]\.){2,}|[A-Z][\w&-]*(?:'s)?|of|(?i:deputy|interim|acting|vice|chief|executive|assistant|"
        r"senior|foreign|finance|trade|defence|defense|home|economy|energy|health)) )")
#: "Treasury Secretary James Baker", "England coach Andy Robinson"
TITLE_BEFORE_NAME = re.compile(rf"(?<![\w'])(?P<role>{_MOD}{{0,4}}(?i:{_ROLE}))\s(?P<name>{_NAME})\b(?!')")
#: "John Smith, the chairman of Texaco," / "John Smith, Texaco's chairman,"
APPOSITIVE = re.compile(rf"(?<![\w'])(?P<name>{_NAME}), (?P<role>(?:the |[A-Z][\w.&-]*'s )[^,.;:()\"\n]{{3,70}}?),")

_LEADING_STOP = {
    "the", "a", "an", "but", "and", "or", "in", "on", "at", "by", "for", "as", "when", "while", "after",
    "before", "meanwhile", "mr", "mrs", "ms", "dr", "also", "then", "so", "this", "that", "its", "his",
    "her", "their", "our", "said", "says", "with", "from", "to", "of", "if",
}
_NOT_NAMES = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "the", "said", "and", "but", "inc", "corp", "co", "ltd", "plc", "group", "bank", "reuters", "new",
}
_ROLE_RE = re.compile(rf"\b{_ROLE}\b", re.IGNORECASE)


def normalise_text(text: str) -> str:
    """Undo hard line wraps (Reuters wraps at ~65 characters and indents paragraphs)."""
    text = text.replace("\r\n", "\n")
    text = re.sub(r"\n[ \t]{2,}", "\n\n", text)
    text = re.sub(r"(?<!\n)\n(?!\n)", " ", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def passages(text: str, min_chars: int = 500, max_chars: int = 1000) -> list[tuple[int, int]]:
    """(start, end) of consecutive-paragraph groups of about ``min_chars``..``max_chars``."""
    paras = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(paras):
        start, end = paras[i]
        j = i + 1
        while end - start < min_chars and j < len(paras) and paras[j][1] - start <= max_chars:
            end = paras[j][1]
            j += 1
        out.append((start, end))
        i = j
    return out


def _clean_role(role: str) -> str | None:
    words = role.split(" ")
    while words and words[0].lower() in _LEADING_STOP:
        words = words[1:]
    if not words or not _ROLE_RE.search(" ".join(words)):
        return None
    return " ".join(words)


def _good_name(name: str) -> bool:
    toks = name.replace(".", "").split()
    return (len(toks) >= 2 and not any(t.lower() in _NOT_NAMES for t in toks)
            and not any(_ROLE_RE.fullmatch(t) for t in toks))


def _who_is_role(role: str) -> str:
    first, _, rest = role.partition(" ")
    if first.lower() in ("its", "his", "her", "their", "a", "an") and rest:
        return "the " + rest
    if first.lower() == "the" or first.endswith("'s"):
        return role
    return "the " + role


def facts(text: str) -> Iterator[tuple[str, int, str, int]]:
    """(name, name start, role, role start) for each title-before-name or appositive in ``text``."""
    for m in TITLE_BEFORE_NAME.finditer(text):
        role = _clean_role(m.group("role"))
        if role and _good_name(m.group("name")):
            yield m.group("name"), m.start("name"), role, m.end("role") - len(role)
    for m in APPOSITIVE.finditer(text):
        role = m.group("role").strip()
        if len(role.split()) <= 10 and _ROLE_RE.search(role) and _good_name(m.group("name")):
            yield m.group("name"), m.start("name"), role, m.start("role")


_ROLE_QUESTIONS = ("Who is {r}?", "Who was {r}?", "What is the name of {r}?", "Which person is {r}?")
_NAME_QUESTIONS = ("Who is {n}?", "What is {n}'s job?", "What position does {n} hold?", "Who is {n}?")


def _read_articles(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def news_examples(
    path: str | os.PathLike,
    *,
    limit: int = 4000,
    per_article: int = 2,
    per_fact: int = 2,
    unanswerable_share: float = 0.25,
    deleted_share: float = 0.0,
    seed: int = 13,
    source: str | None = None,
) -> list[QAExample]:
    """Up to ``limit`` answerable questions (plus about ``unanswerable_share`` as many unanswerable
    ones over another article's passage, and about ``deleted_share`` as many over their own passage
    with the answer deleted) generated from the articles of a JSONL news file
    (``{"id","title","text"}`` per line).

    Deterministic for a given file and ``seed``; at most ``per_article`` questions per article and
    ``per_fact`` per (question, answer) pair, so frequent facts do not dominate.
    """
    path = Path(path)
    source = source or path.stem
    rng = random.Random(seed)
    docs = _read_articles(path)
    order = sorted(range(len(docs)), key=lambda i: hashlib.sha1(f"{seed}:{docs[i]['id']}".encode()).hexdigest())
    texts: dict[int, tuple[str, list[tuple[int, int]]]] = {}

    def article(i: int) -> tuple[str, list[tuple[int, int]]]:
        if i not in texts:
            t = normalise_text(docs[i].get("text") or "")
            texts[i] = (t, passages(t))
        return texts[i]

    seen: Counter[tuple[str, str]] = Counter()
    positives: list[QAExample] = []
    negatives: list[QAExample] = []
    for i in order:
        if len(positives) >= limit:
            break
        text, spans = article(i)
        made = 0
        for name, ns, role, rs in facts(text):
            if made >= per_article or len(positives) >= limit:
                break
            ask_role = rng.random() < 0.6
            if ask_role:
                question = rng.choice(_ROLE_QUESTIONS).format(r=_who_is_role(role))
                answer, a_start = name, ns
            else:
                question = rng.choice(_NAME_QUESTIONS).format(n=name)
                answer, a_start = role, rs
            key = (question.lower(), answer.lower())
            if seen[key] >= per_fact:
                continue
            p = next(((s, e) for s, e in spans if s <= min(ns, rs) and max(ns + len(name), rs + len(role)) <= e), None)
            if p is None:
                continue
            seen[key] += 1
            made += 1
            ctx = text[p[0] : p[1]]
            qid = f"{source}:{docs[i]['id']}:{len(positives)}"
            positives.append(_example(qid, question, ctx, ((answer, a_start - p[0]),), docs[i], p[0], source))
            if rng.random() < unanswerable_share:
                neg = _unanswerable(rng, docs, order, article, (name, answer))
                if neg is not None:
                    j, (s, e) = neg
                    negatives.append(_example(qid + ":neg", question, article(j)[0][s:e], (), docs[j], s, source))
            if _chance(f"{seed}:{qid}:cut", deleted_share):  # own draw: the other questions stay the same
                cut = answer_deleted(ctx, name, ns - p[0], role, rs - p[0], delete_name=ask_role)
                if cut is not None:
                    negatives.append(_example(qid + ":cut", question, cut, (), docs[i], p[0], source))
    return positives + negatives


def _chance(key: str, p: float) -> bool:
    """A deterministic coin with probability ``p``, drawn from ``key``'s hash."""
    return p > 0 and int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) / 0x100000000 < p


def answer_deleted(context: str, name: str, ns: int, role: str, rs: int, *, delete_name: bool) -> str | None:
    """``context`` with the name (``delete_name``) or the role taken out of the fact at ``ns``/``rs``
    (title before name or appositive), or None when the deleted words still occur elsewhere in it (the
    question would stay answerable). The rest of the fact stays: the question's words are still there.

    >>> answer_deleted("Treasury Secretary James Baker said so.", "James Baker", 19, "Treasury Secretary", 0,
    ...                delete_name=True)
    'Treasury Secretary said so.'
    """
    ne, re_ = ns + len(name), rs + len(role)
    if rs < ns:  # "Treasury Secretary James Baker": drop " James Baker" or "Treasury Secretary "
        lo, hi, keep = (re_, ne, "") if delete_name else (rs, ns, "")
    else:  # "John Smith, the chairman of Texaco,": keep only the role or only the name
        hi = re_ + 1 if context[re_ : re_ + 1] == "," else re_
        lo, keep = ns, (role if delete_name else name)
        if delete_name and context[:lo].rstrip()[-1:] in ("", ".", "!", "?"):  # the role starts a sentence
            keep = keep[:1].upper() + keep[1:]
    out = context[:lo] + keep + context[hi:]
    surname = name.split()[-1]
    gone = [name, surname] if delete_name else [role]
    low = out.lower()
    if any(re.search(rf"(?<!\w){re.escape(g.lower())}(?!\w)", low) for g in gone):
        return None
    if not delete_name and any(n.split()[-1] == surname for n, _, _, _ in facts(out)):
        return None  # another title or appositive still says who they are
    return out


def squad_sentence_deleted(examples: list[QAExample], share: float, seed: int = 13) -> list[QAExample]:
    """Answerable SQuAD questions asked again, for about ``share`` of them, over their paragraph with the
    sentence that holds the answer taken out (unanswerable).

    The news ``answer_deleted`` questions are all who-questions about a title or an appositive; these
    carry the same lesson (the topic is there, the fact is not) to every kind of SQuAD question. A
    question is skipped when an answer still occurs in what is left, or when little is left.
    """
    from qa.sentences import sentence_around

    out: list[QAExample] = []
    for ex in examples:
        if ex.is_impossible or not ex.answers or not _chance(f"{seed}:{ex.id}:sentence-cut", share):
            continue
        text, start = ex.answers[0]
        s, e = sentence_around(ex.context, start, start + len(text))
        rest = (ex.context[:s].rstrip() + " " + ex.context[e:].lstrip()).strip()
        low = rest.lower()
        if len(rest) < 150 or any(a.lower() in low for a in (*ex.answer_texts, *(t for t, _ in ex.answers))):
            continue
        out.append(QAExample(id=ex.id + ":cut", question=ex.question, context=rest, answers=(),
                             is_impossible=True, doc_id=ex.doc_id, title=ex.title,
                             paragraph_start=ex.paragraph_start, version=ex.version + "-cut"))
    return out


def _unanswerable(rng, docs, order, article, forbidden) -> tuple[int, tuple[int, int]] | None:
    """A passage of another article that holds none of the ``forbidden`` strings."""
    for _ in range(10):
        j = order[rng.randrange(len(order))]
        text, spans = article(j)
        if not spans:
            continue
        s, e = spans[rng.randrange(len(spans))]
        low = text[s:e].lower()
        if e - s >= 200 and not any(f.lower() in low for f in forbidden):
            return j, (s, e)
    return None


def _example(qid, question, context, answers, doc, start, source) -> QAExample:
    return QAExample(
        id=qid,
        question=question,
        context=context,
        answers=tuple(answers),
        is_impossible=not answers,
        doc_id=f"{source}:{doc['id']}",
        title=doc.get("title", ""),
        paragraph_start=start,
        version=f"news-{source}",
        answer_texts=tuple(a for a, _ in answers),
    )
