from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from qa.cli import main

from .conftest import REPO


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_index_then_ask_json(capsys, seeds_copy, tmp_path):
    code, out, err = _run(capsys, "index", "--articles", str(seeds_copy), "--index", str(tmp_path / "v"))
    assert code == 0 and "1 added" in out
    code, out, _ = _run(capsys, "index", "--articles", str(seeds_copy), "--index", str(tmp_path / "v"))
    assert code == 0 and "up to date" in out
    code, out, _ = _run(capsys, "ask", "Who slipped out of Venezuela last week?", "--articles", str(seeds_copy),
                        "--index", str(tmp_path / "v"), "--json", "-k", "3")
    assert code == 0
    d = json.loads(out)
    assert "Guaido" in d["answer"] and len(d["passages"]) == 3
    c = d["citations"][0]
    text = (seeds_copy / c["source"]).read_text(encoding="utf-8")
    assert text[c["start"]:c["end"]] == d["answer"]
    # the seed article gives no date: its file's modification time, marked as such, in citations and passages
    mtime = os.stat(seeds_copy / c["source"]).st_mtime
    saved = datetime.fromtimestamp(mtime, UTC).date().isoformat()
    assert (c["date"], c["date_source"]) == (saved, "file time")
    assert {(p["date"], p["date_source"]) for p in d["passages"]} == {(saved, "file time")}


def test_ask_prints_answer_and_citation(capsys, seeds_copy, tmp_path):
    code, out, _ = _run(capsys, "ask", "Who slipped out of Venezuela last week?", "--articles", str(seeds_copy),
                        "--index", str(tmp_path / "v"))
    assert code == 0
    assert out.startswith("Answer: ") and "Guaido" in out.splitlines()[0]
    assert "[1] Russia Vows to Continue Supporting Maduro in Venezuela · " in out
    line = next(line for line in out.splitlines() if line.startswith("[1] "))
    assert re.search(r" · \d{4}-\d{2}-\d{2} \(file date\) \(000_1b8626a86de8c0dd\.txt, article ", line), line


def test_no_answer_output(capsys, seeds_copy, tmp_path):
    code, out, _ = _run(capsys, "ask", "What is the boiling point of water?", "--articles", str(seeds_copy),
                        "--index", str(tmp_path / "v"))
    assert code == 0 and "do not contain" in out and "Closest passages:" in out


@pytest.mark.parametrize("argv, message", [
    (["ask", "   "], "the question is empty"),
    (["ask", "Who?", "--articles", "/nonexistent/folder"], "does not exist"),
    (["ask", "Who?", "-k", "0"], "-k must be at least 1"),
])
def test_errors_are_one_line_without_traceback(capsys, tmp_path, argv, message):
    argv = [*argv, "--index", str(tmp_path / "v")]
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert err.strip().count("\n") == 0 and err.startswith("qa: error:")


def test_folder_without_articles_and_unreadable_file(capsys, tmp_path):
    (tmp_path / "a").mkdir()
    code, _, err = _run(capsys, "index", "--articles", str(tmp_path / "a"), "--index", str(tmp_path / "v"))
    assert code == 2 and "no readable articles" in err
    (tmp_path / "a" / "bad.txt").write_bytes(b"caf\xe9 broken \xc3")
    (tmp_path / "a" / "good.txt").write_text("Harbour fire\n\nA fire destroyed warehouses in Brest.")
    code, out, err = _run(capsys, "index", "--articles", str(tmp_path / "a"), "--index", str(tmp_path / "v"))
    assert code == 0 and "1 added" in out and "bad.txt" in err


@pytest.mark.slow
def test_console_entry_points_run_without_traceback(tmp_path):
    env = {**os.environ, "QA_INDEX": str(tmp_path / "v")}
    out = subprocess.run([sys.executable, "-m", "qa", "--help"], capture_output=True, text=True, cwd=REPO, env=env)
    assert out.returncode == 0 and "index" in out.stdout and "ask" in out.stdout
    out = subprocess.run([sys.executable, "-m", "qa", "ask", ""], capture_output=True, text=True, cwd=REPO, env=env)
    assert out.returncode == 2 and "Traceback" not in out.stderr and "empty" in out.stderr
    out = subprocess.run([sys.executable, "-m", "qa", "ask", "--help"], capture_output=True, text=True, cwd=REPO,
                         env=env)
    assert "--json" in out.stdout and "--articles" in out.stdout and "-k N" in out.stdout


MODULES_AFTER = """
import json, sys
from qa.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def _modules_after(argv: list[str], env: dict) -> tuple[int, set[str]]:
    """Exit code and top-level modules loaded by a new process that ran ``qa ARGV``."""
    out = subprocess.run([sys.executable, "-c", MODULES_AFTER, *argv], capture_output=True, text=True, cwd=REPO,
                         env=env, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    d = json.loads(out.stdout.strip().splitlines()[-1])
    return d["code"], set(d["modules"])


def test_importing_the_cli_loads_no_library():
    code = "import sys, qa.cli; print(sorted(m for m in ('numpy', 'torch', 'gradio', 'qa.engine') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr


@pytest.mark.slow
def test_index_and_ask_import_only_what_they_need(seeds_copy, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("QA_EMBEDDER", None)
    folders = ["--articles", str(seeds_copy), "--index", str(tmp_path / "v"), "-q"]
    code, modules = _modules_after(["index", *folders], env)
    assert code == 0 and {"faiss", "onnxruntime"} <= modules  # it did embed (the default ONNX embedder) and write
    assert not modules & {"gradio", "ui", "fastapi", "uvicorn", "ray"}
    code, modules = _modules_after(["ask", "Who slipped out of Venezuela last week?", *folders], env)
    assert code == 0 and {"faiss", "bm25s"} <= modules
    assert not modules & {"gradio", "ui", "fastapi", "uvicorn", "ray", "trafilatura", "torch", "transformers",
                          "sentence_transformers", "langchain_text_splitters"}


@pytest.mark.parametrize("name", ["bogus-model", "bogus-model+onnx-int8"])
def test_an_unknown_embedder_is_a_one_line_error(capsys, monkeypatch, seeds_copy, tmp_path, name):
    monkeypatch.setenv("QA_EMBEDDER", name)
    code, out, err = _run(capsys, "ask", "Who is Maduro?", "--articles", str(seeds_copy),
                          "--index", str(tmp_path / "v"))
    assert code != 0 and out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith("qa: error: unknown embedder 'bogus-model' (from QA_EMBEDDER") and "Traceback" not in err
    assert not (tmp_path / "v").exists()  # nothing written


@pytest.mark.parametrize(("var", "value", "says"), [
    ("QA_READER_BACKEND", "onnx-fp32", "unknown reader backend 'onnx-fp32' (from QA_READER_BACKEND"),
    ("QA_ANSWERER", "readr", "unknown answerer 'readr' (from QA_ANSWERER): use one of auto, reader, sentence"),
    ("QA_QUERY_THREADS", "two", "QA_QUERY_THREADS='two' is not a number of threads"),
])
def test_a_bad_setting_in_the_environment_is_a_one_line_error(capsys, monkeypatch, seeds_copy, tmp_path, var, value,
                                                              says):
    monkeypatch.setenv(var, value)
    code, out, err = _run(capsys, "ask", "Who is Maduro?", "--articles", str(seeds_copy),
                          "--index", str(tmp_path / "v"))
    assert code != 0 and "Answer" not in out and "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith(f"qa: error: {says}")


def test_prepare_with_an_unknown_reader_backend_is_a_one_line_error_before_any_export(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("QA_READER_BACKEND", "onnx-fp32")
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    code, out, err = _run(capsys, "prepare")
    assert code != 0 and "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith("qa: error: unknown reader backend 'onnx-fp32'")
    assert not (tmp_path / "cache").exists()  # nothing exported


def test_index_skips_each_bad_file_with_one_line_and_indexes_the_rest(capsys, seeds_copy, tmp_path):
    """The fault-injection cases: a named pipe, nested JSON (.json and .jsonl), a lone surrogate escape, a
    link to /dev/zero. None hangs or ends in a traceback; each is named on one line; the rest is indexed."""
    os.mkfifo(seeds_copy / "pipe.txt")
    (seeds_copy / "nested.json").write_text("[" * 100_000 + "]" * 100_000)
    (seeds_copy / "nested.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n")
    (seeds_copy / "surrogate.json").write_text('{"title": "Odd", "text": "A body with \\ud800 inside."}')
    (seeds_copy / "zero.txt").symlink_to("/dev/zero")
    code, out, err = _run(capsys, "index", "--articles", str(seeds_copy), "--index", str(tmp_path / "v"))
    assert code == 0 and "2 added" in out, (out, err)  # the seed article and the surrogate one
    assert "Traceback" not in err
    skipped = [line for line in err.splitlines() if line.startswith("skipped: ")]
    assert sorted(line.split()[1] for line in skipped) == ["nested.json", "nested.jsonl", "pipe.txt", "zero.txt"]


def test_ask_prints_the_confidence_in_words_and_labels_an_evidence_sentence(capsys, seeds_copy, tmp_path):
    from qa.commands import format_answer
    from qa.types import Answer, confidence_level

    span = Answer("Who slipped out?", "Guaido", 0.93)
    evidence = Answer("Why did he leave?", "He left to join the aid convoys.", 0.55, kind="evidence")
    assert format_answer(span).splitlines()[:2] == ["Answer: Guaido", "Confidence: High (0.93)"]
    assert format_answer(evidence).splitlines()[:2] == [
        "From the article: He left to join the aid convoys.", "Confidence: Medium (0.55)"]
    assert confidence_level(0.2) == "Low"
    # a Low span is more often wrong than right: offered as a lead, not as the answer
    assert format_answer(Answer("Who slipped out?", "Guaido", 0.31)).splitlines()[:2] == [
        "Possible answer: Guaido", "Confidence: Low (0.31)"]


def test_the_citation_line_shows_the_date_and_says_when_it_is_only_the_file_date():
    from qa.answerers.protocol import cite
    from qa.commands import format_answer
    from qa.types import Answer, Passage

    text = "LONDON, March 12 (Reuters) - Guaido went to Colombia."
    dated = Passage(0, "a1", "Guaido leaves", "a.txt", 0, len(text), text, 1.0, 0, date="2024-03-12",
                    date_source="dateline")
    saved = Passage(0, "b2", "Guaido abroad", "b.txt", 0, len(text), text, 0.9, 1, date="2024-05-01",
                    date_source="file time")
    s = text.index("Colombia")
    answer = Answer("Where did Guaido go?", "Colombia", 0.9, [cite(dated, s, s + 8), cite(saved, s, s + 8)],
                    [dated, saved])
    lines = format_answer(answer).splitlines()
    assert lines[2] == f"[1] Guaido leaves · 2024-03-12 (a.txt, article a1, chars {s}-{s + 8})"
    assert lines[4] == f"[2] Guaido abroad · 2024-05-01 (file date) (b.txt, article b2, chars {s}-{s + 8})"
    closest = format_answer(Answer("Who?", None, 0.1, passages=[dated, saved], message="No answer."))
    assert "  - Guaido leaves · 2024-03-12 [a.txt, chars 0-" in closest
    assert "  - Guaido abroad · 2024-05-01 (file date) [b.txt, chars 0-" in closest


def _show_folder(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "storm.txt").write_text("Storm hits coast\n\nLONDON, March 12 (Reuters) - A storm hit the coast.\n")
    (folder / "feed.jsonl").write_text(json.dumps({"id": "v1", "title": "Vote in Delta", "published": "2023-05-04",
                                                   "text": "Voters in Delta chose a new mayor."}) + "\n")
    (folder / "note.txt").write_text("Plain note\n\nNothing dated here.\n")
    for name in ("storm.txt", "feed.jsonl", "note.txt"):
        os.utime(folder / name, (1_700_000_000, 1_700_000_000))  # 2023-11-14 UTC
    return folder


def test_show_prints_an_article_with_its_title_date_source_and_text(capsys, tmp_path):
    from qa.articles import article_id

    folder = _show_folder(tmp_path)
    where = ["--articles", str(folder), "--index", str(tmp_path / "v"), "-q"]
    code, out, err = _run(capsys, "show", article_id("storm.txt"), *where)
    assert code == 0, err
    assert out.splitlines()[:4] == ["Title:  Storm hits coast", "Date:   2023-03-12 (from its dateline)",
                                    "Source: storm.txt", f"Id:     {article_id('storm.txt')}"]
    assert out.rstrip("\n").endswith("Storm hits coast\n\nLONDON, March 12 (Reuters) - A storm hit the coast.")
    code, out, _ = _run(capsys, "show", "feed.jsonl#v1", *where)  # a source path works too
    assert code == 0 and "Date:   2023-05-04 (from the article's metadata)" in out and "Title:  Vote in Delta" in out
    code, out, _ = _run(capsys, "show", article_id("note.txt"), *where)
    assert code == 0
    assert "Date:   2023-11-14 (file date: when the file was last modified; the article gives none)" in out


def test_show_of_an_unknown_id_is_one_line_naming_close_matches_or_how_to_find_ids(capsys, tmp_path):
    from qa.articles import article_id

    folder = _show_folder(tmp_path)
    where = ["--articles", str(folder), "--index", str(tmp_path / "v")]
    code, out, err = _run(capsys, "show", article_id("storm.txt")[:6], *where)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("qa: error: no article ") and f"close matches: {article_id('storm.txt')} (storm.txt)" in err
    code, out, err = _run(capsys, "show", "feed.jsonl", *where)
    assert code == 2 and "close matches: feed.jsonl#v1" in err
    code, out, err = _run(capsys, "show", "zzzzzzzz", *where)
    assert code == 2 and err.count("\n") == 1 and "qa ask --json" in err and "Traceback" not in err


def test_find_article_by_id_source_or_a_duplicate_s_path_and_the_duplicates_are_shown():
    from qa.commands import find_article, format_article
    from qa.types import Article

    a = Article("a1b2c3", "Storm", "Storm\n\nA storm hit.", "storm.txt", "h", ("copy/storm.txt",), "2024-03-12",
                "metadata")
    arts = {a.id: a}
    assert find_article(arts, "a1b2c3") is find_article(arts, "storm.txt") is find_article(arts, "copy/storm.txt") is a
    out = format_article(a)
    assert out.splitlines() == ["Title:  Storm", "Date:   2024-03-12 (from the article's metadata)",
                                "Source: storm.txt", "Id:     a1b2c3", "Also:   copy/storm.txt", "", "Storm", "",
                                "A storm hit."]
