"""Question and answer files as text: reading questions (.txt, .csv, .jsonl), UTF-8 and line rules, and the
one serialisation of an answer that every file and the ``--json`` output project from.

    from qa.textio import read_questions, answer_record
    questions = read_questions("questions.csv").questions     # Question(id, question, line), input order
    record = answer_record(answer)                            # the JSON-ready dict of one Answer

Inputs: ``.txt`` (one question a line), ``.csv`` with a ``question`` column (optional ``id``, ``since``,
``until``), ``.jsonl`` of ``{"id", "question"}`` objects (optional ``"since"``, ``"until"``). Ids default to
the line number (``.txt``/``.jsonl``) or the data row number (``.csv``, header excluded). Blank lines and
repeated ids are reported through ``warn`` (stderr by default), never fatal. ``since``/``until`` are ISO
dates (``YYYY-MM-DD``) that keep a question's answer to articles published in that range; a date written
otherwise stops the read with a one-line error naming the line. Shared by ``qa batch`` (:mod:`qa.batch`),
``qa eval`` (:mod:`qa.evaluation`) and ``qa feedback-to-gold`` (:mod:`qa.feedback`).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.errors import QAError
from qa.timecues import check_range
from qa.types import Answer

INPUT_SUFFIXES = (".txt", ".csv", ".jsonl")

Warn = Callable[[str], None]


def warn_stderr(message: str) -> None:
    """The default ``warn`` of the readers: one ``qa: warning:`` line on stderr."""
    print(f"qa: warning: {message}", file=sys.stderr)


def recorder(warnings: list[str], warn: Warn | None) -> Warn:
    """A ``Warn`` that keeps each message in ``warnings`` and passes it on to ``warn`` (if any): what a
    reader of a file reports and also returns."""

    def note(message: str) -> None:
        warnings.append(message)
        if warn is not None:
            warn(message)

    return note


def read_text(path: Path, what: str) -> str:
    """The UTF-8 text of ``path`` (a byte-order mark dropped), or a :class:`QAError` naming ``what``."""
    if not path.is_file():
        raise QAError(f"{what} '{path}' does not exist or is not a file")
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise QAError(f"{what} '{path}' is not UTF-8 text (invalid byte at position {e.start}); "
                      "re-save it as UTF-8") from e


def lines(text: str) -> list[str]:
    """The lines of ``text``, split at line feeds only, without a trailing carriage return.

    (``str.splitlines`` also splits at U+2028 and other characters that news text and JSON strings hold.)
    """
    out = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    if out and out[-1] == "":
        out.pop()
    return out


def jsonl_bytes(rows: Iterable[Any]) -> bytes:
    """``rows`` as JSON Lines (UTF-8, non-ASCII kept as is), each line ending with a line feed."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


# ---------------------------------------------------------------------------------------------- answers


def answer_record(answer: Answer) -> dict[str, Any]:
    """The one serialisation of an answer: question, answer, found, kind, score, confidence_level,
    message, context, citations, passages, timings. ``qa ask --json`` prints it; batch and evaluation
    rows and feedback records are projections of it."""
    return answer.to_dict()


# ---------------------------------------------------------------------------------------------- questions


@dataclass(frozen=True)
class Question:
    """One question of a batch: its id (unique in the batch), text and line in the input file; ``since``/
    ``until`` (ISO dates, optional) keep its answer to articles published in that range."""

    id: str
    question: str
    line: int
    since: str | None = None
    until: str | None = None


@dataclass
class QuestionFile:
    questions: list[Question] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_questions(path: str | Path, warn: Warn | None = warn_stderr) -> QuestionFile:
    """Read a questions file (.txt, .csv, .jsonl). Raises :class:`QAError` on an unusable file.

    Blank lines are skipped and a repeated id is renamed ``<id>@line<N>``; both are reported through
    ``warn`` (and kept in ``QuestionFile.warnings``).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in INPUT_SUFFIXES:
        raise QAError(f"'{path.name}' has an unknown suffix; give questions as .txt (one a line), "
                      ".csv (a 'question' column) or .jsonl ({{\"id\", \"question\"}} a line)")
    text = read_text(path, "questions file")
    result = QuestionFile()

    note = recorder(result.warnings, warn)

    rows: Iterable[Row]
    if suffix == ".txt":
        rows = _txt_rows(text, note)
    elif suffix == ".csv":
        rows = _csv_rows(path, text, note)
    else:
        rows = _jsonl_rows(path, text, note)
    first_line: dict[str, int] = {}
    for rid, question, line, dates in rows:
        try:
            since, until = check_range(*dates)
        except ValueError as e:
            raise QAError(f"{path.name} line {line}: {e}") from None
        if rid in first_line:
            new = f"{rid}@line{line}"
            note(f"{path.name} line {line}: id '{rid}' already used on line {first_line[rid]}; "
                 f"this question is answered under id '{new}'")
            rid = new
        first_line[rid] = line
        result.questions.append(Question(rid, question, line, since, until))
    if not result.questions:
        raise QAError(f"'{path}' holds no questions; put one question a line (.txt), a 'question' column "
                      "(.csv) or {\"question\": ...} objects (.jsonl) in it")
    return result
#: a question as read: id, text, line, and its (since, until) as written (checked by :func:`read_questions`)
Row = tuple[str, str, int, tuple[str | None, str | None]]
NO_DATES: tuple[str | None, str | None] = (None, None)


def _txt_rows(text: str, note: Warn) -> Iterator[Row]:
    for lineno, line in enumerate(lines(text), 1):
        if not line.strip():
            note(f"line {lineno} is blank; skipped")
            continue
        yield str(lineno), line.strip(), lineno, NO_DATES


def _csv_rows(path: Path, text: str, note: Warn) -> list[Row]:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader, None)
        if header is None:
            return []
        names = [h.strip().lower() for h in header]
        if "question" not in names:
            found = ", ".join(f"'{h}'" for h in header) or "none"
            raise QAError(f"'{path.name}' has no 'question' column (columns found: {found}); "
                          "name the column of questions 'question' in the first row")
        qcol = names.index("question")
        icol = names.index("id") if "id" in names else None
        dcols = [names.index(n) if n in names else None for n in ("since", "until")]
        rows = []
        rowno = 0
        start_line = reader.line_num + 1
        for fields in reader:
            line = start_line
            start_line = reader.line_num + 1
            if not any(f.strip() for f in fields):
                note(f"{path.name} line {line} is blank; skipped")
                continue
            rowno += 1
            question = fields[qcol] if qcol < len(fields) else ""
            if len(fields) > len(names):
                delim = dialect.delimiter
                if len(names) == 1:  # a comma inside an unquoted question: the whole line is the question
                    question = delim.join(fields)
                    note(f"{path.name} line {line} has an unquoted '{delim}'; read the whole line as the question")
                else:
                    note(f"{path.name} line {line} has {len(fields)} fields for {len(names)} columns; "
                         f"put a field that holds '{delim}' in double quotes")
            rid = fields[icol].strip() if icol is not None and icol < len(fields) else ""
            if icol is not None and not rid:
                note(f"{path.name} line {line} has no id; using the row number {rowno}")
            since, until = (fields[c] if c is not None and c < len(fields) else None for c in dcols)
            rows.append((rid or str(rowno), question, line, (since, until)))
        return rows
    except csv.Error as e:
        raise QAError(f"'{path.name}' is not valid CSV ({e} at line {reader.line_num})") from e


def _jsonl_rows(path: Path, text: str, note: Warn) -> Iterator[Row]:
    for lineno, line in enumerate(lines(text), 1):
        if not line.strip():
            note(f"{path.name} line {lineno} is blank; skipped")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise QAError(f"{path.name} line {lineno} is not valid JSON ({e.msg}); write one "
                          "{\"id\": ..., \"question\": ...} object a line") from e
        if isinstance(obj, str):
            obj = {"question": obj}
        if not isinstance(obj, dict) or "question" not in obj:
            raise QAError(f"{path.name} line {lineno} has no 'question' field; write one "
                          "{\"id\": ..., \"question\": ...} object a line")
        question = obj["question"]
        if not isinstance(question, str):
            raise QAError(f"{path.name} line {lineno}: 'question' must be text, not {type(question).__name__}")
        rid = obj.get("id")
        dates = tuple(obj.get(n) for n in ("since", "until"))
        for n, d in zip(("since", "until"), dates, strict=True):
            if d is not None and not isinstance(d, str):
                raise QAError(f"{path.name} line {lineno}: '{n}' must be a date written YYYY-MM-DD, "
                              f"not {type(d).__name__}")
        yield (str(rid) if rid not in (None, "") else str(lineno)), question, lineno, (dates[0], dates[1])
