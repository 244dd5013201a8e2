"""qa.distributed.batch: answering a question file on a local Ray cluster gives the single-machine rows."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from qa.batch import answer_batch, run_batch
from qa.cli import main
from qa.config import Settings
from qa.distributed.batch import QAFactory, RayBatchAnswerer
from qa.textio import read_questions

from .conftest import TOWNS, write_corpus

QUESTIONS = [
    *(f"Who was elected mayor of {t[0]}?" for t in TOWNS[:4]),
    f"When was {TOWNS[4][0]} founded?",
    "",                                          # an error row, not a failed run
    "What is the boiling point of mercury?",
    f"Which lake does {TOWNS[5][0]} sit on?",
    f"What festival does {TOWNS[6][0]} hold every summer?",
]


def _questions_file(path: Path) -> Path:
    path.write_text("".join(json.dumps({"id": f"q{i}", "question": q}) + "\n" for i, q in enumerate(QUESTIONS)),
                    encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


#: The reader's int8 inference quantises activations per batch, so a question's score moves in the third
#: decimal with the batch it is read in and the thread count (on one machine as well); answers and
#: citations must not move.
SCORE_TOLERANCE = 1e-2


def assert_same_rows(got: list[dict], want: list[dict]) -> None:
    """Same ids in the same order, the same answers and citations, scores within tolerance."""
    assert [r["id"] for r in got] == [r["id"] for r in want]
    for g, w in zip(got, want, strict=True):
        assert {k: v for k, v in g.items() if k != "score"} == {k: v for k, v in w.items() if k != "score"}
        assert (g["score"] is None) == (w["score"] is None)
        if g["score"] is not None:
            assert g["score"] == pytest.approx(w["score"], abs=SCORE_TOLERANCE)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, local_index):
    """The questions answered on one machine (qa batch without --ray)."""
    base = tmp_path_factory.mktemp("batch")
    questions = read_questions(_questions_file(base / "questions.jsonl"), warn=None).questions
    out = base / "answers.jsonl"
    run_batch(local_index, questions, out, batch_size=2, progress=False)
    return _rows(out)


@pytest.mark.slow
def test_qa_batch_ray_answers_like_one_machine_in_input_order(ray_cluster, tmp_path, reference, capsys):
    folder = write_corpus(tmp_path / "articles")
    questions = _questions_file(tmp_path / "questions.jsonl")
    out = tmp_path / "answers.jsonl"
    rc = main(["batch", str(questions), "-o", str(out), "--articles", str(folder), "--index", str(tmp_path / "index"),
               "--batch-size", "2", "-q", "--ray"])
    assert rc == 0, capsys.readouterr().err
    rows = _rows(out)
    assert_same_rows(rows, reference)
    assert rows[0]["answer"] == TOWNS[0][1] and rows[3]["answer"] == TOWNS[3][1]
    assert rows[5]["error"] and rows[5]["answer"] is None
    assert "9 questions" in capsys.readouterr().out
    # the index the driver built (its articles embedded on the cluster) serves the single-machine engine
    assert (tmp_path / "index" / "CURRENT").is_file()


@pytest.mark.slow
def test_qa_batch_ray_resumes_after_the_answers_already_written(ray_cluster, tmp_path, reference, local_index):
    # a run interrupted after three rows, the last one half-written
    partial = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in reference[:3]) + '{"id": "q3", "quest'
    questions = read_questions(_questions_file(tmp_path / "questions.jsonl"), warn=None).questions
    # resumed on one machine: the reference
    local_out = tmp_path / "local.jsonl"
    local_out.write_text(partial, encoding="utf-8")
    run_batch(local_index, questions, local_out, batch_size=2, progress=False, warn=None)
    out = tmp_path / "answers.jsonl"
    out.write_text(partial, encoding="utf-8")
    answerer = RayBatchAnswerer(settings=_settings(local_index), workers=2)
    summary = run_batch(None, questions, out, batch_size=2, progress=False, warn=None, answer_batches=answerer)
    assert summary.skipped == 3 and summary.answered + summary.no_answer + summary.errors == len(QUESTIONS) - 3
    rows = _rows(out)
    assert rows[:3] == reference[:3]
    assert_same_rows(rows, _rows(local_out))
    assert [r["answer"] for r in rows] == [r["answer"] for r in reference]
    # all answered: a rerun has nothing to do and never touches the cluster
    summary = run_batch(None, questions, out, batch_size=2, progress=False, warn=None,
                        answer_batches=lambda batches: pytest.fail("asked to answer again"))
    assert summary.skipped == len(QUESTIONS)


def _settings(qa) -> Settings:
    return Settings(articles_dir=qa.settings.articles_dir, index_dir=qa.settings.index_dir)


class KillOnceQA:
    """The worker's real QA, except that the first worker to answer a batch kills its own process."""

    def __init__(self, qa, marker: str) -> None:
        self.qa = qa
        self.marker = marker

    def ask_many(self, questions, k=None, since=None, until=None):
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return self.qa.ask_many(questions, k=k, since=since, until=until)
        os.write(fd, json.dumps(questions).encode())
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)


class KillOnceFactory:
    def __init__(self, settings: Settings, marker: Path) -> None:
        self.make = QAFactory(settings)
        self.marker = str(marker)

    def __call__(self):
        return KillOnceQA(self.make(), self.marker)


@pytest.mark.slow
def test_a_worker_killed_mid_batch_is_restarted_and_every_question_answered_once(ray_cluster, tmp_path, reference,
                                                                                  local_index):
    marker = tmp_path / "killed"
    questions = read_questions(_questions_file(tmp_path / "questions.jsonl"), warn=None).questions
    out = tmp_path / "answers.jsonl"
    answerer = RayBatchAnswerer(settings=_settings(local_index), workers=2,
                                make_qa=KillOnceFactory(_settings(local_index), marker))
    summary = run_batch(None, questions, out, batch_size=2, progress=False, warn=None, answer_batches=answerer)

    killed_on = json.loads(marker.read_text())
    assert killed_on and set(killed_on) <= set(QUESTIONS), "no worker was killed: the test did not test anything"
    assert summary.skipped == 0
    rows = _rows(out)
    assert len({r["id"] for r in rows}) == len(rows) == len(QUESTIONS)
    assert_same_rows(rows, reference)


def test_batch_worker_answers_like_answer_batch(local_index):
    """The actor's method is answer_batch over the worker's QA (checked without a cluster)."""
    from qa.distributed.batch import BatchWorker

    questions = read_questions(_questions_file(Path(local_index.settings.index_dir).parent / "q.jsonl"),
                               warn=None).questions[:3]
    worker = BatchWorker.__new__(BatchWorker)
    worker.qa = local_index
    assert worker.answer(questions, None) == answer_batch(local_index, questions)
