"""Gold files for ``qa eval``: labelled questions with their accepted answers.

- JSONL, one object a line: ``question``, ``answers`` (list of accepted answers; an empty list means the
  articles do not answer it), optional ``id`` (default: the line number) and optional ``doc_id`` (the
  article's source path as in ``Citation.source``, e.g. ``news.txt`` or ``feed.jsonl#42``, its record id,
  or its ``article_id``; a list for several).
- The official SQuAD JSON (v1.1 or v2.0). Without ``--articles`` its paragraphs are written as articles
  (``<report>-articles/squad_contexts.jsonl``, one record per paragraph, :func:`write_squad_articles`)
  and indexed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.errors import QAError
from qa.fileio import atomic_write
from qa.textio import Warn, jsonl_bytes, lines, read_text, recorder, warn_stderr

SQUAD_ARTICLES_FILE = "squad_contexts.jsonl"


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    doc_ids: tuple[str, ...] = ()
    line: int = 0


@dataclass
class GoldFile:
    questions: list[GoldQuestion] = field(default_factory=list)
    #: for SQuAD JSON: the paragraphs as article records ``{"id", "title", "text"}``
    articles: list[dict[str, str]] | None = None
    warnings: list[str] = field(default_factory=list)


def load_gold(path: str | Path, warn: Warn | None = warn_stderr) -> GoldFile:
    """Read a gold file: JSONL (``question``, ``answers``, optional ``id``, ``doc_id``) or SQuAD JSON."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".json"):
        raise QAError(f"'{path.name}' has an unknown suffix; give gold questions as .jsonl "
                      "({\"question\", \"answers\", \"doc_id\"} a line) or the SQuAD .json format")
    text = read_text(path, "gold file")
    result = GoldFile()

    note = recorder(result.warnings, warn)

    if suffix == ".json":
        _load_squad(path, text, result)
    else:
        _load_gold_jsonl(path, text, result, note)
    seen: dict[str, int] = {}
    unique = []
    for g in result.questions:
        if g.id in seen:
            new = f"{g.id}@line{g.line}"
            note(f"{path.name} line {g.line}: id '{g.id}' already used on line {seen[g.id]}; kept as '{new}'")
            g = GoldQuestion(new, g.question, g.answers, g.doc_ids, g.line)
        seen[g.id] = g.line
        unique.append(g)
    result.questions = unique
    if not result.questions:
        raise QAError(f"'{path}' holds no questions; write one {{\"question\": ..., \"answers\": [...]}} "
                      "object a line, or use the SQuAD JSON format")
    return result


def _answers_of(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        out = []
        for a in value:
            if isinstance(a, dict) and isinstance(a.get("text"), str):
                a = a["text"]
            if not isinstance(a, str):
                raise QAError(f"{where}: each answer must be text, not {type(a).__name__}")
            out.append(a)
        return tuple(out)
    raise QAError(f"{where}: 'answers' must be a list of accepted answers ([] when the articles do not answer)")


def _doc_ids_of(value: Any, where: str) -> tuple[str, ...]:
    if value in (None, "", []):
        return ()
    if isinstance(value, (str, int)):
        return (str(value),)
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return tuple(str(v) for v in value)
    raise QAError(f"{where}: 'doc_id' must be an article's source or id (text), or a list of them")


def _load_gold_jsonl(path: Path, text: str, result: GoldFile, note: Warn) -> None:
    for lineno, line in enumerate(lines(text), 1):
        if not line.strip():
            note(f"{path.name} line {lineno} is blank; skipped")
            continue
        where = f"{path.name} line {lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise QAError(f"{where} is not valid JSON ({e.msg}); write one "
                          "{\"question\": ..., \"answers\": [...]} object a line") from e
        if isinstance(obj, dict) and "data" in obj and lineno == 1:
            raise QAError(f"'{path.name}' looks like SQuAD JSON; name it .json")
        if not isinstance(obj, dict) or not isinstance(obj.get("question"), str):
            raise QAError(f"{where} has no 'question' text; write one "
                          "{\"question\": ..., \"answers\": [...]} object a line")
        if "answers" not in obj or obj["answers"] is None:
            raise QAError(f"{where} has no 'answers'; list the accepted answers, or [] when the articles "
                          "do not answer the question")
        answers = () if obj.get("is_impossible") is True else _answers_of(obj["answers"], where)
        rid = obj.get("id")
        result.questions.append(GoldQuestion(
            str(rid) if rid not in (None, "") else str(lineno), obj["question"], answers,
            _doc_ids_of(obj.get("doc_id"), where), lineno))


def _load_squad(path: Path, text: str, result: GoldFile) -> None:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise QAError(f"'{path.name}' is not valid JSON ({e.msg} at line {e.lineno}); for one question a "
                      "line name the file .jsonl") from e
    if not isinstance(obj, dict) or not isinstance(obj.get("data"), list):
        raise QAError(f"'{path.name}' is not in the SQuAD format ({{\"data\": [{{\"title\", \"paragraphs\": "
                      "[{\"context\", \"qas\"}]}]}); for one question a line use .jsonl")
    articles: list[dict[str, str]] = []
    used: set[str] = set()
    n = 0
    for ai, art in enumerate(obj["data"]):
        if not isinstance(art, dict) or not isinstance(art.get("paragraphs"), list):
            raise QAError(f"'{path.name}': data[{ai}] has no 'paragraphs' list (SQuAD format)")
        title = str(art.get("title") or f"article {ai + 1}")
        slug = "_".join(title.split()) or f"article{ai + 1}"
        for pi, par in enumerate(art["paragraphs"]):
            where = f"'{path.name}': data[{ai}].paragraphs[{pi}]"
            if not (isinstance(par, dict) and isinstance(par.get("context"), str)
                    and isinstance(par.get("qas"), list)):
                raise QAError(f"{where} needs 'context' text and a 'qas' list (SQuAD format)")
            doc_id = f"{slug}-p{pi}"
            while doc_id in used:
                doc_id += "x"
            used.add(doc_id)
            articles.append({"id": doc_id, "title": title.replace("_", " "), "text": par["context"]})
            for qi, qa in enumerate(par["qas"]):
                qwhere = f"{where}.qas[{qi}]"
                if not isinstance(qa, dict) or not isinstance(qa.get("question"), str):
                    raise QAError(f"{qwhere} has no 'question' text")
                n += 1
                answers = () if qa.get("is_impossible") else _answers_of(qa.get("answers", []), qwhere)
                qid = qa.get("id")
                result.questions.append(GoldQuestion(
                    str(qid) if qid not in (None, "") else str(n), qa["question"], answers, (doc_id,), n))
    result.articles = articles


def write_squad_articles(articles: Sequence[dict[str, str]], folder: str | Path) -> Path:
    """Write SQuAD paragraphs as one JSONL article file in ``folder`` (left untouched when unchanged)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SQUAD_ARTICLES_FILE
    data = jsonl_bytes(articles)
    if not (path.is_file() and path.read_bytes() == data):
        atomic_write(path, data)
    return folder
