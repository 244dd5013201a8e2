"""The embedder run by ONNX Runtime: the bundled sentence-transformers model exported to ONNX once, locally.

    from qa.embedding import get_embedder
    emb = get_embedder("all-MiniLM-L6-v2+onnx-int8")      # or "+onnx" (float32), or QA_EMBEDDER=...
    vectors = emb.embed(["Who is Venezuela's opposition leader?"])   # float32, shape (1, 384)

The first use exports the PyTorch weights (transformer, mean pooling and L2 normalisation in one graph)
with ``torch.onnx`` and, for ``int8``, quantises the weights with ONNX Runtime's dynamic quantisation.
The result is cached under ``$QA_CACHE_DIR/embedder-onnx`` (default ``~/.cache/article-qa/embedder-onnx``;
never inside the installed package), keyed by the weights file, the export settings and the torch and
onnxruntime versions. An export is written to a
temporary folder and renamed into place under a file lock, so two processes exporting at once neither
duplicate the work nor ever see a half-written model. Later processes import neither torch nor
sentence-transformers for embedding.

Needs ``onnxruntime`` and, to quantise, ``onnx`` (dependencies of the package, pinned in pyproject.toml).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import logging
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.errors import QAError

EXPORT_VERSION = 1
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
#: Texts per session run. ONNX Runtime keeps a batch's attention buffers (batch x heads x tokens^2):
#: embedding 640 long texts peaked at 1.9 GB RSS with 64 a batch, 1.0 GB with 32, 0.56 GB with 16, at the
#: same speed within noise (bench/RESULTS.md, memory).
BATCH_SIZE = 16
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


def cache_root() -> Path:
    """Where exported models are kept: ``embedder-onnx`` in :func:`qa.config.cache_dir`."""
    from qa.config import cache_dir

    return cache_dir() / "embedder-onnx"


def _check_supported(model_path: Path) -> None:
    """The export covers Transformer + mean pooling (+ Normalize); refuse anything else clearly."""
    modules = json.loads((model_path / "modules.json").read_text()) if (model_path / "modules.json").exists() else []
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    pooling = model_path / "1_Pooling" / "config.json"
    mean = not pooling.exists() or json.loads(pooling.read_text()).get("pooling_mode_mean_tokens", False)
    if not (model_path / TOKENIZER_FILE).exists() or any(k not in ("Transformer", "Pooling", "Normalize") for k in kinds) or not mean:
        raise ValueError(
            f"the ONNX backend supports mean-pooled sentence-transformers models with a tokenizer.json; "
            f"'{model_path}' is not one: use its PyTorch embedder (drop the '+onnx' suffix)"
        )


def export_key(model_path: Path, quantize: bool) -> str:
    """Names one export: the weights file (path, size, mtime), the quantisation, the export code and the
    versions of the exporter and runtime."""
    from importlib.metadata import PackageNotFoundError, version

    def _version(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "-"

    weights = next((model_path / n for n in ("model.safetensors", "pytorch_model.bin") if (model_path / n).exists()), model_path)
    st = weights.stat()
    raw = json.dumps([str(weights.resolve()), st.st_size, st.st_mtime_ns, quantize, EXPORT_VERSION,
                      _version("torch"), _version("onnxruntime")])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def exported_model(model_path: str | Path, quantize: bool, root: Path | None = None) -> Path:
    """The folder holding ``model.onnx`` and ``tokenizer.json`` for ``model_path``, exported on first use.

    Safe when several processes call it at once: one exports (under a file lock) into a temporary folder
    that is renamed into place when complete; the others wait and reuse it.
    """
    from filelock import FileLock, Timeout

    model_path = Path(model_path)
    _check_supported(model_path)
    root = root or cache_root()
    final = root / f"{model_path.name or 'model'}-{'int8' if quantize else 'fp32'}-{export_key(model_path, quantize)}"
    if (final / MODEL_FILE).is_file():
        return final
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise QAError(f"cannot create the ONNX model cache '{root}' ({e.strerror}); set QA_CACHE_DIR to a writable folder") from e
    try:
        with FileLock(str(final) + ".lock", timeout=600):
            if (final / MODEL_FILE).is_file():  # another process finished it while we waited
                return final
            _export_into(model_path, quantize, root, final)
    except Timeout as e:
        raise QAError(f"another process has been exporting the embedder to '{final}' for 10 minutes; "
                      "wait for it, or delete that folder's .lock file if no qa process is running") from e
    return final


def _export_into(model_path: Path, quantize: bool, root: Path, final: Path) -> None:
    """Export into a temporary folder under ``root`` and rename it to ``final`` once complete."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=root))
    tmp.chmod(0o755)  # readable like any cache folder (mkdtemp makes it private)
    log.info("Exporting the embedder to ONNX%s (once; cached in %s)", " int8" if quantize else "", final)
    try:
        _export(model_path, tmp / MODEL_FILE, quantize)
        shutil.copyfile(model_path / TOKENIZER_FILE, tmp / TOKENIZER_FILE)
        (tmp / "export.json").write_text(json.dumps(
            {"model": str(model_path), "quantize": quantize, "export_version": EXPORT_VERSION,
             "max_seq_length": _max_seq_length(model_path)}, indent=1))
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        if final.exists():  # a leftover without its model file (never renamed complete): replace it
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _max_seq_length(model_path: Path) -> int:
    cfg = model_path / "sentence_bert_config.json"
    return int(json.loads(cfg.read_text()).get("max_seq_length", 256)) if cfg.exists() else 256


def _export(model_path: Path, out: Path, quantize: bool) -> None:
    """Trace the transformer with mean pooling and normalisation into ``out`` (int8 weights if ``quantize``)."""
    require_onnxruntime()
    import torch
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            h = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    model = Pooled(AutoModel.from_pretrained(str(model_path), local_files_only=True).eval())
    dummy = tuple(torch.ones(2, 16, dtype=torch.long) if n != "token_type_ids" else torch.zeros(2, 16, dtype=torch.long)
                  for n in INPUTS)
    fp32 = out.with_name("model-fp32.onnx") if quantize else out
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on shape checks that hold for every input (tested)
        torch.onnx.export(model, dummy, str(fp32), input_names=list(INPUTS), output_names=["embedding"],
                          dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in INPUTS}, "embedding": {0: "batch"}},
                          opset_version=17, dynamo=False)
    if quantize:
        try:
            from onnxruntime.quantization import QuantType, quantize_dynamic
        except ImportError as e:
            raise BackendUnavailableError(f"int8 quantisation needs the onnx package: {INSTALL_HINT}") from e
        # int8 weights per output channel, activations quantised on the fly (recall checked in bench/RESULTS.md)
        root_logger = logging.getLogger()
        level = root_logger.level
        root_logger.setLevel(logging.ERROR)  # quantize_dynamic logs an unactionable "consider pre-processing"
        try:
            quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            root_logger.setLevel(level)
        fp32.unlink()


class OnnxEmbedder:
    """A mean-pooled sentence-transformers model run by ONNX Runtime on the CPU; loaded lazily, thread-safe.

    Calls of fewer than :data:`qa.embedding.SMALL_CALL` texts (questions) run on ``query_threads`` threads,
    larger ones (indexing) on ``bulk_threads``; each gets its own session, made on first use.
    """

    def __init__(self, name: str = "all-MiniLM-L6-v2", quantize: bool = False, batch_size: int = BATCH_SIZE,
                 query_threads: int | None = None, bulk_threads: int | None = None, cache_dir: Path | None = None) -> None:
        from qa.embedding import _model_path

        self.model_name = name
        self.quantize = quantize
        self.name = f"{name}+onnx{'-int8' if quantize else ''}"
        self.batch_size = batch_size
        self.query_threads = query_threads or int(os.environ.get("QA_QUERY_THREADS", 1))
        self.bulk_threads = bulk_threads or int(os.environ.get("QA_BULK_THREADS", os.cpu_count() or 1))
        self.cache_dir = cache_dir
        self._path = Path(_model_path(name))
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
        from qa.embedding import BUNDLED_MODELS

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
            tok.enable_padding(pad_id=tok.token_to_id("[PAD]") or 0, pad_token="[PAD]")  # to the longest text
            self._tokenizer = tok
        return self._tokenizer

    def session(self, threads: int):
        """The inference session running on ``threads`` intra-op threads."""
        if threads not in self._sessions:
            ort = require_onnxruntime()
            path = self.folder / MODEL_FILE
            with self._lock:
                if threads not in self._sessions:
                    opts = ort.SessionOptions()
                    opts.intra_op_num_threads = threads
                    opts.inter_op_num_threads = 1
                    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                    self._sessions[threads] = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        return self._sessions[threads]

    def embed(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        from qa.embedding import SMALL_CALL

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        session = self.session(self.query_threads if len(texts) < SMALL_CALL else self.bulk_threads)
        tok = self.tokenizer
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths together: less padding
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        starts = range(0, len(texts), self.batch_size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches")
        for i in starts:
            rows = order[i:i + self.batch_size]
            enc = tok.encode_batch([texts[j] for j in rows])
            feed = {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                    "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
                    "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64)}
            out[rows] = session.run(None, feed)[0]
        return out
