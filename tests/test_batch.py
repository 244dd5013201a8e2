"""qa batch: question files in, answers out (.jsonl/.csv), resumable, errors recorded per question."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.answer_file import AnswerWriter, answer_row
from qa.answerers.protocol import cite
from qa.batch import run_batch
from qa.cli import main
from qa.errors import QAError
from qa.textio import Question, answer_record, read_questions
from qa.types import Answer, Passage

from .conftest import REPO, SEED_FILE

GUAIDO_Q = "Who slipped out of Venezuela last week?"
NO_ANSWER_Q = "What is the boiling point of water?"
QUESTIONS = [
    GUAIDO_Q,
    "Who is Venezuela's opposition leader?",
    NO_ANSWER_Q,
    "What did Russia vow?",
    "Who is Russia's permanent representative to the United Nations?",
]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


class CountingQA:
    """The real engine, recording which questions it was asked (to prove resumed runs skip work)."""

    def __init__(self, qa, fail_on: str | None = None) -> None:
        self.qa = qa
        self.asked: list[str] = []
        self.batches: list[int] = []
        self.fail_on = fail_on
        self.settings = qa.settings

    def ask_many(self, questions, k=None, since=None, until=None):
        self.batches.append(len(questions))
        if self.fail_on in questions:
            raise RuntimeError("reader crashed")
        self.asked.extend(questions)
        return self.qa.ask_many(questions, k=k, since=since, until=until)

    def ask(self, question, k=None, since=None, until=None):
        if question == self.fail_on:
            raise RuntimeError("reader crashed on this one")
        self.asked.append(question)
        return self.qa.ask(question, k=k, since=since, until=until)


# ----------------------------------------------------------------------------------------- reading


def test_txt_ids_are_line_numbers_and_blank_lines_are_reported(tmp_path):
    warnings = []
    f = read_questions(_write(tmp_path / "q.txt", f"{GUAIDO_Q}\n\n  \n{NO_ANSWER_Q}  \n"), warn=warnings.append)
    assert [(q.id, q.question, q.line) for q in f.questions] == [("1", GUAIDO_Q, 1), ("4", NO_ANSWER_Q, 4)]
    assert warnings == ["line 2 is blank; skipped", "line 3 is blank; skipped"]


def test_csv_with_ids_duplicates_bom_and_header_case(tmp_path):
    text = "\ufeffID,Question,notes\nq1,Who?,x\nq2,\"Where, exactly?\",\nq1,When?,dup\n\n,Why?,\n"
    warnings = []
    f = read_questions(_write(tmp_path / "q.csv", text), warn=warnings.append)
    assert [(q.id, q.question) for q in f.questions] == [
        ("q1", "Who?"), ("q2", "Where, exactly?"), ("q1@line4", "When?"), ("4", "Why?")]
    assert any("line 4: id 'q1' already used on line 2" in w for w in warnings)
    assert any("line 5 is blank" in w for w in warnings)
    assert any("line 6 has no id; using the row number 4" in w for w in warnings)


def test_csv_without_id_column_uses_row_numbers(tmp_path):
    f = read_questions(_write(tmp_path / "q.csv", "question\nWho?\nWhat?\n"), warn=None)
    assert [(q.id, q.question) for q in f.questions] == [("1", "Who?"), ("2", "What?")]


def test_one_column_csv_keeps_a_question_with_an_unquoted_comma_whole(tmp_path):
    text = "question\nWho won, and by how much?\nWhen did the strike end?\nWhy, after all that, did they stop?\n"
    warnings = []
    f = read_questions(_write(tmp_path / "q.csv", text), warn=warnings.append)
    assert [q.question for q in f.questions] == [
        "Who won, and by how much?", "When did the strike end?", "Why, after all that, did they stop?"]
    assert warnings == ["q.csv line 2 has an unquoted ','; read the whole line as the question",
                        "q.csv line 4 has an unquoted ','; read the whole line as the question"]


def test_csv_row_with_more_fields_than_columns_is_reported(tmp_path):
    warnings = []
    f = read_questions(_write(tmp_path / "q.csv", "id,question\nq1,Who won, and how?\n"), warn=warnings.append)
    assert [(q.id, q.question) for q in f.questions] == [("q1", "Who won")]
    assert warnings == ["q.csv line 2 has 3 fields for 2 columns; put a field that holds ',' in double quotes"]


def test_jsonl_ids_default_to_line_numbers(tmp_path):
    text = json.dumps({"id": "a", "question": "Who?"}) + "\n\n" + json.dumps({"question": "What?"}) + "\n" + \
        json.dumps({"id": 7, "question": "When?"}) + "\n"
    warnings = []
    f = read_questions(_write(tmp_path / "q.jsonl", text), warn=warnings.append)
    assert [(q.id, q.question) for q in f.questions] == [("a", "Who?"), ("3", "What?"), ("7", "When?")]
    assert warnings == ["q.jsonl line 2 is blank; skipped"]


@pytest.mark.parametrize("name, text, message", [
    ("q.csv", "id,text\n1,Who?\n", "has no 'question' column (columns found: 'id', 'text')"),
    ("q.jsonl", '{"question": "Who?"}\n{"question": "What?"\n', "line 2 is not valid JSON"),
    ("q.jsonl", '{"question": "Who?"}\n{"q": "What?"}\n', "line 2 has no 'question' field"),
    ("q.jsonl", '{"question": 3}\n', "line 1: 'question' must be text"),
    ("q.txt", "", "holds no questions"),
    ("q.txt", "\n  \n", "holds no questions"),
    ("q.csv", "", "holds no questions"),
    ("q.csv", "question\n", "holds no questions"),
    ("q.xlsx", "Who?", "unknown suffix"),
])
def test_malformed_inputs_raise_clear_errors(tmp_path, name, text, message):
    with pytest.raises(QAError) as e:
        read_questions(_write(tmp_path / name, text), warn=None)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_missing_and_non_utf8_inputs(tmp_path):
    with pytest.raises(QAError, match="does not exist"):
        read_questions(tmp_path / "nope.txt")
    (tmp_path / "latin.txt").write_bytes("Qui a gagn\xe9 ?".encode("latin-1"))
    with pytest.raises(QAError, match="not UTF-8"):
        read_questions(tmp_path / "latin.txt")


@pytest.mark.parametrize("argv, message", [
    (["batch", "{tmp}/q.xlsx", "-o", "{tmp}/a.jsonl"], "unknown suffix"),
    (["batch", "{tmp}/q.txt", "-o", "{tmp}/a.txt"], "name the output .jsonl or .csv"),
    (["batch", "{tmp}/missing.txt", "-o", "{tmp}/a.jsonl"], "does not exist"),
    (["batch", "{tmp}/q.txt", "-o", "{tmp}/a.jsonl", "--batch-size", "0"], "--batch-size must be at least 1"),
    (["batch", "{tmp}/q.txt", "-o", "{tmp}/a.jsonl", "-k", "0"], "-k must be at least 1"),
])
def test_cli_errors_are_one_line(capsys, tmp_path, argv, message):
    _write(tmp_path / "q.txt", "Who?\n")
    _write(tmp_path / "q.xlsx", "Who?\n")
    code = main([a.format(tmp=tmp_path) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.startswith("qa: error:") and "Traceback" not in err


# ----------------------------------------------------------------------------------------- the output file


PASSAGE = "line one\nline \"two\", quoted\u2028 and a line separator"


def _row(i: int, passage: str = PASSAGE) -> dict:
    return {"id": str(i), "question": f"q{i}?", "answer": f"a{i}", "no_answer": False, "score": 0.5,
            "citations": [{"article_id": "x", "title": "T", "source": "s.txt", "start": 0, "end": 2,
                           "passage": passage, "passage_start": 0, "passage_end": len(passage)}], "error": None}


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_writer_cuts_a_half_written_row_and_reads_back_the_rest(tmp_path, suffix):
    out = tmp_path / f"a{suffix}"
    with AnswerWriter(out, warn=None) as w:
        w.write([_row(1), _row(2)])
        w.write([_row(3)])
    full = out.read_bytes()
    # a kill -9 in the middle of the last row: for CSV inside the quoted, multi-line passage
    cut = full.rindex(b"line \"") if suffix == ".csv" else len(full) - 20
    out.write_bytes(full[:cut])
    warnings = []
    with AnswerWriter(out, warn=warnings.append) as w:
        assert list(w.rows) == ["1", "2"]
        assert w.rows["2"]["citations"][0]["passage"] == PASSAGE
        assert w.rows["1"]["answer"] == "a1" and w.rows["1"]["score"] == 0.5
        w.write([_row(3)])
    assert any("half-written row" in m for m in warnings)
    with AnswerWriter(out, warn=None) as w:
        assert list(w.rows) == ["1", "2", "3"]
    if suffix == ".csv":
        rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
        assert [r["id"] for r in rows] == ["1", "2", "3"]
        assert rows[2]["passage"] == PASSAGE
    else:
        assert [json.loads(line)["id"] for line in out.read_text().split("\n")[:-1]] == ["1", "2", "3"]


def test_writer_refuses_foreign_files(tmp_path):
    out = _write(tmp_path / "a.jsonl", "not json\n{}\n")
    with pytest.raises(QAError, match="line 1 is not valid JSON"):
        AnswerWriter(out, warn=None)
    out = _write(tmp_path / "a.csv", "name,value\nx,1\n")
    with pytest.raises(QAError, match="does not have the columns qa batch writes"):
        AnswerWriter(out, warn=None)
    with AnswerWriter(out, overwrite=True, warn=None) as w:  # --overwrite starts afresh
        assert w.rows == {}


def test_second_writer_on_the_same_output_is_refused(tmp_path):
    out = tmp_path / "a.jsonl"
    with AnswerWriter(out, warn=None):
        with pytest.raises(QAError, match="another process is writing"):
            AnswerWriter(out, warn=None)


# ----------------------------------------------------------------------------------------- answering (real engine)


@pytest.mark.slow
def test_batch_round_trip_jsonl(seed_qa, seed_text, tmp_path):
    qs = read_questions(_write(tmp_path / "q.txt", "\n".join(QUESTIONS) + "\n"), warn=None).questions
    counting = CountingQA(seed_qa)
    summary = run_batch(counting, qs, tmp_path / "a.jsonl", batch_size=2, progress=False, warn=None)
    assert counting.batches == [2, 2, 1]  # answered in batches, not one by one
    rows = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert [r["question"] for r in rows] == QUESTIONS
    first = rows[0]
    assert "Guaido" in first["answer"] and first["no_answer"] is False and first["error"] is None
    assert 0.0 <= first["score"] <= 1.0
    c = first["citations"][0]
    assert c["source"] == SEED_FILE.name and c["title"] == "Russia Vows to Continue Supporting Maduro in Venezuela"
    assert seed_text[c["start"]:c["end"]] == first["answer"]
    assert seed_text[c["passage_start"]:c["passage_end"]] == c["passage"]
    none = rows[2]
    assert none["answer"] is None and none["no_answer"] is True and none["citations"] == [] and none["error"] is None
    assert summary.answered + summary.no_answer == 5 and summary.no_answer >= 1 and summary.errors == 0


@pytest.mark.slow
def test_failures_are_recorded_and_the_batch_goes_on(seed_qa, tmp_path):
    text = "id,question\n" + "".join(f"{i},\"{q}\"\n" for i, q in enumerate(
        [GUAIDO_Q, "", "x" * 2500, "What did Russia vow?", NO_ANSWER_Q], 1))
    qs = read_questions(_write(tmp_path / "q.csv", text), warn=None).questions
    counting = CountingQA(seed_qa, fail_on="What did Russia vow?")
    summary = run_batch(counting, qs, tmp_path / "a.csv", batch_size=8, progress=False, warn=None)
    rows = list(csv.DictReader((tmp_path / "a.csv").open(newline="", encoding="utf-8")))
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert "question is empty" in rows[1]["error"] and rows[1]["answer"] == ""
    assert "2500 characters" in rows[2]["error"]
    assert rows[3]["error"] == "RuntimeError: reader crashed on this one"
    # the batch raised, so its other questions were answered one by one, with their answers
    assert "Guaido" in rows[0]["answer"] and rows[0]["error"] == "" and rows[0]["source"] == SEED_FILE.name
    assert rows[4]["no_answer"] == "yes" and rows[4]["answer"] == "" and rows[4]["error"] == ""
    cits = json.loads(rows[0]["citations"])
    assert cits[0]["passage"] == rows[0]["passage"] and "\n" in rows[0]["passage"]
    assert (summary.errors, summary.answered + summary.no_answer) == (3, 2)


class CrashingReader:
    """The shipped reader, except that it crashes (as a torch error would) on questions naming ``trigger``."""

    def __init__(self, reader, trigger: str) -> None:
        self.reader, self.trigger = reader, trigger
        self.name, self.read_depth = reader.name, reader.read_depth

    def _check(self, question: str) -> None:
        if self.trigger in question:
            raise RuntimeError(f"reader crashed on {question!r}")

    def answer(self, question, passages):
        self._check(question)
        return self.reader.answer(question, passages)

    def answer_many(self, questions, passages_per_question):
        for q in questions:
            self._check(q)
        return self.reader.answer_many(questions, passages_per_question)

    def describe(self):
        return self.reader.describe()


@pytest.mark.slow
def test_questions_that_make_the_reader_fail_are_recorded_per_row(seed_qa, tmp_path):
    from qa import QA

    from .conftest import assert_citations_exact

    qa = QA(seed_qa.settings.articles_dir, seed_qa.settings.index_dir, embedder=seed_qa.embedder,
            answerer=CrashingReader(seed_qa.answerer, trigger="Russia"))
    questions = [GUAIDO_Q, "What did Russia vow?", "Who imposed sanctions on Friday?", "Is Russia supporting Maduro?",
                 NO_ANSWER_Q]
    src = _write(tmp_path / "q.jsonl", "".join(json.dumps({"id": f"q{i}", "question": q}) + "\n"
                                               for i, q in enumerate(questions)))
    out = tmp_path / "a.jsonl"
    summary = run_batch(qa, read_questions(src, warn=None).questions, out, batch_size=16, progress=False, warn=None)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [f"q{i}" for i in range(len(questions))]
    assert [r["question"] for r in rows] == questions
    for r in (rows[1], rows[3]):
        assert r["error"] == f"RuntimeError: reader crashed on {r['question']!r}"
        assert r["answer"] is None and r["citations"] == []
    assert "Guaido" in rows[0]["answer"] and rows[0]["error"] is None
    assert rows[2]["error"] is None and rows[2]["answer"] and rows[2]["citations"][0]["passage"]
    assert rows[4]["no_answer"] is True and rows[4]["error"] is None
    assert_citations_exact(qa.ask(GUAIDO_Q), qa)
    assert (summary.errors, summary.answered + summary.no_answer) == (2, 3)


@pytest.mark.slow
def test_resume_after_truncated_output_answers_each_id_once(seed_qa, tmp_path):
    inp = _write(tmp_path / "q.jsonl", "".join(json.dumps({"id": f"q{i}", "question": q}) + "\n"
                                               for i, q in enumerate(QUESTIONS)))
    qs = read_questions(inp, warn=None).questions
    out = tmp_path / "a.jsonl"
    run_batch(CountingQA(seed_qa), qs[:3], out, batch_size=2, progress=False, warn=None)
    before = out.read_text().splitlines()
    assert len(before) == 3
    # interrupted while writing the 3rd row: half of it on disk
    out.write_text(before[0] + "\n" + before[1] + "\n" + before[2][: len(before[2]) // 2])
    counting = CountingQA(seed_qa)
    warnings = []
    summary = run_batch(counting, qs, out, batch_size=2, progress=False, warn=warnings.append)
    assert counting.asked == QUESTIONS[2:]  # q0, q1 were not recomputed
    assert summary.skipped == 2 and any("half-written row" in w for w in warnings)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["q0", "q1", "q2", "q3", "q4"]
    assert rows[0] == json.loads(before[0]) and rows[1] == json.loads(before[1])
    # a third run has nothing left to do and never builds an engine
    summary = run_batch(lambda: pytest.fail("the engine was loaded"), qs, out, progress=False, warn=None)
    assert summary.skipped == 5 and "nothing to answer" in summary.line()


@pytest.mark.slow
def test_the_rate_is_of_answering_and_start_up_is_reported_apart(seed_qa, tmp_path):
    import time as _time

    qs = read_questions(_write(tmp_path / "q.txt", GUAIDO_Q + "\n" + NO_ANSWER_Q + "\n"), warn=None).questions

    def slow_start():
        _time.sleep(1.0)  # what loading the models costs, made visible
        return CountingQA(seed_qa)

    t0 = _time.perf_counter()
    summary = run_batch(slow_start, qs, tmp_path / "a.jsonl", progress=False, warn=None)
    wall = _time.perf_counter() - t0
    assert summary.startup_seconds >= 1.0
    assert summary.startup_seconds + summary.seconds <= wall + 0.01  # the two do not overlap
    line = summary.line()
    assert f"start-up {summary.startup_seconds:.1f} s" in line
    assert f"in {summary.seconds:.1f} s (" in line


@pytest.mark.slow
def test_cli_batch_csv_then_resume(capsys, monkeypatch, embedder, seeds_copy, tmp_path):
    monkeypatch.setattr("qa.engine.get_embedder", lambda name: embedder)
    inp = _write(tmp_path / "q.csv", "question,id\n\"" + GUAIDO_Q + "\",a\n\"" + NO_ANSWER_Q + "\",b\n")
    argv = ["batch", str(inp), "-o", str(tmp_path / "a.csv"), "--articles", str(seeds_copy),
            "--index", str(tmp_path / "v"), "-q"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "2 questions" in out and "1 answered, 1 without an answer" in out
    rows = list(csv.DictReader((tmp_path / "a.csv").open(newline="", encoding="utf-8")))
    assert [(r["id"], r["no_answer"]) for r in rows] == [("a", ""), ("b", "yes")]
    assert "Guaido" in rows[0]["answer"]
    assert main(argv) == 0
    assert "nothing to answer, all 2 questions" in capsys.readouterr().out
    assert len(list(csv.DictReader((tmp_path / "a.csv").open(newline="", encoding="utf-8")))) == 2


@pytest.mark.slow
def test_kill_9_mid_run_then_resume(seed_qa, seeds_copy, tmp_path):
    questions = [f"{q} ({i})" for i in range(2) for q in QUESTIONS]  # 10 distinct questions
    inp = _write(tmp_path / "q.txt", "\n".join(questions) + "\n")
    out = tmp_path / "a.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa", "batch", str(inp), "-o", str(out), "--articles", str(seeds_copy),
         "--index", str(tmp_path / "v"), "--batch-size", "1", "-q"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 2:
            break
        time.sleep(0.05)
    killed = proc.poll() is None
    if killed:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert out.exists(), proc.stderr.read().decode()
    proc.stderr.close()
    done_before = [json.loads(line)["id"] for line in out.read_bytes().split(b"\n")[:-1]]
    assert done_before, "nothing was written before the kill"
    qs = read_questions(inp, warn=None).questions
    counting = CountingQA(seed_qa)
    run_batch(counting, qs, out, batch_size=8, progress=False, warn=None)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [str(i) for i in range(1, 11)]  # each id once, in input order
    asked = set(counting.asked)
    assert not asked & {questions[int(i) - 1] for i in done_before}  # answered rows were not recomputed
    assert len(counting.asked) == 10 - len(done_before)
    assert all(r["error"] is None for r in rows)
    assert "Guaido" in rows[0]["answer"]
    if killed:
        assert len(done_before) < 10


def test_a_row_is_a_projection_of_the_answer_record():
    """One serialisation of an answer (qa.textio.answer_record); the batch row keeps its answer, score and
    citations (without the citation's scores) in the row's own order."""
    text = "Guaido went to Colombia."
    p = Passage(0, "a1", "Title", "a.txt", 10, 10 + len(text), text, 1.0, 1, date="2024-03-12", date_source="dateline")
    answer = Answer("Where did Guaido go?", "Colombia", 0.71234567, [cite(p, 15, 23, 0.7)], [p])
    record = answer_record(answer)
    row = answer_row(Question("q1", "Where did he go?", 1), answer)
    assert list(row) == ["id", "question", "answer", "no_answer", "score", "citations", "error", "alternatives"]
    assert row["answer"] == record["answer"] == "Colombia" and row["no_answer"] is False
    assert row["score"] == 0.712346 and row["error"] is None
    scores = ("score", "passage_dense_score", "span_score")
    assert row["citations"] == [{k: v for k, v in c.items() if k not in scores} for c in record["citations"]]
    assert row["citations"][0] == {"article_id": "a1", "title": "Title", "source": "a.txt", "start": 25, "end": 33,
                                   "passage": text, "passage_start": 10, "passage_end": 10 + len(text),
                                   "date": "2024-03-12", "date_source": "dateline", "text": "Colombia"}
    assert row["alternatives"] == record["alternatives"] == []


def test_single_machine_batch_knows_nothing_of_ray():
    code = ("import sys, qa.batch, qa.answer_file, qa.textio; "
            "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith(('ray.', 'qa.distributed'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr


def test_csv_rows_end_with_the_first_citation_s_date_and_an_older_file_resumes_in_its_own_columns(tmp_path):
    from qa.answer_file import CSV_COLUMNS, CSV_COLUMNS_DATED, CSV_COLUMNS_UNDATED

    assert CSV_COLUMNS[:len(CSV_COLUMNS_UNDATED)] == CSV_COLUMNS_UNDATED  # the old columns, unchanged, first
    assert CSV_COLUMNS_DATED[len(CSV_COLUMNS_UNDATED):] == ["date", "date_source"]
    assert CSV_COLUMNS == [*CSV_COLUMNS_DATED, "alternatives"]
    text = "Guaido went to Colombia."
    p = Passage(0, "a1", "Title", "a.txt", 10, 10 + len(text), text, 1.0, 1, date="2023-11-14", date_source="file time")
    row = answer_row(Question("q1", "Where did he go?", 1), Answer("Where?", "Colombia", 0.7, [cite(p, 15, 23)], [p]))
    assert (row["citations"][0]["date"], row["citations"][0]["date_source"]) == ("2023-11-14", "file time")
    out = tmp_path / "a.csv"
    with AnswerWriter(out, warn=None) as w:
        w.write([row, _row(2)])
    rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    assert (rows[0]["date"], rows[0]["date_source"]) == ("2023-11-14", "file time")
    assert (rows[1]["date"], rows[1]["date_source"]) == ("", "")  # a citation without a date
    with AnswerWriter(out, warn=None) as w:  # read back: the date travels in the citations column
        assert w.rows["q1"]["citations"][0]["date"] == "2023-11-14"

    old = tmp_path / "old.csv"  # begun by a version before dates
    old.write_text(",".join(CSV_COLUMNS_UNDATED) + "\n" + ",".join(
        ["1", "q1?", "a1", "", "0.5000", "x", "T", "s.txt", "0", "2", "pa", "", ""]) + "\n", encoding="utf-8")
    with AnswerWriter(old, warn=None) as w:
        assert list(w.rows) == ["1"]
        w.write([{**row, "id": "2"}])
    rows = list(csv.DictReader(old.open(newline="", encoding="utf-8")))
    assert list(rows[0]) == CSV_COLUMNS_UNDATED and [r["id"] for r in rows] == ["1", "2"]
    assert json.loads(rows[1]["citations"])[0]["date"] == "2023-11-14"  # still there, in the citations
