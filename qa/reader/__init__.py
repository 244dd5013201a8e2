"""Extractive span reader (MiniLM-L6 + start/end head, SQuAD-trained). Import-light: torch loads on first use.

    from qa.reader import SpanReader, weights_available
    reader = SpanReader()            # the shipped weights in qa/reader/weights/
    answer = reader.answer("Who slipped out of Venezuela?", passages)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qa.config import WEIGHTS_DIR

__all__ = ["SpanReader", "WEIGHTS_DIR", "weights_available"]



def weights_available(weights_dir: str | Path | None = None) -> bool:
    """Whether the reader's weights are installed (config and safetensors file present)."""
    d = Path(weights_dir) if weights_dir else WEIGHTS_DIR
    return (d / "config.json").is_file() and (d / "model.safetensors").is_file()


def __getattr__(name: str) -> Any:
    if name == "SpanReader":
        from qa.reader.model import SpanReader

        return SpanReader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
