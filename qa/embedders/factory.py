"""The embedder a settings name asks for: ``MODEL`` on PyTorch, ``MODEL+onnx`` / ``MODEL+onnx-int8`` on
ONNX Runtime (see :data:`qa.config.EMBEDDER_BACKENDS`)."""

from __future__ import annotations

from pathlib import Path

from qa.config import default_embedder, split_embedder
from qa.embedders.models import model_path
from qa.embedders.onnx import OnnxEmbedder
from qa.embedders.protocol import Embedder
from qa.embedders.pytorch import SentenceTransformerEmbedder


def get_embedder(name: str | None = None) -> Embedder:
    """The embedder for a settings name (see :class:`qa.config.Settings`; default
    :func:`qa.config.default_embedder`)."""
    model, backend = split_embedder(name or default_embedder())
    if backend == "torch":
        return SentenceTransformerEmbedder(model)
    return OnnxEmbedder(model, quantize=backend == "onnx-int8")


def export_embedder(name: str | None = None) -> Path | None:
    """Export the embedder of a settings name to ONNX now (``qa prepare``) and return its folder;
    ``None`` for one that runs on PyTorch and needs no export."""
    model, backend = split_embedder(name or default_embedder())
    if backend == "torch":
        model_path(model)  # an unknown model fails now, as it would at the first question
        return None
    return OnnxEmbedder(model, quantize=backend == "onnx-int8").folder
