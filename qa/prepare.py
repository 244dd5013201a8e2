"""Export the models that answer questions to ONNX ahead of use, so that no question waits for an export.

    qa prepare            # make install runs it (the command is qa.commands.cmd_prepare)

Exports what the current settings run (``$QA_EMBEDDER``, ``$QA_READER_BACKEND``): the embedder and the span
reader, each into the model cache (:mod:`qa.runtime.onnx`). Each export is skipped when already there, so
running it again is instant. PyTorch backends need no export and are left alone. This is the step that
needs torch; answering afterwards imports only onnxruntime and tokenizers.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from qa.config import WEIGHTS_DIR, Settings
from qa.embedders import export_embedder
from qa.reader import weights_available
from qa.reader.backends import exported_reader, reader_backend

log = logging.getLogger(__name__)


def prepare() -> list[tuple[str, Path | None, float]]:
    """``(model, exported file or folder, seconds)`` for the embedder and the reader the settings use
    (``None`` for a model that runs on PyTorch and needs no export)."""
    done: list[tuple[str, Path | None, float]] = []
    settings = Settings()
    backend = reader_backend()  # a bad setting is said before any export starts
    t = time.perf_counter()
    folder = export_embedder(settings.embedder)
    done.append((f"embedder {settings.embedder}", folder, time.perf_counter() - t))

    if weights_available():
        t = time.perf_counter()
        path = None
        if backend.startswith("onnx"):
            path = exported_reader(WEIGHTS_DIR, quantize=backend == "onnx-int8")
        done.append((f"span reader {backend}", path, time.perf_counter() - t))
    return done

