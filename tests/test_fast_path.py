"""The fast path is the default: answering from an existing index runs on ONNX Runtime and ``tokenizers``
and never imports torch, sentence-transformers or transformers (each costs seconds and hundreds of MB);
``qa prepare`` exports the models ahead of use. Checked in fresh processes, where ``sys.modules`` tells
the truth."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .conftest import REPO

HEAVY = ("torch", "sentence_transformers", "transformers")

PREPARE_AND_INDEX = """
import sys
from qa.prepare import prepare
from qa import QA
prepare()                                   # what make install does
QA(sys.argv[1], sys.argv[2]).refresh()      # an existing, up-to-date index
"""

ASK = """
import json, sys
import qa
answer = qa.QA(sys.argv[1], sys.argv[2]).ask("Who slipped out of Venezuela last week?")
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[3].split(",")))
print(json.dumps({"text": answer.text, "heavy": heavy}))
"""

CLI_ASK = """
import json, sys
from qa.cli import main
code = main(["ask", "Who slipped out of Venezuela last week?", "--articles", sys.argv[1], "--index", sys.argv[2], "-q"])
print(json.dumps({"code": code, "heavy": sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[3].split(",")))}))
"""


def _run(code: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("QA_EMBEDDER", "QA_READER_BACKEND", "QA_ANSWERER")}
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.fixture(scope="module")
def prepared_seed_index(tmp_path_factory):
    import shutil

    base = tmp_path_factory.mktemp("fastpath")
    shutil.copytree(REPO / "seeds", base / "articles")
    _run(PREPARE_AND_INDEX, str(base / "articles"), str(base / "index"))
    return base / "articles", base / "index"


@pytest.mark.slow
def test_ask_imports_no_torch_sentence_transformers_or_transformers(prepared_seed_index):
    articles, index = prepared_seed_index
    res = json.loads(_run(ASK, str(articles), str(index), ",".join(HEAVY)).strip().splitlines()[-1])
    assert res["text"] and "Guaido" in res["text"]
    assert res["heavy"] == []


@pytest.mark.slow
def test_qa_ask_command_imports_none_of_them_either(prepared_seed_index, capfd):
    articles, index = prepared_seed_index
    out = _run(CLI_ASK, str(articles), str(index), ",".join(HEAVY + ("langchain_text_splitters", "gradio")))
    res = json.loads(out.strip().splitlines()[-1])
    assert res == {"code": 0, "heavy": []}
    assert "Answer: " in out and "Guaido" in out


def test_defaults_run_on_onnx_runtime(monkeypatch):
    from qa.config import Settings, split_embedder
    from qa.reader.backends import DEFAULT_BACKEND

    monkeypatch.delenv("QA_EMBEDDER", raising=False)
    assert split_embedder(Settings().embedder)[1].startswith("onnx")
    assert DEFAULT_BACKEND.startswith("onnx")


def test_prepare_is_a_command_and_a_make_step():
    from qa.cli import COMMANDS, build_parser

    assert "prepare" in COMMANDS and build_parser().parse_args(["prepare"]).command == "prepare"
    makefile = (REPO / "Makefile").read_text()
    install = makefile[makefile.index("$(STAMP): pyproject.toml"):makefile.index("touch $(STAMP)")]
    assert "qa prepare" in install


def test_finding_an_export_imports_neither_torch_nor_onnx(tmp_path):
    """The cache key comes from package metadata and file stats: a process with its exports in place
    never imports the exporters."""
    code = """
import sys
from pathlib import Path
from qa.runtime.onnx import source_key
source_key([Path(sys.argv[1])], "x", 1)
print(sorted({m.split(".")[0] for m in sys.modules} & {"torch", "onnx", "transformers"}))
"""
    f = tmp_path / "w.bin"
    f.write_bytes(b"weights")
    assert _run(code, str(f)).strip() == "[]"


def test_the_bm25_index_saved_with_the_generation_is_loaded_without_tokenising(tmp_path, embedder, monkeypatch):
    """Opening an index built BM25 from every chunk's text; the update that writes a generation now saves
    its BM25 index in it, and readers load that, with the same results, without tokenising anything."""
    import qa.lexical
    import qa.store.bm25
    from qa.articles import load_articles
    from qa.config import Settings
    from qa.encoding import chunk_texts
    from qa.lexical import LexicalIndex
    from qa.store import ChunkIndex

    from .conftest import write_articles

    folder = write_articles(tmp_path / "a", {
        "guaido.txt": "Guaido leaves\n\nGuaido slipped out of Venezuela to join aid convoys. " * 3,
        "russia.txt": "Russia backs Maduro\n\nRussia backs Maduro at the Security Council.",
        "kremlin.txt": "Kremlin\n\nThe Kremlin spokesman said Moscow opposed any intervention.",
        "cup.txt": "Cup final\n\nArsenal won the cup final."})
    settings = Settings(articles_dir=folder, index_dir=tmp_path / "v", chunk_size=120, chunk_overlap=20)
    ChunkIndex(settings.index_dir, settings, embedder).sync(load_articles(folder).articles)
    queries = ["Who slipped out of Venezuela?", "What did the Kremlin spokesman say?", "zzz unknown words"]

    def never(texts):
        raise AssertionError("a saved index must not need tokenising")

    monkeypatch.setattr(qa.lexical, "tokenize", never)
    monkeypatch.setattr(qa.store.bm25, "tokenize", never)
    snap = ChunkIndex(settings.index_dir, settings, embedder).load()  # another process: a reader
    assert {p.name for p in (settings.index_dir / snap.generation).glob("bm25.*")} == {
        "bm25.data.npy", "bm25.indices.npy", "bm25.indptr.npy", "bm25.vocab.json"}
    monkeypatch.undo()
    built = LexicalIndex(chunk_texts(snap.articles, snap.chunks), settings.bm25_k1, settings.bm25_b)
    assert snap.lexical.size == built.size == len(snap.chunks)
    assert snap.lexical.search(queries, 5) == built.search(queries, 5)
    assert built.search(queries, 5)[0] and built.search(queries, 5)[2] == []
