"""Ray stays optional: the single-machine path never imports it, and --ray without it says what to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from ..conftest import REPO, SEED_FILE


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600)


def test_importing_the_package_and_cli_does_not_import_ray():
    proc = _python("""
        import sys
        import qa, qa.cli, qa.engine, qa.batch, qa.store, qa.distributed
        qa.cli.build_parser().parse_args(["index", "--ray"])
        loaded = sorted(m for m in sys.modules if m == "ray" or m.startswith("ray."))
        assert not loaded, loaded
    """)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
def test_qa_index_and_ask_run_without_importing_ray(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / SEED_FILE.name).write_text(SEED_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    proc = _python("""
        import sys
        from qa.cli import main
        articles, index = sys.argv[1:3]
        assert main(["index", "--articles", articles, "--index", index, "-q"]) == 0
        assert main(["ask", "Who slipped out of Venezuela last week?", "--articles", articles, "--index", index]) == 0
        loaded = sorted(m for m in sys.modules if m == "ray" or m.startswith("ray."))
        assert not loaded, loaded
    """, str(folder), str(tmp_path / "index"))
    assert proc.returncode == 0, proc.stderr
    assert "Answer:" in proc.stdout


@pytest.mark.parametrize("command", [
    ["index", "--articles", "{articles}", "--index", "{index}", "--ray"],
    ["batch", "{questions}", "-o", "{out}", "--articles", "{articles}", "--index", "{index}", "--ray=auto"],
])
def test_ray_option_without_ray_installed_is_a_one_line_error(tmp_path, command):
    (tmp_path / "questions.txt").write_text("Who is Maduro?\n", encoding="utf-8")
    paths = {"articles": REPO / "seeds", "index": tmp_path / "index", "questions": tmp_path / "questions.txt",
             "out": tmp_path / "answers.jsonl"}
    argv = [part.format(**{k: str(v) for k, v in paths.items()}) for part in command]
    proc = _python("""
        import sys
        sys.modules["ray"] = None          # as if Ray were not installed: `import ray` raises ImportError
        from qa.cli import main
        sys.exit(main(sys.argv[1:]))
    """, *argv)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("qa: error: --ray needs Ray") and "pip install 'article-qa[ray]'" in lines[0]
    assert not (tmp_path / "index").exists() and not (tmp_path / "answers.jsonl").exists()


@pytest.mark.parametrize("command", [["index"], ["batch", "{questions}", "-o", "{out}"]])
def test_workers_below_one_is_refused_before_any_work(ray_module, tmp_path, capsys, command):
    from qa.cli import main

    (tmp_path / "questions.txt").write_text("Who is Maduro?\n", encoding="utf-8")
    argv = [p.format(questions=tmp_path / "questions.txt", out=tmp_path / "answers.jsonl") for p in command]
    rc = main([*argv, "--articles", str(REPO / "seeds"), "--index", str(tmp_path / "index"), "--ray", "--workers", "0"])
    assert rc == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "index").exists() and not (tmp_path / "answers.jsonl").exists()
