"""The answers file of ``qa batch``: one row per question (.jsonl or .csv), appended batch by batch and
read back to resume.

Rows: ``id, question, answer, no_answer, score, citations, error, alternatives`` (a projection of
:func:`qa.textio.answer_record`; each citation carries its article's ``date`` and ``date_source`` and the
``text`` it quotes; ``alternatives`` are the different answers other articles give, each with its
citations); the CSV adds the first citation's columns, its date and then the alternatives last (after the
columns that earlier versions wrote, which an answers file written by one of them keeps when a run resumes
into it). After each batch its rows are
appended as whole lines, flushed and fsynced, so an interrupted run (Ctrl-C, ``kill -9``) loses at most the
batch in flight. Reopening the file reads the rows back, after cutting off a half-written last row.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.errors import QAError
from qa.fileio import atomic_write
from qa.textio import Question, Warn, answer_record, jsonl_bytes, lines, warn_stderr
from qa.types import Answer

OUTPUT_SUFFIXES = (".jsonl", ".csv")
#: the columns written before article dates: a file with them is resumed in them
CSV_COLUMNS_UNDATED = ["id", "question", "answer", "no_answer", "score", "article_id", "title", "source", "start",
                       "end", "passage", "citations", "error"]
#: the columns written before alternatives: a file with them is resumed in them
CSV_COLUMNS_DATED = [*CSV_COLUMNS_UNDATED, "date", "date_source"]
CSV_COLUMNS = [*CSV_COLUMNS_DATED, "alternatives"]
#: the fields of a citation in a row (the answer record's citation without its score)
CITATION_FIELDS = ("article_id", "title", "source", "start", "end", "passage", "passage_start", "passage_end",
                   "date", "date_source", "text")


def answer_row(q: Question, answer: Answer | None = None, error: str | None = None) -> dict[str, Any]:
    """The output row of one question: a projection of its answer's record (:func:`qa.textio.answer_record`),
    or its error."""
    if answer is None:
        return {"id": q.id, "question": q.question, "answer": None, "no_answer": False, "score": None,
                "citations": [], "error": error or "not answered", "alternatives": []}
    record = answer_record(answer)
    return {
        "id": q.id,
        "question": q.question,
        "answer": record["answer"],
        "no_answer": record["answer"] is None,
        "score": round(float(record["score"]), 6),
        "citations": [_citation(c) for c in record["citations"]],
        "error": None,
        "alternatives": [{"answer": a["answer"], "score": round(float(a["score"]), 6),
                          "citations": [_citation(c) for c in a["citations"]]} for a in record["alternatives"]],
    }


def _citation(c: dict[str, Any]) -> dict[str, Any]:
    return {k: c.get(k) for k in CITATION_FIELDS}


def _csv_record(row: dict[str, Any], columns: Sequence[str] = CSV_COLUMNS) -> list[str]:
    c = row["citations"][0] if row["citations"] else {}
    values = {
        **{k: row[k] for k in ("id", "question")},
        "answer": row["answer"] or "",
        "no_answer": "yes" if row["no_answer"] else "",
        "score": "" if row["score"] is None else f"{row['score']:.4f}",
        "article_id": c.get("article_id", ""), "title": c.get("title", ""), "source": c.get("source", ""),
        "start": c.get("start", ""), "end": c.get("end", ""), "passage": c.get("passage", ""),
        "citations": json.dumps(row["citations"], ensure_ascii=False) if row["citations"] else "",
        "error": row["error"] or "",
        "date": c.get("date") or "", "date_source": c.get("date_source") or "",
        "alternatives": json.dumps(row["alternatives"], ensure_ascii=False) if row.get("alternatives") else "",
    }
    return [str(values[k]) for k in columns]


def _row_from_csv(record: dict[str, str]) -> dict[str, Any]:
    return {
        "id": record["id"], "question": record["question"], "answer": record["answer"] or None,
        "no_answer": record["no_answer"] == "yes", "score": float(record["score"]) if record["score"] else None,
        "citations": json.loads(record["citations"]) if record["citations"] else [],
        "error": record["error"] or None,
        "alternatives": json.loads(record["alternatives"]) if record.get("alternatives") else [],
    }


# ---------------------------------------------------------------------------------------------- output


class AnswerWriter:
    """Appends rows to a .jsonl or .csv output, one fsynced write per batch.

    On opening, the rows already in the file are read back (:attr:`rows`, by id) and a half-written last
    row (from a killed run) is cut off, so the file only ever holds complete rows.
    """

    def __init__(self, path: str | Path, overwrite: bool = False, warn: Warn | None = warn_stderr) -> None:
        self.path = Path(path)
        self.format = self.path.suffix.lower()
        if self.format not in OUTPUT_SUFFIXES:
            raise QAError(f"cannot write answers to '{self.path.name}'; name the output .jsonl or .csv")
        self.warn = warn or (lambda m: None)
        self.rows: dict[str, dict[str, Any]] = {}
        self._order: list[str] = []
        self.columns = CSV_COLUMNS  # a resumed file keeps the columns it was begun with
        if self.path.parent and not self.path.parent.is_dir():
            raise QAError(f"the folder of the output '{self.path}' does not exist; create it first")
        self._f = open(self.path, "ab")
        self._lock()
        if overwrite:
            self._f.truncate(0)
        else:
            self._recover()
        if self.format == ".csv" and self._f.tell() == 0:
            self.columns = CSV_COLUMNS
            self._write_bytes(self._csv_bytes([CSV_COLUMNS]))

    # -- reading back
    def _recover(self) -> None:
        data = self.path.read_bytes()
        keep = self._complete_prefix(data)
        if keep < len(data):
            self.warn(f"'{self.path.name}' ended with a half-written row (from an interrupted run); "
                      f"it was cut off and that question will be answered again")
            with open(self.path, "r+b") as f:
                f.truncate(keep)
                os.fsync(f.fileno())
            data = data[:keep]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise QAError(f"'{self.path}' is not an answers file written by qa batch (not UTF-8); "
                          "choose another output or pass --overwrite") from e
        rows = self._parse_jsonl(text) if self.format == ".jsonl" else self._parse_csv(text)
        for row in rows:
            rid = str(row["id"])
            if rid not in self.rows:
                self._order.append(rid)
            self.rows[rid] = row

    def _complete_prefix(self, data: bytes) -> int:
        """Length of the longest prefix of ``data`` that ends with a complete row."""
        if self.format == ".jsonl":
            return data.rfind(b"\n") + 1
        # CSV: a row ends at a newline outside quotes (an even number of quotes so far)
        quotes = 0
        end = 0
        i = 0
        while True:
            j = data.find(b"\n", i)
            if j < 0:
                return end
            quotes += data.count(b'"', i, j)
            if quotes % 2 == 0:
                end = j + 1
            i = j + 1

    def _parse_jsonl(self, text: str) -> list[dict[str, Any]]:
        rows = []
        for lineno, line in enumerate(lines(text), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise QAError(f"'{self.path}' line {lineno} is not valid JSON ({e.msg}); it was not written by "
                              "qa batch: fix or delete that line, or pass --overwrite") from e
            if not isinstance(row, dict) or "id" not in row:
                raise QAError(f"'{self.path}' line {lineno} has no 'id'; it was not written by qa batch: "
                              "choose another output or pass --overwrite")
            rows.append(row)
        return rows

    def _parse_csv(self, text: str) -> list[dict[str, Any]]:
        if not text:
            return []
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if reader.fieldnames not in (CSV_COLUMNS, CSV_COLUMNS_DATED, CSV_COLUMNS_UNDATED):
            raise QAError(f"'{self.path}' does not have the columns qa batch writes ({', '.join(CSV_COLUMNS)}); "
                          "choose another output or pass --overwrite")
        self.columns = list(reader.fieldnames)
        try:
            return [_row_from_csv(r) for r in reader]
        except (csv.Error, ValueError, TypeError) as e:
            raise QAError(f"'{self.path}' line {reader.line_num} cannot be read back ({e}); "
                          "fix that line or pass --overwrite") from e

    # -- writing
    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            return
        try:
            fcntl.flock(self._f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            self._f.close()
            raise QAError(f"another process is writing '{self.path}'; wait for it or choose another output") from e

    def _csv_bytes(self, records: Sequence[Sequence[str]]) -> bytes:
        buf = io.StringIO(newline="")
        w = csv.writer(buf, lineterminator="\n")
        w.writerows(records)
        return buf.getvalue().encode("utf-8")

    def _write_bytes(self, data: bytes) -> None:
        self._f.write(data)
        self._f.flush()
        os.fsync(self._f.fileno())

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append complete rows in one write, then flush and fsync."""
        if not rows:
            return
        if self.format == ".jsonl":
            data = jsonl_bytes(rows)
        else:
            data = self._csv_bytes([_csv_record(r, self.columns) for r in rows])
        self._write_bytes(data)
        for r in rows:
            if r["id"] not in self.rows:
                self._order.append(r["id"])
            self.rows[r["id"]] = r

    def reorder(self, ids: Sequence[str]) -> bool:
        """Rewrite the file (atomically) with its rows in the order of ``ids``; rows of other ids go last.

        Returns whether the file changed. Needed only after a resumed run appended out of order.
        """
        rank = {rid: i for i, rid in enumerate(ids)}
        order = sorted(self._order, key=lambda rid: rank.get(rid, len(rank)))
        if order == self._order:
            return False
        rows = [self.rows[rid] for rid in order]
        if self.format == ".jsonl":
            data = jsonl_bytes(rows)
        else:
            data = self._csv_bytes([self.columns] + [_csv_record(r, self.columns) for r in rows])
        atomic_write(self.path, data)
        self._f.close()
        self._f = open(self.path, "ab")
        self._lock()
        self._order = order
        return True

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()

    def __enter__(self) -> AnswerWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

