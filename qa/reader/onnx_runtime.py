"""The span reader's network run by ONNX Runtime, exported locally from the shipped weights and cached.

    from qa.reader.onnx_runtime import OnnxSpanModel, onnx_available
    model = OnnxSpanModel(weights_dir, quantize=True)     # exported by `qa prepare`, else here, once
    start, end = model(input_ids, token_type_ids, attention_mask)   # int64 arrays -> float32 logits
    logits = model.run_each(windows, workers=2)          # many windows, each alone, 2 at a time

The export traces the PyTorch ``BertForQuestionAnswering``, fuses each layer's attention with ONNX
Runtime's transformer optimiser and, for ``quantize=True``, quantises its weights to int8, one scale per
output channel (:func:`qa.runtime.onnx.export_transformer`). It is kept in ``reader-onnx/`` of the model
cache (:mod:`qa.runtime.onnx`), keyed by the weights and the torch/onnx/onnxruntime versions. Running it
imports onnxruntime only: neither torch nor transformers.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUTS = ("start_logits", "end_logits")
MODEL_FILE = "model.onnx"
EXPORT_VERSION = 4  # bump when the export changes: cached files of older versions are not reused


def onnx_available(quantize: bool = False) -> bool:
    """Whether ONNX Runtime (and, to quantise, the ``onnx`` package) is installed. ``onnx`` is looked
    up, not imported: only an export uses it."""
    from importlib.util import find_spec

    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return not quantize or find_spec("onnx") is not None


def load_for_export(weights_dir: Path):
    """The float32 PyTorch network with eager attention, whose traced graph ONNX Runtime can fuse."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import BertForQuestionAnswering

    try:
        model = BertForQuestionAnswering.from_pretrained(str(weights_dir), local_files_only=True, dtype=torch.float32,
                                                         attn_implementation="eager")
    except TypeError:  # older transformers spell it torch_dtype
        model = BertForQuestionAnswering.from_pretrained(str(weights_dir), local_files_only=True,
                                                         torch_dtype=torch.float32, attn_implementation="eager")
    return model.eval()


def exported_reader(weights_dir: str | os.PathLike, quantize: bool, load_torch_model: Callable[[], Any] | None = None,
                    root: Path | None = None) -> Path:
    """The ONNX file of the reader in ``weights_dir`` (exported first if missing). ``load_torch_model()``
    gives the float32 PyTorch model to export (default :func:`load_for_export`); it is called only when
    exporting."""
    from qa.runtime.onnx import cached_export, export_transformer, source_key

    weights_dir = Path(weights_dir)
    load = load_torch_model or (lambda: load_for_export(weights_dir))
    key = source_key([weights_dir / "config.json", weights_dir / "model.safetensors"], "reader", EXPORT_VERSION, quantize)

    def build(folder: Path) -> dict:
        export_transformer(load, folder / MODEL_FILE, inputs=INPUTS, outputs=OUTPUTS, config=weights_dir / "config.json",
                           quantize=quantize)
        return {"weights": str(weights_dir), "quantize": quantize, "export_version": EXPORT_VERSION}

    variant = "int8" if quantize else "fp32"
    folder = cached_export("reader-onnx", f"reader-{variant}", key, build,
                           what=f"the span reader{' (int8)' if quantize else ''}", root=root)
    return folder / MODEL_FILE


class OnnxSpanModel:
    """Start/end logits from an ONNX Runtime session, one session per thread count (created lazily)."""

    def __init__(self, weights_dir: str | os.PathLike, load_torch_model: Callable[[], Any] | None = None,
                 quantize: bool = True, root: Path | None = None) -> None:
        self.path = exported_reader(weights_dir, quantize, load_torch_model, root)
        self.quantized = quantize
        self._sessions: dict[int, Any] = {}
        self._lock = threading.Lock()

    def session(self, threads: int):
        threads = int(threads)
        if threads not in self._sessions:
            with self._lock:
                if threads not in self._sessions:
                    from qa.runtime.onnx import new_session

                    self._sessions[threads] = new_session(self.path, threads)
        return self._sessions[threads]

    def __call__(self, input_ids: np.ndarray, token_type_ids: np.ndarray, attention_mask: np.ndarray,
                 threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
        feeds = {
            "input_ids": np.ascontiguousarray(input_ids, dtype=np.int64),
            "attention_mask": np.ascontiguousarray(attention_mask, dtype=np.int64),
            "token_type_ids": np.ascontiguousarray(token_type_ids, dtype=np.int64),
        }
        start, end = self.session(threads).run(list(OUTPUTS), feeds)
        return start, end

    def run_each(self, windows: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], workers: int = 1
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Logits of each window ``(input_ids, token_type_ids, attention_mask)`` (a batch of one), each
        computed alone on one thread, ``workers`` at a time (:func:`qa.runtime.threads.run_each`): exactly the
        logits of the same window read for a single question, however many are read together."""
        from qa.runtime.threads import run_each

        self.session(1)  # made once, before the workers share it
        return run_each(lambda w: self(*w, threads=1), windows, workers)
