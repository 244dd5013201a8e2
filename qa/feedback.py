"""The chat's feedback, both ways: the thumbs up/down records ``qa chat`` appends, and ``qa feedback-to-gold``,
which turns them into a gold file for ``qa eval``.

    from qa.feedback import FeedbackLog, feedback_to_gold
    FeedbackLog("feedback.jsonl").record(turn, "up")        # what the chat does on a thumb
    feedback_to_gold("feedback.jsonl", "gold.jsonl")       # qa feedback-to-gold

A record is one JSON object a line: ``time``, ``question`` (as typed), ``understood_question`` (follow-ups
resolved), ``answer``, ``score`` and ``citations`` (a projection of :func:`qa.textio.answer_record`), and
``verdict``: "up", "down", or "none" when a thumb is clicked again to take the verdict back.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qa.config import Settings
from qa.conversation.turns import Turn
from qa.errors import QAError
from qa.fileio import atomic_write
from qa.metrics import normalize_answer
from qa.textio import Warn, answer_record, jsonl_bytes, lines, read_text, warn_stderr

FEEDBACK_VERDICTS = ("up", "down", "none")
FEEDBACK_FILE = "feedback.jsonl"


class FeedbackLog:
    """Appends one record a line per thumbs up/down (see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, turn: Turn, verdict: str) -> dict[str, Any]:
        if verdict not in FEEDBACK_VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(FEEDBACK_VERDICTS)}")
        answer = answer_record(turn.answer)
        row = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "question": turn.question,
            "understood_question": turn.understood_question,
            "answer": answer["answer"],
            "score": float(answer["score"]),
            "citations": answer["citations"],
            "verdict": verdict,
        }
        line = json.dumps(row, ensure_ascii=False)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        return row


def default_feedback_path(settings: Settings) -> Path:
    """``$QA_FEEDBACK``, else ``feedback.jsonl`` next to the index folder."""
    env = os.environ.get("QA_FEEDBACK")
    return Path(env) if env else settings.index_dir.resolve().parent / FEEDBACK_FILE


@dataclass
class FeedbackSummary:
    answered: int = 0
    unanswerable: int = 0
    down: int = 0
    duplicates: int = 0
    bad: int = 0
    review: int = 0

    def line(self) -> str:
        return (f"{self.answered + self.unanswerable} gold questions ({self.answered} with an answer, "
                f"{self.unanswerable} without); skipped {self.down} thumbs-down (right answer unknown"
                f"{f', {self.review} written for review' if self.review else ''}), {self.duplicates} repeated "
                f"questions (the latest verdict kept), {self.bad} unreadable lines")


def feedback_to_gold(feedback: str | Path, output: str | Path, review: str | Path | None = None,
                     warn: Warn | None = warn_stderr) -> FeedbackSummary:
    """Turn chat feedback (JSONL of thumbs up/down) into a gold JSONL file for ``qa eval``.

    Thumbs up with an answer -> ``answers: [answer]`` and ``doc_id`` = the first citation's source;
    thumbs up without an answer -> an unanswerable question (``answers: []``); thumbs down -> skipped
    (the right answer is unknown), or written to ``review`` with ``answers: null`` and the
    ``rejected_answer`` for a person to label. The question is the one the chat understood (standalone,
    follow-ups resolved). A question asked again keeps its latest verdict; a verdict "none" (a thumb
    clicked again in the chat) takes the question's earlier verdict back.
    """
    feedback, output = Path(feedback), Path(output)
    if output.suffix.lower() != ".jsonl":
        raise QAError(f"write the gold file as .jsonl, not '{output.name}'")
    if output.resolve() == feedback.resolve():
        raise QAError("the gold file would overwrite the feedback file; choose another output name")
    text = read_text(feedback, "feedback file")
    summary = FeedbackSummary()
    latest: dict[str, tuple[int, dict[str, Any]]] = {}
    warn = warn or (lambda m: None)
    for lineno, line in enumerate(lines(text), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            summary.bad += 1
            warn(f"{feedback.name} line {lineno} is not valid JSON ({e.msg}); skipped")
            continue
        question = (obj.get("understood_question") or obj.get("question") or "") if isinstance(obj, dict) else ""
        verdict = obj.get("verdict") if isinstance(obj, dict) else None
        if not isinstance(question, str) or not question.strip() or verdict not in FEEDBACK_VERDICTS:
            summary.bad += 1
            warn(f"{feedback.name} line {lineno} needs a 'question' and a verdict 'up', 'down' or 'none'; skipped")
            continue
        key = normalize_answer(question) or question.strip().lower()
        if verdict == "none":  # the chat's thumb clicked again: the verdict given before is taken back
            latest.pop(key, None)
            continue
        if key in latest:
            summary.duplicates += 1
        latest[key] = (lineno, obj)
    if not latest and not summary.bad:
        raise QAError(f"'{feedback}' holds no feedback; rate some answers in the chat first")
    gold_rows, review_rows = [], []
    for lineno, obj in sorted(latest.values(), key=lambda t: t[0]):
        question = " ".join(str(obj.get("understood_question") or obj.get("question")).split())
        answer = obj.get("answer")
        answer = answer if isinstance(answer, str) and answer.strip() else None
        citations = obj.get("citations") if isinstance(obj.get("citations"), list) else []
        source = citations[0].get("source") if citations and isinstance(citations[0], dict) else None
        row: dict[str, Any] = {"id": f"feedback-{lineno}", "question": question}
        if obj.get("question") and obj.get("question") != question:
            row["asked"] = obj["question"]
        if obj.get("time"):
            row["time"] = obj["time"]
        if obj["verdict"] == "down":
            summary.down += 1
            if review is not None:
                review_rows.append({**row, "answers": None, "rejected_answer": answer,
                                    **({"doc_id": source} if source else {})})
            continue
        if answer is None:
            summary.unanswerable += 1
            gold_rows.append({**row, "answers": []})
        else:
            summary.answered += 1
            gold_rows.append({**row, "answers": [answer], **({"doc_id": source} if source else {})})
    atomic_write(output, jsonl_bytes(gold_rows))
    if review is not None:
        summary.review = len(review_rows)
        atomic_write(Path(review), jsonl_bytes(review_rows))
    return summary


