"""Models exported to ONNX once and kept on disk, and the ONNX Runtime sessions that run them: the one
mechanism the embedder (:mod:`qa.embedders.onnx`) and the span reader (:mod:`qa.reader.backends`)
share.

    from qa.runtime.onnx import cached_export, source_key, new_session
    folder = cached_export("reader-onnx", "reader-int8", source_key(weights), build, what="the span reader")
    session = new_session(folder / "model.onnx", threads=1)

An export lives in ``<cache>/<kind>/<name>-<key>/`` (cache: :func:`qa.config.cache_dir`). The key names
the source weights (path, size, modification time: rewritten weights never reuse a stale export) and the
versions of the exporter and runtime, read from package metadata so that finding an export imports
neither torch nor onnx. A folder is built in a temporary folder next to it and renamed into place when
complete, under a file lock: two processes exporting at once neither duplicate the work nor ever see a
half-written model. ``qa prepare`` (``make install``) builds every default export ahead of use; a process
that finds one missing builds it then, saying so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from qa.config import cache_dir
from qa.errors import QAError

if TYPE_CHECKING:  # torch is imported only when exporting
    import torch

log = logging.getLogger(__name__)

#: Written last into every export folder: its presence means the folder is complete.
DONE_FILE = "export.json"
OPSET = 17
LOCK_TIMEOUT_S = 900


def package_version(name: str) -> str:
    """A package's installed version, or ``-``, without importing it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


def source_key(files: Iterable[Path], *extra: object) -> str:
    """A short hash of the source files' identity (resolved path, size, mtime), ``extra`` (the export's
    own settings and version) and the torch / onnx / onnxruntime versions."""
    parts: list[object] = []
    for f in files:
        st = Path(f).stat()
        parts += [str(Path(f).resolve()), st.st_size, st.st_mtime_ns]
    parts += [*extra, *(package_version(p) for p in ("torch", "onnx", "onnxruntime"))]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def export_root(kind: str, root: Path | None = None) -> Path:
    return Path(root) if root is not None else cache_dir() / kind


def is_complete(folder: Path) -> bool:
    return (folder / DONE_FILE).is_file()


def cached_export(kind: str, name: str, key: str, build: Callable[[Path], dict], what: str,
                  root: Path | None = None) -> Path:
    """The folder ``<root or cache>/<kind>/<name>-<key>``, built by ``build(folder)`` if it is missing.

    ``build`` writes the model files into the (temporary) folder it is given and returns a dict recorded
    as :data:`DONE_FILE`. ``what`` names the model in messages ("the span reader (int8)").
    """
    from filelock import FileLock, Timeout

    base = export_root(kind, root)
    final = base / f"{name}-{key}"
    if is_complete(final):
        return final
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise QAError(f"cannot create the ONNX model cache '{base}' ({e.strerror}); "
                      "set QA_CACHE_DIR to a writable folder") from e
    try:
        with FileLock(str(final) + ".lock", timeout=LOCK_TIMEOUT_S):
            if is_complete(final):  # another process finished it while we waited
                return final
            log.warning("Exporting %s to ONNX (once, up to a few minutes; `qa prepare` does it at install); "
                        "cached in %s", what, final)
            tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=base))
            try:
                tmp.chmod(0o755)  # readable like any cache folder (mkdtemp makes it private)
                meta = build(tmp)
                (tmp / DONE_FILE).write_text(json.dumps({"name": name, **meta}, indent=1, default=str))
                for f in tmp.iterdir():
                    with open(f, "rb") as fh:
                        os.fsync(fh.fileno())
                if final.exists():  # a leftover of an interrupted older layout: replace it
                    shutil.rmtree(final)
                os.replace(tmp, final)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    except Timeout as e:
        raise QAError(f"another process has been exporting {what} to '{final}' for {LOCK_TIMEOUT_S // 60} "
                      "minutes; wait for it, or delete that folder's .lock file if no qa process is running") from e
    return final


class _QuietRoot(logging.Filter):
    """ONNX Runtime's quantiser and optimiser log advice meant for other models ("consider
    pre-processing") through the root logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name != "root" or record.levelno >= logging.ERROR


def export_transformer(load_model: Callable[[], torch.nn.Module], path: Path, inputs: Sequence[str],
                       outputs: Sequence[str], config: Path, quantize: bool) -> None:
    """Write a BERT-style float32 PyTorch module (``load_model()``, called here) to ``path`` as ONNX.

    Traced with padding in the batch (so no "mask is all ones" shortcut is frozen into the graph), then
    ONNX Runtime's transformer optimiser fuses each layer's attention, Gelu and LayerNorms into single
    kernels (same outputs to float rounding; an architecture it does not know is written unfused), and
    with ``quantize`` the weights become int8, one scale per output channel, activations quantised on
    the fly (dynamic quantisation).
    """
    import warnings

    import torch

    work = Path(tempfile.mkdtemp(prefix=".work-", dir=path.parent))
    quiet = _QuietRoot()
    logging.getLogger().addFilter(quiet)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # its "Loading weights" bar, for an export the user did not ask about
        model = load_model()
        ids = torch.ones((2, 16), dtype=torch.long)
        mask = torch.ones_like(ids)
        mask[1, 10:] = 0
        traced = work / "traced.onnx"
        dyn = {**{n: {0: "batch", 1: "tokens"} for n in inputs}, **{n: {0: "batch"} for n in outputs}}
        args = {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on shape checks that hold for every input (tested)
            torch.onnx.export(model, tuple(args[n] for n in inputs), str(traced), input_names=list(inputs),
                              output_names=list(outputs), dynamic_axes=dyn, opset_version=OPSET, dynamo=False)
        del model
        fused = _fuse(traced, config, work / "fused.onnx")
        if quantize:
            import onnx
            from onnxruntime.quantization import QuantType, quantize_dynamic

            # per output channel: one scale per tensor cost the reader 3.3 F1 points, these 0.1;
            # the fused ops (Attention, SkipLayerNorm) have no type the quantiser can infer: they are float
            quantize_dynamic(str(fused), str(work / "int8.onnx"), weight_type=QuantType.QInt8, per_channel=True,
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
            fused = work / "int8.onnx"
        os.replace(fused, path)
        os.chmod(path, 0o644)
    finally:
        logging.getLogger().removeFilter(quiet)
        shutil.rmtree(work, ignore_errors=True)


def _fuse(source: Path, config: Path, out: Path) -> Path:
    """``source`` with attention, Gelu and LayerNorm fused by ONNX Runtime's BERT optimiser (``out``),
    or ``source`` itself for a model the optimiser cannot fuse."""
    cfg = json.loads(config.read_text())
    if cfg.get("model_type") not in ("bert", None) or "num_attention_heads" not in cfg:
        return source
    from onnxruntime.transformers import optimizer

    for name in list(logging.root.manager.loggerDict):  # its modules log each fusion at INFO under their own names
        if name.startswith(("onnx_model", "fusion_", "onnxruntime")):
            logging.getLogger(name).setLevel(logging.ERROR)
    model = optimizer.optimize_model(str(source), model_type="bert", num_heads=int(cfg["num_attention_heads"]),
                                     hidden_size=int(cfg["hidden_size"]), opt_level=0, use_gpu=False)
    if not model.get_fused_operator_statistics().get("Attention"):
        return source
    model.save_model_to_file(str(out))
    return out


def new_session(path: Path, threads: int):
    """An ONNX Runtime CPU session on ``threads`` intra-op threads (one inter-op thread: the graphs are
    sequential)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
