"""The embedder run by ONNX Runtime: the bundled sentence-transformers model exported to ONNX once, locally.

    from qa.embedders import get_embedder
    emb = get_embedder("all-MiniLM-L6-v2+onnx-int8")      # or "+onnx" (float32)
    vectors = emb.embed(["Who is Venezuela's opposition leader?"])   # float32, shape (1, 384)

The export (``qa prepare`` at install, else the first use) traces the PyTorch weights (transformer, mean
pooling and L2 normalisation in one graph), fuses each layer's attention with ONNX Runtime's transformer
optimiser and, for ``int8``, quantises the weights (:func:`qa.runtime.onnx.export_transformer`). It is kept
in ``embedder-onnx/`` of the model cache (:mod:`qa.runtime.onnx`; never inside the installed package).
Embedding imports only onnxruntime and tokenizers: neither torch nor sentence-transformers.

Needs ``onnxruntime`` and, to export, ``onnx`` and torch (dependencies of the package, pinned in
pyproject.toml).
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.embedders.models import BUNDLED_MODELS, model_path
from qa.errors import QAError
from qa.runtime.onnx import cached_export, export_transformer, new_session, source_key
from qa.runtime.threads import SMALL_CALL, run_each, threads_for

EXPORT_VERSION = 2  # bump when the export changes: cached exports of older versions are not reused
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'onnxruntime==1.32.0' 'onnx==1.23.2' (both are dependencies of article-qa)"


class BackendUnavailableError(QAError, ImportError):
    """The ONNX backend's libraries are not installed."""


def require_onnxruntime():
    """The ``onnxruntime`` module, or a one-line error saying how to install it."""
    try:
        import onnxruntime
    except ImportError as e:
        raise BackendUnavailableError(
            f"the ONNX embedder needs onnxruntime, which is not installed: {INSTALL_HINT}; "
            "or use the PyTorch embedder (QA_EMBEDDER=all-MiniLM-L6-v2)"
        ) from e
    return onnxruntime


def _check_supported(model_path: Path) -> None:
    """The export covers Transformer + mean pooling (+ Normalize); refuse anything else clearly."""
    modules = json.loads((model_path / "modules.json").read_text()) if (model_path / "modules.json").exists() else []
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    pooling = model_path / "1_Pooling" / "config.json"
    mean = not pooling.exists() or json.loads(pooling.read_text()).get("pooling_mode_mean_tokens", False)
    known = all(k in ("Transformer", "Pooling", "Normalize") for k in kinds)
    if not (model_path / TOKENIZER_FILE).exists() or not known or not mean:
        raise ValueError(
            f"the ONNX backend supports mean-pooled sentence-transformers models with a tokenizer.json; "
            f"'{model_path}' is not one: use its PyTorch embedder (drop the '+onnx' suffix)"
        )


def _weights_file(model_path: Path) -> Path:
    return next((model_path / n for n in ("model.safetensors", "pytorch_model.bin") if (model_path / n).exists()),
                model_path / "config.json")


def exported_model(model_path: str | Path, quantize: bool, root: Path | None = None) -> Path:
    """The folder holding ``model.onnx`` and ``tokenizer.json`` for ``model_path``, exported on first use
    (:func:`qa.runtime.onnx.cached_export`: safe when several processes ask at once)."""
    model_path = Path(model_path)
    _check_supported(model_path)
    key = source_key([_weights_file(model_path)], "embedder", EXPORT_VERSION, quantize)
    return cached_export(
        "embedder-onnx", f"{model_path.name or 'model'}-{'int8' if quantize else 'fp32'}", key,
        lambda folder: _export_into(model_path, folder, quantize),
        what=f"the embedder{' (int8)' if quantize else ''}", root=root,
    )


def _export_into(model_path: Path, folder: Path, quantize: bool) -> dict:
    require_onnxruntime()
    export_transformer(lambda: _pooled_model(model_path), folder / MODEL_FILE, inputs=INPUTS, outputs=("embedding",),
                       config=model_path / "config.json", quantize=quantize)
    shutil.copyfile(model_path / TOKENIZER_FILE, folder / TOKENIZER_FILE)
    return {"model": str(model_path), "quantize": quantize, "export_version": EXPORT_VERSION,
            "max_seq_length": _max_seq_length(model_path)}


def _max_seq_length(model_path: Path) -> int:
    cfg = model_path / "sentence_bert_config.json"
    return int(json.loads(cfg.read_text()).get("max_seq_length", 256)) if cfg.exists() else 256


def _pooled_model(model_path: Path):
    """The transformer with mean pooling and L2 normalisation, as one float32 PyTorch module."""
    import torch
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            h = self.model(input_ids=input_ids, attention_mask=attention_mask,
                           token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    # eager attention traces to the MatMul/Softmax pattern ONNX Runtime fuses (SDPA's does not fuse)
    model = AutoModel.from_pretrained(str(model_path), local_files_only=True, attn_implementation="eager")
    return Pooled(model.eval())


class OnnxEmbedder:
    """A mean-pooled sentence-transformers model run by ONNX Runtime on the CPU; loaded lazily, thread-safe.

    Texts run one at a time per thread, as many at once as :func:`qa.runtime.threads.threads_for` gives (a
    question on one thread, indexing on every core).
    """

    def __init__(self, name: str = "all-MiniLM-L6-v2", quantize: bool = False,
                 query_threads: int | None = None, bulk_threads: int | None = None,
                 cache_dir: Path | None = None) -> None:
        self.model_name = name
        self.quantize = quantize
        self.name = f"{name}+onnx{'-int8' if quantize else ''}"
        # None: the policy of qa.runtime.threads.threads_for (a question on 1 thread, a bulk call on every core)
        self.query_threads, self.bulk_threads = query_threads, bulk_threads
        self.cache_dir = cache_dir
        self._path = Path(model_path(name))
        _check_supported(self._path)
        require_onnxruntime()  # fail at configuration time, not at the first question
        self._folder: Path | None = None
        self._tokenizer = None
        self._sessions: dict[int, object] = {}
        self._lock = threading.Lock()

    @property
    def folder(self) -> Path:
        """The exported model's folder (exported on first use)."""
        if self._folder is None:
            with self._lock:
                if self._folder is None:
                    self._folder = exported_model(self._path, self.quantize, self.cache_dir)
        return self._folder

    @property
    def dim(self) -> int:
        if self.model_name in BUNDLED_MODELS:
            return BUNDLED_MODELS[self.model_name]
        return int(json.loads((self._path / "config.json").read_text())["hidden_size"])

    @property
    def max_tokens(self) -> int:
        return _max_seq_length(self._path)

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(self.folder / TOKENIZER_FILE))
            tok.enable_truncation(self.max_tokens)
            tok.no_padding()  # batches are padded here, after sorting by length
            self._tokenizer = tok
        return self._tokenizer

    def threads(self, n_texts: int) -> int:
        """How many texts run at once (each on one thread)."""
        return (self.query_threads if n_texts < SMALL_CALL else self.bulk_threads) or threads_for(n_texts)

    def session(self, threads: int):
        """The inference session running on ``threads`` intra-op threads."""
        if threads not in self._sessions:
            require_onnxruntime()
            path = self.folder / MODEL_FILE
            with self._lock:
                if threads not in self._sessions:
                    self._sessions[threads] = new_session(path, threads)
        return self._sessions[threads]

    def embed(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Each text runs alone on one thread (:func:`qa.runtime.threads.run_each`), so its vector does not
        depend on the other texts of the call: a question gets the same vector asked alone or in a
        batch, an article the same whether indexed alone or with the whole folder."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        session = self.session(1)
        enc = self.tokenizer.encode_batch(list(texts))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        # longest first: the pool's last tasks are short ones, so the workers finish together
        order = sorted(range(len(texts)), key=lambda j: -len(enc[j].ids))
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="Texts", unit="text")

        def one(j: int) -> None:
            e = enc[j]
            feed = {"input_ids": np.array([e.ids], dtype=np.int64),
                    "attention_mask": np.array([e.attention_mask], dtype=np.int64),
                    "token_type_ids": np.array([e.type_ids], dtype=np.int64)}
            out[j] = session.run(None, feed)[0][0]
            if bar is not None:
                bar.update(1)

        try:
            run_each(one, order, self.threads(len(texts)))
        finally:
            if bar is not None:
                bar.close()
        return out
