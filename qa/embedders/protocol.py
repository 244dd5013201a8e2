"""What every embedder is: a name, a vector size and ``embed``; the index and the retriever see only this."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors (one row per text); loads its model on first use."""

    name: str

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...
