"""The embedder run by PyTorch: a sentence-transformers model on the CPU (torch loads on first use)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from qa.embedders.models import BUNDLED_MODELS, model_path
from qa.runtime.threads import SMALL_CALL, threads_for, torch_threads


class SentenceTransformerEmbedder:
    """A sentence-transformers model run with PyTorch on the CPU, loaded lazily and shared by threads."""

    def __init__(self, name: str = "all-MiniLM-L6-v2", batch_size: int = 64, device: str = "cpu",
                 query_threads: int | None = None, bulk_threads: int | None = None) -> None:
        self.name = name
        self.batch_size = batch_size
        self.device = device
        # None: the policy of qa.runtime.threads.threads_for (a question on 1 thread, a bulk call on every core)
        self.query_threads, self.bulk_threads = query_threads, bulk_threads
        self._path = model_path(name)
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
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
