"""Answer a whole file of questions: ``qa batch questions.txt -o answers.jsonl``.

    from qa import QA
    from qa.batch import read_questions, run_batch
    questions = read_questions("questions.csv").questions
    summary = run_batch(QA("my_articles", "my_index"), questions, "answers.jsonl")

Inputs: ``.txt`` (one question a line), ``.csv`` with a ``question`` column (optional ``id``), ``.jsonl``
of ``{"id", "question"}`` objects. Ids default to the line number (``.txt``/``.jsonl``) or the data row
number (``.csv``, header excluded). Blank lines and repeated ids are reported on stderr, never fatal.

Outputs: ``.jsonl`` (one object a line) or ``.csv``, one row per question, in input order:
``id, question, answer, no_answer, score, citations, error``. Questions are answered ``batch_size`` at
a time with :meth:`qa.engine.QA.ask_many`; after each batch its rows are appended as whole lines,
flushed and fsynced, so an interrupted run (Ctrl-C, ``kill -9``) loses at most the batch in flight.
Rerunning into the same output skips the ids already there, after cutting off a half-written last
row. A question that cannot be answered (empty, too long, an error) is recorded with its ``error``;
the run goes on.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.errors import QAError

INPUT_SUFFIXES = (".txt", ".csv", ".jsonl")
OUTPUT_SUFFIXES = (".jsonl", ".csv")
DEFAULT_BATCH_SIZE = 32
CSV_COLUMNS = ["id", "question", "answer", "no_answer", "score", "article_id", "title", "source", "start", "end",
               "passage", "citations", "error"]

Warn = Callable[[str], None]


def _stderr_warning(message: str) -> None:
    print(f"qa: warning: {message}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------- input


@dataclass(frozen=True)
class Question:
    """One question of a batch: its id (unique in the batch), text and line in the input file."""

    id: str
    question: str
    line: int


@dataclass
class QuestionFile:
    questions: list[Question] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_questions(path: str | Path, warn: Warn | None = _stderr_warning) -> QuestionFile:
    """Read a questions file (.txt, .csv, .jsonl). Raises :class:`QAError` on an unusable file.

    Blank lines are skipped and a repeated id is renamed ``<id>@line<N>``; both are reported through
    ``warn`` (and kept in ``QuestionFile.warnings``).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in INPUT_SUFFIXES:
        raise QAError(f"'{path.name}' has an unknown suffix; give questions as .txt (one a line), "
                      ".csv (a 'question' column) or .jsonl ({{\"id\", \"question\"}} a line)")
    text = _read_text(path, "questions file")
    result = QuestionFile()

    def note(message: str) -> None:
        result.warnings.append(message)
        if warn is not None:
            warn(message)

    if suffix == ".txt":
        rows = _txt_rows(text, note)
    elif suffix == ".csv":
        rows = _csv_rows(path, text, note)
    else:
        rows = _jsonl_rows(path, text, note)
    first_line: dict[str, int] = {}
    for rid, question, line in rows:
        if rid in first_line:
            new = f"{rid}@line{line}"
            note(f"{path.name} line {line}: id '{rid}' already used on line {first_line[rid]}; "
                 f"this question is answered under id '{new}'")
            rid = new
        first_line[rid] = line
        result.questions.append(Question(rid, question, line))
    if not result.questions:
        raise QAError(f"'{path}' holds no questions; put one question a line (.txt), a 'question' column "
                      "(.csv) or {\"question\": ...} objects (.jsonl) in it")
    return result


def _read_text(path: Path, what: str) -> str:
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


def _txt_rows(text: str, note: Warn) -> Iterator[tuple[str, str, int]]:
    for lineno, line in enumerate(lines(text), 1):
        if not line.strip():
            note(f"line {lineno} is blank; skipped")
            continue
        yield str(lineno), line.strip(), lineno


def _csv_rows(path: Path, text: str, note: Warn) -> list[tuple[str, str, int]]:
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
            rows.append((rid or str(rowno), question, line))
        return rows
    except csv.Error as e:
        raise QAError(f"'{path.name}' is not valid CSV ({e} at line {reader.line_num})") from e


def _jsonl_rows(path: Path, text: str, note: Warn) -> Iterator[tuple[str, str, int]]:
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
        yield (str(rid) if rid not in (None, "") else str(lineno)), question, lineno


# ---------------------------------------------------------------------------------------------- rows


def answer_row(q: Question, answer=None, error: str | None = None) -> dict[str, Any]:
    """The output record of one question: its answer and citations, or its error."""
    if answer is None:
        return {"id": q.id, "question": q.question, "answer": None, "no_answer": False, "score": None,
                "citations": [], "error": error or "not answered"}
    return {
        "id": q.id,
        "question": q.question,
        "answer": answer.text,
        "no_answer": answer.text is None,
        "score": round(float(answer.score), 6),
        "citations": [
            {"article_id": c.article_id, "title": c.title, "source": c.source, "start": c.start, "end": c.end,
             "passage": c.passage, "passage_start": c.passage_start, "passage_end": c.passage_end}
            for c in answer.citations
        ],
        "error": None,
    }


def _csv_record(row: dict[str, Any]) -> list[str]:
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
    }
    return [str(values[k]) for k in CSV_COLUMNS]


def _row_from_csv(record: dict[str, str]) -> dict[str, Any]:
    return {
        "id": record["id"], "question": record["question"], "answer": record["answer"] or None,
        "no_answer": record["no_answer"] == "yes", "score": float(record["score"]) if record["score"] else None,
        "citations": json.loads(record["citations"]) if record["citations"] else [],
        "error": record["error"] or None,
    }


# ---------------------------------------------------------------------------------------------- output


class AnswerWriter:
    """Appends rows to a .jsonl or .csv output, one fsynced write per batch.

    On opening, the rows already in the file are read back (:attr:`rows`, by id) and a half-written last
    row (from a killed run) is cut off, so the file only ever holds complete rows.
    """

    def __init__(self, path: str | Path, overwrite: bool = False, warn: Warn | None = _stderr_warning) -> None:
        self.path = Path(path)
        self.format = self.path.suffix.lower()
        if self.format not in OUTPUT_SUFFIXES:
            raise QAError(f"cannot write answers to '{self.path.name}'; name the output .jsonl or .csv")
        self.warn = warn or (lambda m: None)
        self.rows: dict[str, dict[str, Any]] = {}
        self._order: list[str] = []
        if self.path.parent and not self.path.parent.is_dir():
            raise QAError(f"the folder of the output '{self.path}' does not exist; create it first")
        self._f = open(self.path, "ab")
        self._lock()
        if overwrite:
            self._f.truncate(0)
        else:
            self._recover()
        if self.format == ".csv" and self._f.tell() == 0:
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
        if reader.fieldnames != CSV_COLUMNS:
            raise QAError(f"'{self.path}' does not have the columns qa batch writes ({', '.join(CSV_COLUMNS)}); "
                          "choose another output or pass --overwrite")
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
            data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
        else:
            data = self._csv_bytes([_csv_record(r) for r in rows])
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
            data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
        else:
            data = self._csv_bytes([CSV_COLUMNS] + [_csv_record(r) for r in rows])
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
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


# ---------------------------------------------------------------------------------------------- answering


def ask_batch(qa, texts: Sequence[str], k: int | None = None) -> list[tuple[Any, str | None, float]]:
    """``(answer, error, latency_s)`` per question, answered together with ``qa.ask_many``.

    Invalid questions (empty, too long) get their error without stopping the others; if the batch as a
    whole raises, its questions are answered one by one so that only the failing one records an error.
    ``latency_s`` is the batch's time divided by its questions (the question's own time when answered
    alone).
    """
    from qa.engine import clean_question

    out: list[tuple[Any, str | None, float]] = [(None, "not answered", 0.0)] * len(texts)
    valid: list[int] = []
    cleaned: list[str] = []
    for i, text in enumerate(texts):
        try:
            cleaned.append(clean_question(text))
            valid.append(i)
        except QAError as e:
            out[i] = (None, str(e), 0.0)
    if not valid:
        return out
    t0 = time.perf_counter()
    try:
        answers = qa.ask_many(cleaned, k=k)
        if len(answers) != len(cleaned):
            raise RuntimeError(f"ask_many returned {len(answers)} answers for {len(cleaned)} questions")
        latency = (time.perf_counter() - t0) / len(cleaned)
        for i, a in zip(valid, answers):
            out[i] = (a, None, latency)
    except Exception:  # noqa: BLE001 - find the question that fails, answer the others
        for i, text in zip(valid, cleaned):
            t1 = time.perf_counter()
            try:
                out[i] = (qa.ask(text, k=k), None, time.perf_counter() - t1)
            except Exception as e:  # noqa: BLE001
                out[i] = (None, _describe(e), time.perf_counter() - t1)
    return out


def answer_batch(qa, questions: Sequence[Question], k: int | None = None) -> list[dict[str, Any]]:
    """Output rows for ``questions``, answered together (see :func:`ask_batch`)."""
    results = ask_batch(qa, [q.question for q in questions], k=k)
    return [answer_row(q, a, err) for q, (a, err, _) in zip(questions, results)]


def _describe(e: Exception) -> str:
    if isinstance(e, QAError):
        return str(e)
    return f"{type(e).__name__}: {e}".strip().splitlines()[0] if str(e) else type(e).__name__


@dataclass
class BatchSummary:
    total: int = 0
    skipped: int = 0
    answered: int = 0
    no_answer: int = 0
    errors: int = 0
    seconds: float = 0.0          # answering alone
    startup_seconds: float = 0.0  # loading the index and the models, before the first question

    def line(self) -> str:
        done = self.answered + self.no_answer + self.errors
        if not done:
            return f"nothing to answer, all {self.skipped} questions are already in it (--overwrite answers afresh)"
        startup = f"; start-up {self.startup_seconds:.1f} s" if self.startup_seconds >= 0.05 else ""
        rate = f" in {self.seconds:.1f} s ({done / self.seconds:.1f} questions/s{startup})" if done and self.seconds else ""
        skipped = f", {self.skipped} already in the output" if self.skipped else ""
        return (f"{done} questions{rate}: {self.answered} answered, {self.no_answer} without an answer in the "
                f"articles, {self.errors} failed{skipped}")


def run_batch(qa, questions: Sequence[Question], output: str | Path, *, k: int | None = None,
              batch_size: int = DEFAULT_BATCH_SIZE, overwrite: bool = False, progress: bool = True,
              warn: Warn | None = _stderr_warning,
              answer_batches: Callable[[list[list[Question]]], Iterable[list[dict[str, Any]]]] | None = None,
              ) -> BatchSummary:
    """Answer ``questions`` into ``output`` (.jsonl/.csv), resuming after the ids already there.

    ``qa`` is a :class:`qa.engine.QA`, or a function returning one (called only when there is
    something left to answer). ``answer_batches``, when given, answers instead of ``qa``: it gets the
    batches left to answer and yields their rows batch by batch, in order (e.g. on a Ray cluster,
    :class:`qa.distributed.batch.RayBatchAnswerer`).
    """
    if batch_size < 1:
        raise QAError("--batch-size must be at least 1")
    summary = BatchSummary(total=len(questions))
    t0 = time.perf_counter()
    with AnswerWriter(output, overwrite=overwrite, warn=warn) as writer:
        by_id = {q.id: q for q in questions}
        changed = [rid for rid, r in writer.rows.items() if rid in by_id and r.get("question") != by_id[rid].question]
        if changed and warn:
            warn(f"{len(changed)} ids in '{writer.path.name}' hold a different question than the input now "
                 f"(e.g. id '{changed[0]}'); their old answers are kept: pass --overwrite to answer afresh")
        todo = [q for q in questions if q.id not in writer.rows]
        summary.skipped = len(questions) - len(todo)
        batches = [todo[b:b + batch_size] for b in range(0, len(todo), batch_size)]
        if answer_batches is None:
            if todo and callable(qa) and not hasattr(qa, "ask_many"):
                t_load = time.perf_counter()
                qa = qa()
                summary.startup_seconds = time.perf_counter() - t_load
                t0 += summary.startup_seconds  # the rate is of answering, not of loading
            results = (answer_batch(qa, chunk, k=k) for chunk in batches)
        else:
            results = answer_batches(batches) if batches else iter(())
        bar = _progress(len(todo), progress)
        try:
            for chunk, rows in zip(batches, results, strict=True):
                if [r["id"] for r in rows] != [q.id for q in chunk]:
                    raise RuntimeError("the answers of a batch do not match its questions")
                for r in rows:
                    if r["error"]:
                        summary.errors += 1
                    elif r["no_answer"]:
                        summary.no_answer += 1
                    else:
                        summary.answered += 1
                writer.write(rows)
                bar.update(len(chunk))
        finally:
            bar.close()
        if summary.skipped and todo:
            writer.reorder([q.id for q in questions])
    summary.seconds = time.perf_counter() - t0
    return summary


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="q", desc="answering", disable=not enabled or total == 0,
                dynamic_ncols=True, file=sys.stderr,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]")


WARM_UP_QUESTION = "What is this article about?"


def run_batch_command(args) -> int:
    """``qa batch INPUT -o OUTPUT``: read and check the input first, then load the models and answer."""
    from qa.config import Settings
    from qa.engine import QA

    if args.k is not None and args.k < 1:
        raise QAError("-k must be at least 1")
    if args.batch_size < 1:
        raise QAError("--batch-size must be at least 1")
    out_suffix = args.output.suffix.lower()
    if out_suffix not in OUTPUT_SUFFIXES:
        raise QAError(f"cannot write answers to '{args.output.name}'; name the output .jsonl or .csv")
    if args.output.resolve() == args.input.resolve():
        raise QAError("the output would overwrite the questions file; choose another output name")
    questions = read_questions(args.input).questions

    def load() -> QA:
        qa = QA(args.articles, args.index, settings=Settings())
        qa.refresh(progress=False if args.quiet else None)
        qa.ask(WARM_UP_QUESTION)  # loads the embedder and the reader now, so start-up is not counted as answering
        return qa

    answer_batches = None
    if getattr(args, "ray", None) is not None:  # qa batch ... --ray [ADDRESS]: answer on a Ray cluster
        from qa.distributed.batch import RayBatchAnswerer

        answer_batches = RayBatchAnswerer(args.articles, args.index, address=args.ray or None,
                                          workers=getattr(args, "workers", None), k=args.k, progress=not args.quiet)
    summary = run_batch(load, questions, args.output, k=args.k, batch_size=args.batch_size,
                        overwrite=getattr(args, "overwrite", False), progress=not args.quiet,
                        answer_batches=answer_batches)
    print(f"Wrote '{args.output}': {summary.line()}.")
    return 0
