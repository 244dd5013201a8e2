"""Extractive span reader (MiniLM-L6 + start/end head, SQuAD-trained). Import-light: torch loads on first use.

    from qa.reader import SpanReader, weights_available
    reader = SpanReader()            # the shipped weights in qa/reader/weights/
    answer = reader.answer("Who slipped out of Venezuela?", passages)

The reader's rooms, in the order a question goes through them:

- :mod:`qa.reader.features`: question/context pairs as token windows (``ReaderTokenizer``, ``featurize``);
- :mod:`qa.reader.backends`: the network on ONNX Runtime or PyTorch (start/end logits per window);
- :mod:`qa.reader.spans`: candidate spans from the logits, their edges trimmed and repaired;
- :mod:`qa.reader.reader`: :class:`SpanReader`, which reads, re-ranks and decides;
- :mod:`qa.reader.shipped`: where the weights and their calibrated settings are installed.
"""

from __future__ import annotations

from qa.config import WEIGHTS_DIR
from qa.reader.reader import SpanReader
from qa.reader.shipped import weights_available

__all__ = ["SpanReader", "WEIGHTS_DIR", "weights_available"]
