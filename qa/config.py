"""Settings of the pipeline, in one place, with defaults that need no configuration.

    from qa.config import Settings
    s = Settings(articles_dir="my_articles", index_dir="my_index", chunk_size=800)

Environment variables ``QA_ARTICLES`` and ``QA_INDEX`` override the default folders, ``QA_EMBEDDER`` the
embedder (default ``all-MiniLM-L6-v2+onnx-int8``: ONNX Runtime, int8 weights; ``all-MiniLM-L6-v2+onnx``
keeps float32 vectors, the same as PyTorch's; ``all-MiniLM-L6-v2`` runs it on PyTorch).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
#: The checkout (or site-packages, when installed): training/ and bench/ read their data relative to it.
REPO_ROOT = PACKAGE_DIR.parent
#: The shipped span reader: weights, tokenizer and ``reader_config.json`` (written by ``training/``).
WEIGHTS_DIR = PACKAGE_DIR / "reader" / "weights"
#: The shipped no-answer calibrations: the reader's gate and the sentence answerer's threshold (written
#: by ``training/calibrate_gate.py`` and ``training/calibrate_sentence.py``).
CALIBRATION_FILE = PACKAGE_DIR / "calibration.json"
#: The bundled model on ONNX Runtime with int8 weights: the fastest to index and to ask with, at the same
#: retrieval recall (bench/RESULTS.md, "Fast by default"). An index of float32 vectors (PyTorch or
#: ``+onnx``, the default before) has another signature, so it is rebuilt on its first refresh.
DEFAULT_EMBEDDER = "all-MiniLM-L6-v2+onnx-int8"
#: How an embedder runs, named by a suffix of its name: ``NAME`` (PyTorch), ``NAME+onnx`` (ONNX Runtime,
#: float32: the same vectors to 1e-6) or ``NAME+onnx-int8`` (ONNX Runtime, int8 weights: other vectors).
EMBEDDER_BACKENDS = ("torch", "onnx", "onnx-int8")
FUSIONS = ("zscore", "rrf")


def _home() -> Path:
    """The checkout's root when running from one (``seeds/`` is there), else the working directory."""
    return REPO_ROOT if (REPO_ROOT / "seeds").is_dir() else Path.cwd()


def _default_articles() -> Path:
    return Path(os.environ.get("QA_ARTICLES", _home() / "seeds"))


def _default_index() -> Path:
    return Path(os.environ.get("QA_INDEX", _home() / "vectors"))


def cache_dir() -> Path:
    """Where models exported on first use are kept (ONNX embedder and reader): ``$QA_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/article-qa``, else ``~/.cache/article-qa``."""
    if os.environ.get("QA_CACHE_DIR"):
        return Path(os.environ["QA_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "article-qa"


def default_embedder() -> str:
    """``$QA_EMBEDDER``, else :data:`DEFAULT_EMBEDDER`."""
    return os.environ.get("QA_EMBEDDER", "").strip() or DEFAULT_EMBEDDER


def split_embedder(name: str) -> tuple[str, str]:
    """``(model, backend)`` of an embedder name: ``"all-MiniLM-L6-v2+onnx-int8"`` -> ``("all-MiniLM-L6-v2",
    "onnx-int8")``; a name without a backend suffix runs on ``"torch"``."""
    model, sep, backend = name.rpartition("+")
    if sep and model and backend in EMBEDDER_BACKENDS:
        return model, backend
    return name, "torch"


@dataclass
class Settings:
    """Where the articles and the index live, and how text is chunked and retrieved.

    Retrieval fuses dense and BM25 scores: ``zscore`` standardises each list's scores over its
    ``candidates`` and mixes them with ``dense_weight`` (BM25 gets the rest); ``rrf`` is weighted
    reciprocal rank fusion. The defaults were chosen on the training articles of the SQuAD + BBC
    benchmark (``bench/retrieval.py``) and checked on held-out articles.

    ``chunk_size``/``chunk_overlap`` are in characters: 1,000 characters is about 200 word pieces, inside
    the embedder's 256-token window and a reader's 384-token window. Changing the embedder or the
    chunking makes the index rebuild itself (its manifest records both).

    ``embedder`` names the model and, by a suffix, how it runs (see ``EMBEDDER_BACKENDS``; default
    ``$QA_EMBEDDER`` or :data:`DEFAULT_EMBEDDER`). ``+onnx`` gives the same vectors as PyTorch and
    shares its index; ``+onnx-int8`` gives other vectors, so an index made by one is rebuilt for the other.
    """

    articles_dir: Path = field(default_factory=_default_articles)
    index_dir: Path = field(default_factory=_default_index)
    embedder: str = field(default_factory=default_embedder)
    chunk_size: int = 1000
    chunk_overlap: int = 200
    k: int = 5
    candidates: int = 50
    fusion: str = "zscore"
    dense_weight: float = 0.4
    rrf_k: int = 60
    bm25_k1: float = 0.9
    bm25_b: float = 0.4
    refresh_interval: float = 2.0

    def __post_init__(self) -> None:
        self.articles_dir = Path(self.articles_dir)
        self.index_dir = Path(self.index_dir)
        if self.chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise ValueError("chunk_overlap must be at least 0 and smaller than chunk_size")
        if self.k <= 0:
            raise ValueError("k must be at least 1")
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ValueError("dense_weight must be between 0 and 1")

    def index_signature(self) -> dict[str, Any]:
        """The settings an index depends on; a mismatch means the index must be rebuilt."""
        model, backend = split_embedder(self.embedder)
        vectors_of = model if backend in ("torch", "onnx") else self.embedder  # float32 ONNX = PyTorch vectors
        return {"embedder": vectors_of, "chunk_size": self.chunk_size, "chunk_overlap": self.chunk_overlap}

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["articles_dir"] = str(self.articles_dir)
        d["index_dir"] = str(self.index_dir)
        return d


@dataclass(frozen=True)
class FetchSettings:
    """How ``qa add`` fetches from the web (:mod:`qa.sources.fetch`): ``timeout`` in seconds for the whole of
    one response (connecting, waiting, reading), ``max_bytes`` the largest body read (a page, a PDF or a feed),
    ``max_redirects`` followed, and the ``user_agent`` it names itself by, which robots.txt rules are matched
    against. ``local_addresses=False`` refuses addresses on this machine or its private network (loopback,
    private, link-local): the chat sets it when it is open to other machines, so that nobody on the network
    can make it fetch what only this machine can reach. ``max_feed_items`` is how many new items of one feed
    one run adds (each may mean fetching its page): the rest wait for the next run, newest first as feeds
    list them."""

    timeout: float = 20.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    user_agent: str = "article-qa/0.1 (fetches only the pages a person adds)"
    local_addresses: bool = True
    max_feed_items: int = 100

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
        if self.max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if self.max_redirects < 0:
            raise ValueError("max_redirects must be at least 0")
        if self.max_feed_items < 1:
            raise ValueError("max_feed_items must be at least 1")
