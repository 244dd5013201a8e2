from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from qa.cli import main
from qa.config import Settings, split_embedder
from qa.embedders import (
    BackendUnavailableError,
    Embedder,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    bundled_model_path,
    export_embedder,
    get_embedder,
)
from qa.engine import QA
from qa.errors import QAError

from .conftest import REPO


def test_bundled_model_loads_offline_and_embeds(embedder):
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert isinstance(embedder, Embedder)
    v = embedder.embed(["Guaido slipped out of Venezuela.", "The opposition leader left the country.",
                        "Arsenal won the cup final 3-1."])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.1  # related sentences are closer than unrelated ones
    assert embedder.embed([]).shape == (0, 384)


@pytest.fixture(scope="module")
def torch_embedder():
    """The bundled model on PyTorch: the reference the ONNX exports are held to."""
    return SentenceTransformerEmbedder("all-MiniLM-L6-v2")


def test_query_and_bulk_calls_agree(embedder):
    texts = [f"Sentence number {i} about the harbour." for i in range(20)]  # bulk path (>= 16 texts)
    bulk = embedder.embed(texts)
    single = np.vstack([embedder.embed([t]) for t in texts[:3]])  # one-thread query path
    assert np.allclose(bulk[:3], single, atol=1e-5)


def test_a_texts_onnx_vector_does_not_depend_on_the_other_texts_of_the_call(tmp_path):
    """Each text runs alone, so even int8 (activations quantised per run) gives a question the same
    vector asked alone or in a batch, and an article the same vector indexed alone or with others."""
    texts = TEXTS + [f"Sentence number {i} about the harbour." for i in range(20)]
    for quantize in (False, True):
        emb = OnnxEmbedder("all-MiniLM-L6-v2", quantize=quantize)
        bulk = emb.embed(texts)  # several at once, on every core
        assert np.array_equal(bulk[:3], np.vstack([emb.embed([t]) for t in texts[:3]]))
        assert np.array_equal(bulk[3:5], emb.embed(texts[3:5]))


def test_local_folder_model_is_swappable(tmp_path):
    path = bundled_model_path()
    local = get_embedder(path)
    assert local.name == path and local.dim == 384
    with pytest.raises(QAError, match="unknown embedder"):
        SentenceTransformerEmbedder("no-such-model-anywhere")


# ---------------------------------------------------------------- ONNX Runtime backend

EXPORT_SCRIPT = """
import sys
from pathlib import Path
from qa.embedders import bundled_model_path
from qa.embedders.onnx import exported_model
print(exported_model(bundled_model_path(), quantize=False, root=Path(sys.argv[1])))
"""

TEXTS = ["Guaido slipped out of Venezuela.", "The opposition leader left the country.",
         "Arsenal won the cup final 3-1.", "Shares in the bank fell 4% after the results. " * 12,
         "A fire destroyed three warehouses in the port of Brest on Tuesday night; no one was hurt. " * 6]


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory):
    """An ONNX cache filled by two processes exporting the same model at the same time."""
    root = tmp_path_factory.mktemp("onnx-cache")
    procs = [subprocess.Popen([sys.executable, "-c", EXPORT_SCRIPT, str(root)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=str(REPO)) for _ in range(2)]
    results = [p.communicate(timeout=900) for p in procs]
    return root, [p.returncode for p in procs], [out.strip() for out, _ in results]


@pytest.mark.slow
def test_two_processes_exporting_at_once_share_one_complete_export(onnx_cache):
    root, codes, folders = onnx_cache
    assert codes == [0, 0]
    assert folders[0] == folders[1]
    exported = [p for p in root.iterdir() if p.is_dir()]
    assert [str(p) for p in exported] == [folders[0]]  # one folder, no temporary leftovers
    assert {f.name for f in exported[0].iterdir()} == {"model.onnx", "tokenizer.json", "export.json"}


@pytest.mark.slow
def test_onnx_float32_vectors_match_pytorch(onnx_cache, torch_embedder, monkeypatch):
    monkeypatch.setenv("QA_CACHE_DIR", str(onnx_cache[0].parent / "unused"))
    onnx = OnnxEmbedder("all-MiniLM-L6-v2", cache_dir=onnx_cache[0])
    assert str(onnx.folder) == onnx_cache[2][0]  # reused, not exported again
    texts = TEXTS + [f"Sentence number {i} about the harbour." for i in range(20)]
    v, ref = onnx.embed(texts), torch_embedder.embed(texts)  # bulk path, texts of mixed lengths
    assert v.shape == ref.shape == (len(texts), 384) and v.dtype == np.float32
    assert np.allclose(v, ref, atol=1e-5)
    assert np.allclose(np.vstack([onnx.embed([t]) for t in TEXTS[:3]]), ref[:3], atol=1e-5)  # query path
    assert onnx.embed([]).shape == (0, 384) and onnx.dim == 384


@pytest.mark.slow
def test_onnx_int8_vectors_are_close_and_rank_alike(tmp_path, torch_embedder):
    int8 = OnnxEmbedder("all-MiniLM-L6-v2", quantize=True, cache_dir=tmp_path)
    assert int8.folder.name.startswith("model-int8-")
    v, ref = int8.embed(TEXTS), torch_embedder.embed(TEXTS)
    cos = (v * ref).sum(axis=1)
    assert cos.mean() > 0.99 and cos.min() > 0.98, cos
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.1  # related sentences still closer than unrelated ones


def test_backend_is_selected_by_settings_and_env(monkeypatch, tmp_path):
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    assert split_embedder("all-MiniLM-L6-v2+onnx-int8") == ("all-MiniLM-L6-v2", "onnx-int8")
    assert split_embedder("/models/a+b") == ("/models/a+b", "torch")
    assert isinstance(get_embedder("all-MiniLM-L6-v2"), SentenceTransformerEmbedder)
    onnx = get_embedder("all-MiniLM-L6-v2+onnx")
    assert isinstance(onnx, OnnxEmbedder) and not onnx.quantize and onnx.name == "all-MiniLM-L6-v2+onnx"
    monkeypatch.setenv("QA_EMBEDDER", "all-MiniLM-L6-v2+onnx-int8")
    settings = Settings(articles_dir=tmp_path, index_dir=tmp_path / "v")
    assert settings.embedder == "all-MiniLM-L6-v2+onnx-int8"
    qa = QA(settings=settings)
    assert isinstance(qa.embedder, OnnxEmbedder) and qa.embedder.quantize
    assert not (tmp_path / "cache").exists()  # nothing exported before the first embedding
    # float32 ONNX shares PyTorch's index; int8 vectors differ, so its index is a different one
    sig = {name: Settings(embedder=name).index_signature() for name in
           ("all-MiniLM-L6-v2", "all-MiniLM-L6-v2+onnx", "all-MiniLM-L6-v2+onnx-int8")}
    assert sig["all-MiniLM-L6-v2"] == sig["all-MiniLM-L6-v2+onnx"] != sig["all-MiniLM-L6-v2+onnx-int8"]
    assert qa.index.signature()["embedder"] == "all-MiniLM-L6-v2+onnx-int8"


def test_missing_onnxruntime_is_a_clear_error(monkeypatch, capsys, tmp_path, seeds_copy):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed
    with pytest.raises(BackendUnavailableError, match="needs onnxruntime.*pip install") as e:
        get_embedder("all-MiniLM-L6-v2+onnx")
    assert isinstance(e.value, QAError)
    monkeypatch.setenv("QA_EMBEDDER", "all-MiniLM-L6-v2+onnx-int8")
    code = main(["ask", "Who slipped out of Venezuela?", "--articles", str(seeds_copy), "--index", str(tmp_path / "v")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("qa: error: the ONNX embedder needs onnxruntime")
    assert err.strip().count("\n") == 0 and not (tmp_path / "v").exists()


def test_export_embedder_needs_no_export_for_pytorch_and_rejects_unknown_models():
    assert export_embedder("all-MiniLM-L6-v2") is None
    with pytest.raises(QAError, match="unknown embedder"):
        export_embedder("no-such-model-anywhere")


def test_importing_the_embedders_loads_no_model_runtime():
    code = ("import sys, qa.embedders; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'sentence_transformers', "
            "'transformers', 'onnxruntime', 'onnx'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(REPO), check=True)
    assert out.stdout.strip() == "[]"
