"""The reader's input: question/context pairs as overlapping token windows (shared with training).

    from qa.reader.features import ReaderTokenizer, featurize, collate_numpy
    tok = ReaderTokenizer.from_dir(weights_dir)             # reads weights_dir/tokenizer.json
    feats = featurize(tok, ["Who?"], ["Guaido slipped out."], max_seq_len=192, stride=64)
    input_ids, token_type_ids, attention_mask = collate_numpy(feats)

:class:`ReaderTokenizer` runs on the ``tokenizers`` package alone (no ``transformers``, no torch).
``transformers``' fast BERT tokenizer is this same ``tokenizers`` object behind a Python layer that sets
truncation and padding before each call and flattens the overflowing windows after it; doing those two
steps here gives the same windows, ids and offsets (``tests/reader/test_onnx_runtime.py`` compares the
reader's features against ``transformers`` on real articles) at a fraction of the import cost.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_MAX_SEQ_LEN = 192
DEFAULT_STRIDE = 64
DEFAULT_MAX_QUERY_TOKENS = 64
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
        pairs = list(zip(questions, contexts, strict=True))
        for i, enc in enumerate(tok.encode_batch(pairs, add_special_tokens=True)):
            out.append((i, enc))
            out.extend((i, o) for o in enc.overflowing)
        return out


def load_tokenizer(path: str | os.PathLike):
    """``transformers``' fast tokenizer, for training (which saves it next to the weights); features are
    made by :class:`ReaderTokenizer` either way (:func:`featurize`)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True, use_fast=True)
    if not tok.is_fast:  # offsets need the fast tokenizer
        raise RuntimeError("the span reader needs a fast tokenizer (tokenizer.json)")
    return tok




@dataclass(frozen=True)
class Feature:
    """One window: ``input_ids`` over ``[CLS] question [SEP] context-window [SEP]``.

    ``offsets[i]`` is the (start, end) character span of token ``i`` in the context, or ``None`` for
    question/special tokens.
    """

    pair_index: int
    input_ids: list[int]
    token_type_ids: list[int]
    offsets: list[tuple[int, int] | None]
    context_start_token: int
    context_end_token: int  # inclusive


def reader_tokenizer(tokenizer) -> ReaderTokenizer:
    """``tokenizer`` as a :class:`ReaderTokenizer`: as is, or ``transformers``' fast tokenizer (training's)
    turned into one from the same ``tokenizers`` object."""
    if isinstance(tokenizer, ReaderTokenizer):
        return tokenizer
    return ReaderTokenizer(tokenizer.backend_tokenizer.to_str())


def truncate_question(tokenizer, question: str, max_query_tokens: int = DEFAULT_MAX_QUERY_TOKENS) -> str:
    question = " ".join(question.split())
    enc = reader_tokenizer(tokenizer).encode_plain(question)
    if len(enc.ids) <= max_query_tokens:
        return question
    return question[: enc.offsets[max_query_tokens - 1][1]]


def featurize(
    tokenizer,
    questions: Sequence[str],
    contexts: Sequence[str],
    max_seq_len: int = DEFAULT_MAX_SEQ_LEN,
    stride: int = DEFAULT_STRIDE,
    max_query_tokens: int = DEFAULT_MAX_QUERY_TOKENS,
) -> list[Feature]:
    """Sliding windows over each (question, context) pair; ``stride`` is the token overlap between windows.
    ``tokenizer``: a :class:`ReaderTokenizer` (or ``transformers``' fast tokenizer, see
    :func:`reader_tokenizer`)."""
    tok = reader_tokenizer(tokenizer)
    qs = [truncate_question(tok, q, max_query_tokens) for q in questions]
    feats: list[Feature] = []
    if not qs:
        return feats
    for pair_index, enc in tok.encode_pairs(qs, list(contexts), max_seq_len, stride):
        seq_ids = enc.sequence_ids
        offsets: list[tuple[int, int] | None] = [
            (int(o[0]), int(o[1])) if s == 1 else None for o, s in zip(enc.offsets, seq_ids, strict=False)
        ]
        ctx_tokens = [k for k, s in enumerate(seq_ids) if s == 1]
        if not ctx_tokens:
            continue
        feats.append(
            Feature(
                pair_index=pair_index,
                input_ids=list(enc.ids),
                token_type_ids=list(enc.type_ids),
                offsets=offsets,
                context_start_token=ctx_tokens[0],
                context_end_token=ctx_tokens[-1],
            )
        )
    return feats


def collate_numpy(feats: Sequence[Feature]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pad a batch of features to its longest member: int64 numpy ``(input_ids, token_type_ids,
    attention_mask)``, what every backend takes."""
    n = max(len(f.input_ids) for f in feats)
    ids = np.zeros((len(feats), n), dtype=np.int64)
    tt = np.zeros((len(feats), n), dtype=np.int64)
    mask = np.zeros((len(feats), n), dtype=np.int64)
    for b, f in enumerate(feats):
        L = len(f.input_ids)
        ids[b, :L] = f.input_ids
        tt[b, :L] = f.token_type_ids
        mask[b, :L] = 1
    return ids, tt, mask


def collate(feats: Sequence[Feature]):
    """:func:`collate_numpy` as torch tensors (training)."""
    import torch

    return tuple(torch.from_numpy(a) for a in collate_numpy(feats))

