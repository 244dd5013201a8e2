"""The span reader's tokenizer on the ``tokenizers`` package alone (no ``transformers``, no torch).

    from qa.reader.tokenization import ReaderTokenizer
    tok = ReaderTokenizer.from_dir(weights_dir)             # reads weights_dir/tokenizer.json
    windows = tok.encode_pairs(["Who?"], ["Guaido slipped out."], max_length=192, stride=64)
    for pair_index, enc in windows: enc.ids, enc.type_ids, enc.offsets, enc.sequence_ids

``transformers``' fast BERT tokenizer is this same ``tokenizers`` object behind a Python layer that sets
truncation and padding before each call and flattens the overflowing windows after it; doing those two
steps here gives the same windows, ids and offsets (``tests/reader/test_onnx_runtime.py`` compares the
reader's features against ``transformers`` on real articles) at a fraction of the import cost.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

TOKENIZER_FILE = "tokenizer.json"


class ReaderTokenizer:
    """Question/context pairs -> overlapping windows ``[CLS] question [SEP] context-part [SEP]``.

    A ``tokenizers.Tokenizer`` carries its truncation setting as state, so each setting gets its own
    instance (made once, from the same JSON) instead of being switched per call, which two threads
    tokenizing at once would race on.
    """

    def __init__(self, tokenizer_json: str) -> None:
        from tokenizers import Tokenizer

        self._json = tokenizer_json
        plain = Tokenizer.from_str(tokenizer_json)
        plain.no_truncation()
        plain.no_padding()
        self._plain = plain
        self._windowed: dict[tuple[int, int], object] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_dir(cls, path: str | os.PathLike) -> ReaderTokenizer:
        f = Path(path) / TOKENIZER_FILE
        if not f.is_file():  # offsets need the fast tokenizer's file; vocab.txt alone is not enough
            raise RuntimeError(f"the span reader needs a fast tokenizer ({f} is missing)")
        return cls(f.read_text(encoding="utf-8"))

    def token_to_id(self, token: str) -> int | None:
        return self._plain.token_to_id(token)

    def encode_plain(self, text: str):
        """Word pieces of ``text`` without special tokens or truncation (``ids``, ``offsets``)."""
        return self._plain.encode(text, add_special_tokens=False)

    def _windows_tokenizer(self, max_length: int, stride: int):
        key = (int(max_length), int(stride))
        tok = self._windowed.get(key)
        if tok is None:
            with self._lock:
                tok = self._windowed.get(key)
                if tok is None:
                    from tokenizers import Tokenizer

                    tok = Tokenizer.from_str(self._json)
                    tok.enable_truncation(key[0], stride=key[1], strategy="only_second", direction="right")
                    tok.no_padding()
                    self._windowed[key] = tok
        return tok

    def encode_pairs(self, questions: Sequence[str], contexts: Sequence[str], max_length: int, stride: int):
        """``(pair index, encoding)`` for every window of every (question, context) pair, in order: each
        pair's first window, then its overflowing ones, as ``transformers`` returns them with
        ``truncation="only_second", return_overflowing_tokens=True``."""
        if len(questions) != len(contexts):
            raise ValueError("questions and contexts differ in length")
        if not questions:
            return []
        tok = self._windows_tokenizer(max_length, stride)
        out = []
        for i, enc in enumerate(tok.encode_batch(list(zip(questions, contexts)), add_special_tokens=True)):
            out.append((i, enc))
            out.extend((i, o) for o in enc.overflowing)
        return out
