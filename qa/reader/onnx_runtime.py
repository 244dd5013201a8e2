"""The span reader's network run by ONNX Runtime, exported locally from the shipped weights and cached.

    from qa.reader.onnx_runtime import OnnxSpanModel, onnx_available
    model = OnnxSpanModel(weights_dir, quantize=True)     # exports on first use, then loads from disk
    start, end = model(input_ids, token_type_ids, attention_mask)   # int64 arrays -> float32 logits

The first use exports the PyTorch model (``torch.onnx.export``) and, for ``quantize=True``, quantises
its weights to int8 (ONNX Runtime's dynamic quantisation, one scale per output channel). The files are cached under
``$QA_CACHE_DIR/reader-onnx/<key>/`` (default ``~/.cache/article-qa``), where ``<key>`` hashes the
weights and the torch/onnxruntime versions, so new weights or a new exporter never reuse a stale file.
Writing is atomic (a temporary file in the same folder, then ``os.replace``) and two processes
exporting at once take turns on a file lock: neither ever loads a half-written model.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUTS = ("start_logits", "end_logits")
OPSET = 17
EXPORT_VERSION = 3  # bump when the export changes: cached files of older versions are not reused


def onnx_available(quantize: bool = False) -> bool:
    """Whether ONNX Runtime (and, to quantise, the ``onnx`` package) can be imported."""
    try:
        import onnxruntime  # noqa: F401

        if quantize:
            import onnx  # noqa: F401
    except ImportError:
        return False
    return True


def weights_key(weights_dir: Path) -> str:
    """A short hash of the weights, their config and the exporter/runtime versions."""
    import onnxruntime
    import torch

    h = hashlib.sha256()
    for name in ("config.json", "model.safetensors"):
        with open(weights_dir / name, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    h.update(f"torch={torch.__version__};onnxruntime={onnxruntime.__version__};opset={OPSET};export={EXPORT_VERSION}".encode())
    return h.hexdigest()[:16]


def _atomic_target(path: Path):
    """A temporary path next to ``path`` (same file system, so ``os.replace`` is atomic)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


def export_onnx(model, path: Path) -> Path:
    """Export a ``BertForQuestionAnswering`` (float32, eval mode) to ``path`` atomically."""
    import warnings

    import torch

    tmp = _atomic_target(path)
    try:
        ids = torch.ones((2, 16), dtype=torch.long)
        mask = torch.ones_like(ids)
        mask[1, 10:] = 0  # trace with padding, so no "mask is all ones" shortcut is frozen into the graph
        dyn = {name: {0: "batch", 1: "sequence"} for name in INPUTS + OUTPUTS}
        # the tracer warns about shape checks it freezes; tests check padded batches of other shapes
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model, (ids, mask, torch.zeros_like(ids)), str(tmp), dynamo=False,
                input_names=list(INPUTS), output_names=list(OUTPUTS), dynamic_axes=dyn, opset_version=OPSET,
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def quantize_onnx(source: Path, path: Path) -> Path:
    """Int8 dynamic quantisation of ``source``'s weights, per output channel (activations stay float),
    written atomically."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = _atomic_target(path)
    quiet = _QuietQuantizer()
    logging.getLogger().addFilter(quiet)  # it logs advice meant for image models through the root logger
    try:
        # per output channel: per-tensor scales cost 3.3 F1 points on the validation articles, these 0.1
        quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        logging.getLogger().removeFilter(quiet)
        tmp.unlink(missing_ok=True)
    return path


class _QuietQuantizer(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.name != "root" or record.levelno >= logging.ERROR


def ensure_onnx_file(weights_dir: Path, load_torch_model, quantize: bool, root: Path | None = None) -> Path:
    """The cached ONNX file for ``weights_dir`` (exported/quantised first if missing).

    ``load_torch_model()`` returns the float32 PyTorch model; it is called only when exporting.
    """
    from filelock import FileLock

    from qa.config import cache_dir

    folder = (root or cache_dir()) / "reader-onnx" / weights_key(weights_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OSError(f"cannot create the reader's ONNX cache '{folder}' ({e.strerror}); "
                      "set QA_CACHE_DIR to a writable folder") from e
    fp32, int8 = folder / "reader.onnx", folder / "reader-int8.onnx"
    target = int8 if quantize else fp32
    if target.exists():
        return target
    with FileLock(str(folder / ".lock"), timeout=600):
        if target.exists():  # another process finished it while we waited
            return target
        if not fp32.exists():
            log.info("Exporting the span reader to ONNX (%s); this happens once", fp32)
            export_onnx(load_torch_model(), fp32)
        if quantize:
            quantize_onnx(fp32, int8)
    return target


class OnnxSpanModel:
    """Start/end logits from an ONNX Runtime session, one session per thread count (created lazily)."""

    def __init__(self, weights_dir: str | os.PathLike, load_torch_model, quantize: bool = True,
                 root: Path | None = None) -> None:
        self.path = ensure_onnx_file(Path(weights_dir), load_torch_model, quantize, root)
        self.quantized = quantize
        self._sessions: dict[int, Any] = {}
        self._lock = threading.Lock()

    def session(self, threads: int):
        if threads not in self._sessions:
            with self._lock:
                if threads not in self._sessions:
                    import onnxruntime as ort

                    opts = ort.SessionOptions()
                    opts.intra_op_num_threads = int(threads)
                    opts.inter_op_num_threads = 1
                    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                    self._sessions[threads] = ort.InferenceSession(
                        str(self.path), opts, providers=["CPUExecutionProvider"]
                    )
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
