"""Answer a whole file of questions: ``qa batch questions.txt -o answers.jsonl``.

    from qa import QA
    from qa.batch import run_batch
    from qa.textio import read_questions
    questions = read_questions("questions.csv").questions
    summary = run_batch(QA("my_articles", "my_index"), questions, "answers.jsonl")

Questions are answered ``batch_size`` at a time with :meth:`qa.engine.QA.ask_many` (:func:`ask_batch`,
also used by ``qa eval``) and their rows appended to the answers file (:mod:`qa.answer_file`, which says
how a run resumes). A question that cannot be answered (empty, too long, an error) is recorded with its
``error``; the run goes on. Where the batches are answered is the caller's choice: on this machine, or by
an ``answer_batches`` function such as :class:`qa.distributed.batch.RayBatchAnswerer` (wired by
``qa batch --ray`` in :mod:`qa.commands`); this module knows nothing of Ray.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import qa as package
from qa.answer_file import AnswerWriter, answer_row
from qa.errors import QAError
from qa.textio import Question, Warn, warn_stderr

if TYPE_CHECKING:  # the engine loads models: `import qa.cli` (which imports this) must not
    from qa.engine import QA

DEFAULT_BATCH_SIZE = 32


def ask_batch(engine, texts: Sequence[str], k: int | None = None,
              dates: Sequence[tuple[str | None, str | None]] | None = None) -> list[tuple[Any, str | None, float]]:
    """``(answer, error, latency_s)`` per question, answered together with ``engine.ask_many``.

    Invalid questions (empty, too long) get their error without stopping the others; if the batch as a
    whole raises, its questions are answered one by one so that only the failing one records an error.
    ``latency_s`` is the batch's time divided by its questions (the question's own time when answered
    alone). ``dates`` gives each question's ``(since, until)`` (default: none).
    """
    dates = list(dates) if dates is not None else [(None, None)] * len(texts)
    out: list[tuple[Any, str | None, float]] = [(None, "not answered", 0.0)] * len(texts)
    valid: list[int] = []
    cleaned: list[str] = []
    for i, text in enumerate(texts):
        try:
            cleaned.append(package.clean_question(text))
            valid.append(i)
        except QAError as e:
            out[i] = (None, str(e), 0.0)
    if not valid:
        return out
    t0 = time.perf_counter()
    try:
        answers = engine.ask_many(cleaned, k=k, since=[dates[i][0] for i in valid],
                                  until=[dates[i][1] for i in valid])
        if len(answers) != len(cleaned):
            raise RuntimeError(f"ask_many returned {len(answers)} answers for {len(cleaned)} questions")
        latency = (time.perf_counter() - t0) / len(cleaned)
        for i, a in zip(valid, answers, strict=True):
            out[i] = (a, None, latency)
    except Exception:  # noqa: BLE001 - find the question that fails, answer the others
        for i, text in zip(valid, cleaned, strict=True):
            t1 = time.perf_counter()
            try:
                out[i] = (engine.ask(text, k=k, since=dates[i][0], until=dates[i][1]), None, time.perf_counter() - t1)
            except Exception as e:  # noqa: BLE001
                out[i] = (None, _describe(e), time.perf_counter() - t1)
    return out


def answer_batch(engine: QA, questions: Sequence[Question], k: int | None = None) -> list[dict[str, Any]]:
    """Output rows for ``questions``, answered together (see :func:`ask_batch`)."""
    results = ask_batch(engine, [q.question for q in questions], k=k, dates=[(q.since, q.until) for q in questions])
    return [answer_row(q, a, err) for q, (a, err, _) in zip(questions, results, strict=True)]


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
        rate = (f" in {self.seconds:.1f} s ({done / self.seconds:.1f} questions/s{startup})"
                if done and self.seconds else "")
        skipped = f", {self.skipped} already in the output" if self.skipped else ""
        return (f"{done} questions{rate}: {self.answered} answered, {self.no_answer} without an answer in the "
                f"articles, {self.errors} failed{skipped}")


def run_batch(engine: QA | Callable[[], QA] | None, questions: Sequence[Question], output: str | Path, *,
              k: int | None = None, since: str | None = None, until: str | None = None,
              batch_size: int = DEFAULT_BATCH_SIZE, overwrite: bool = False, progress: bool = True,
              warn: Warn | None = warn_stderr,
              answer_batches: Callable[[list[list[Question]]], Iterable[list[dict[str, Any]]]] | None = None,
              ) -> BatchSummary:
    """Answer ``questions`` into ``output`` (.jsonl/.csv), resuming after the ids already there.

    ``engine`` is a :class:`qa.engine.QA`, or a function returning one (called only when there is
    something left to answer). ``answer_batches``, when given, answers instead of ``engine``: it gets the
    batches left to answer and yields their rows batch by batch, in order (e.g. on a Ray cluster,
    :class:`qa.distributed.batch.RayBatchAnswerer`). ``since``/``until`` are the date range of the questions
    that give none of their own (a question's own ``since`` or ``until`` wins over the default of that bound).
    """
    if batch_size < 1:
        raise QAError("--batch-size must be at least 1")
    if since is not None or until is not None:
        questions = [replace(q, since=q.since or since, until=q.until or until) for q in questions]
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
        results: Iterable[list[dict[str, Any]]]
        if answer_batches is None:
            loaded: QA | None = None
            if todo and callable(engine):  # a factory: the engine loads only when there is work
                t_load = time.perf_counter()
                loaded = engine()
                summary.startup_seconds = time.perf_counter() - t_load
                t0 += summary.startup_seconds  # the rate is of answering, not of loading
            elif not callable(engine):
                loaded = engine
            if todo and loaded is None:
                raise QAError("nothing to answer with: give run_batch an engine or answer_batches")
            results = (answer_batch(loaded, chunk, k=k) for chunk in batches) if loaded is not None else iter(())
        else:
            results = answer_batches(batches) if batches else iter(())
        bar = progress_bar(len(todo), progress)
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


def progress_bar(total: int, enabled: bool):
    """A tqdm bar on stderr counting answered questions (disabled: counts silently)."""
    from tqdm import tqdm

    return tqdm(total=total, unit="q", desc="answering", disable=not enabled or total == 0,
                dynamic_ncols=True, file=sys.stderr,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]")

