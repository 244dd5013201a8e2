"""The span reader: reads the retrieved passages, re-ranks them by their best span, and answers.

The network (:mod:`qa.reader.backends`) is a :class:`transformers.BertForQuestionAnswering` (MiniLM-L6
encoder + one linear layer giving start/end logits per token), run over the windows of
:mod:`qa.reader.features`; :mod:`qa.reader.spans` turns each window's logits into candidate spans with
a *margin* over "no answer". A question is answered when the best margin over all windows of all
passages beats the calibrated threshold (``reader_config.json`` next to the weights); the confidence is
a logistic function of the margin, fitted on the validation articles.

Usage::

    from qa.reader import SpanReader
    reader = SpanReader()                      # backend: $QA_READER_BACKEND, else ONNX int8
    answer = reader.answer("Who slipped out of Venezuela?", passages)
    SpanReader(backend="torch")                # the PyTorch float32 network as trained
    SpanReader(abstain=False)                  # always proposes its best span (a gate decides)

Steps of :meth:`SpanReader.answer_many`: read (:meth:`~SpanReader.read_many`: every candidate span of
every passage), re-rank (:func:`qa.answerers.rerank.rerank`), decide (:meth:`~SpanReader.decide`: the
span of the asked-for type, or the evidence sentence, or no answer; with the other articles that give the
same answer cited too, and the different answers others give as alternatives). A call with few windows (one
question) runs on ``$QA_QUERY_THREADS`` threads (default 1), a bigger batch on all cores
(:func:`qa.runtime.threads.threads_for`).

Longer than most modules because it is one class: reading and deciding share the settings calibrated in
``reader_config.json``; everything that needs none of them lives in the other rooms of :mod:`qa.reader`
and in :mod:`qa.answerers.rerank`.
"""

from __future__ import annotations

import math
import os
import re
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.answerers.agreement import group
from qa.answerers.agreement import message as agreement_message
from qa.answerers.answer_types import (
    Agreement,
    Expects,
    QuestionType,
    agreement,
    defined_name,
    mentions,
    question_type,
    unnamed_message,
    words,
    wrong_type_message,
)
from qa.answerers.equivalence import Relation, relation
from qa.answerers.protocol import cite, no_answer
from qa.answerers.rerank import rerank
from qa.lexical import content_terms, term_share
from qa.reader.backends import OnnxSpanModel, SpanModel, load_network, reader_backend
from qa.reader.features import (
    DEFAULT_MAX_QUERY_TOKENS,
    DEFAULT_MAX_SEQ_LEN,
    DEFAULT_STRIDE,
    Feature,
    ReaderTokenizer,
    collate_numpy,
    featurize,
)
from qa.reader.shipped import WEIGHTS_DIR, reader_config
from qa.reader.spans import DEFAULT_MAX_ANSWER_TOKENS, SpanCandidate, repair_span, trim_span, window_candidates
from qa.runtime.threads import threads_for
from qa.sentences import sentence_around
from qa.stats import sigmoid
from qa.types import EVIDENCE, SPAN, Alternative, Answer, Citation, Passage

#: Below this many windows a forward pass is "a query" and runs on ``$QA_QUERY_THREADS`` threads.
SMALL_FORWARD = 32
#: a span scores its passage's fused retrieval score + this x its margin, and passages are re-ranked by
#: their best span (chosen on the SQuAD training articles by end-to-end F1 with
#: ``bench/answer_selection.py``; 0 = retrieval order and ``rank_weight`` instead)
DEFAULT_RERANK_WEIGHT = 0.5
#: how many retrieved passages the reader reads and re-ranks per question
DEFAULT_READ_DEPTH = 10
#: the margin of a passage in which the reader found no span at all
NO_SPAN_MARGIN = -50.0
#: how far below the best span (in the units spans are ranked by, :meth:`SpanReader.span_score`) a span
#: of the type the question asks for may be and still be preferred to it (chosen on the SQuAD training
#: articles with ``bench/end_to_end.py``; see ``bench/RESULTS.md``, "Trustworthy answers")
TYPE_WINDOW = 2.0
#: how many of the best-ranked spans are typed when looking for one of the asked-for type
TYPE_CANDIDATES = 20
#: the most words a span may have to stand in for the best one: answers to typed questions are short
#: (``bench/RESULTS.md``, "Trustworthy answers"), and a long span "of the right type" is usually a
#: clause that merely contains a name or a number
TYPED_MAX_WORDS = 6
#: how far below the chosen span (in :meth:`SpanReader.span_score` units, as :data:`TYPE_WINDOW`) another
#: article's different answer may be and still be shown as what that article says (chosen on the planted
#: articles of ``bench/agreement.py`` and checked on held-out SQuAD questions there, where every other
#: article's answer is an unrelated span: ``bench/RESULTS.md``, "Agreement and conflict")
CONFLICT_WINDOW = 5.0
#: how much smaller a share of the question's content words another article's different answer may have in
#: its sentence than the answer's own sentence has: a sentence that speaks of something else (another
#: church, another Edward) is not a conflicting report of the same fact
CONFLICT_OVERLAP_SLACK = 0.25
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_BREAK = re.compile(r"[.!?][\"'\u201d\u2019]?\s+[\"'\u201c\u2018]?[A-Z]")
EVIDENCE_MESSAGE = "From the article: "

#: a candidate span as read: ``(passage, pair number, candidate)``, offsets local to the passage
Read = tuple[Passage, int, SpanCandidate]


@dataclass(frozen=True)
class Ranked:
    """The passages and candidate spans of one question, best first (:meth:`SpanReader.rank`), with the
    rank each passage counts as for the confidence: its place after re-ranking, else its retrieval rank."""

    passages: list[Passage]
    spans: list[Read]
    ranks: dict[int, int]  # id(passage) -> rank

    def rank_of(self, p: Passage) -> int:
        return self.ranks[id(p)]


class SpanReader:
    """Extractive reader implementing :class:`qa.answerers.protocol.Answerer`.

    Parameters default to the values stored in ``<weights_dir>/reader_config.json`` (written by
    training/calibration): ``null_threshold`` is the margin a span must beat to be returned;
    ``abstain=False`` always returns the best span instead (for a gate in front of the reader, which
    decides); ``confidence_scale``/``confidence_bias`` map the margin to a probability; ``rank_weight``
    is subtracted from a span's margin per rank of its passage, for the confidence, the null threshold
    and merging (and for choosing the span when re-ranking is off); ``merge_threshold`` is the margin
    another article's copy of the same answer needs to be cited too (default: ``null_threshold``, or
    every copy without abstaining). ``rerank_weight`` w scores a span as its passage's fused retrieval
    score + w x its margin and re-orders the passages by their best span (see :meth:`rank`; 0 = keep the
    retrieval order); ``read_depth`` is how many retrieved passages the engine hands the reader for that
    (:class:`qa.engine.QA` keeps the best ``k`` in the answer; 0 without re-ranking: the reader reads
    the ``k`` it is given). ``backend`` picks how the network runs
    (:func:`~qa.reader.backends.reader_backend`: default ``$QA_READER_BACKEND``, else ONNX int8);
    ``num_threads`` fixes the thread count of every forward pass (default: ``$QA_QUERY_THREADS`` or 1 for
    a query; for a batch ``$QA_BULK_THREADS``, else torch's thread count, else all cores).
    ``answer_types`` prefers spans of the type the question asks for and answers questions no span can
    answer with their evidence sentence (:meth:`decide`);
    ``repair_edges`` repairs span edges (:func:`qa.reader.spans.repair_span`); both off reproduce the
    reader as it was before them. ``conflict_window`` is how far below the answer another article's
    different answer may be and still be shown beside it (:data:`CONFLICT_WINDOW`; 0 shows none).
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
        abstain: bool = True,
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
        conflict_window: float = CONFLICT_WINDOW,
    ) -> None:
        self.weights_dir = Path(weights_dir) if weights_dir else WEIGHTS_DIR
        self.backend = reader_backend(backend)  # as asked; ``backend_used`` says what runs (after a fallback)
        self.backend_used: str | None = None
        cfg = reader_config(self.weights_dir)
        self.config = cfg
        self.max_answer_tokens = int(max_answer_tokens or cfg.get("max_answer_tokens", DEFAULT_MAX_ANSWER_TOKENS))
        self.max_seq_len = int(max_seq_len or cfg.get("max_seq_len", DEFAULT_MAX_SEQ_LEN))
        self.stride = int(stride or cfg.get("stride", DEFAULT_STRIDE))
        self.max_query_tokens = int(cfg.get("max_query_tokens", DEFAULT_MAX_QUERY_TOKENS))
        self.null_threshold = float(null_threshold if null_threshold is not None else cfg.get("null_threshold", 0.0))
        self.abstain = abstain
        self.rank_weight = float(rank_weight if rank_weight is not None else cfg.get("rank_weight", 0.25))
        if merge_threshold is None:
            merge_threshold = self.null_threshold if abstain else -math.inf
        self.merge_threshold = float(merge_threshold)
        if rerank_weight is None:
            rerank_weight = cfg.get("rerank_weight", DEFAULT_RERANK_WEIGHT)
        self.rerank_weight = float(rerank_weight)
        # without re-ranking the reader reads just the k passages it is given
        self.read_depth = int(read_depth or cfg.get("read_depth", DEFAULT_READ_DEPTH)) if self.rerank_weight else 0
        self.confidence_scale = float(cfg.get("confidence_scale", 0.5))
        self.confidence_bias = float(cfg.get("confidence_bias", 0.0))
        self.batch_size = int(batch_size)
        self.num_threads = num_threads
        self.n_best = int(n_best)
        self.answer_types = answer_types
        self.repair_edges = repair_edges
        self.conflict_window = float(conflict_window)
        self._network: SpanModel | None = None
        self._tokenizer: ReaderTokenizer | None = None
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
            self._network, self.backend_used = load_network(self.weights_dir, self.backend)

    @property
    def tokenizer(self) -> ReaderTokenizer:
        self._ensure_loaded()
        assert self._tokenizer is not None
        return self._tokenizer

    def threads_for(self, n_windows: int) -> int:
        """Threads for a forward pass over ``n_windows`` windows."""
        if self.num_threads:
            return int(self.num_threads)
        if n_windows >= SMALL_FORWARD and not os.environ.get("QA_BULK_THREADS") and "torch" in sys.modules:
            # the caller's torch.set_num_threads (evaluation)
            return max(1, int(sys.modules["torch"].get_num_threads()))
        return threads_for(n_windows, SMALL_FORWARD)

    def confidence(self, margin: float) -> float:
        """Calibrated probability that the span with this margin is right."""
        if margin == -math.inf:
            return 0.0
        return sigmoid(self.confidence_scale * margin + self.confidence_bias)

    # ---------------------------------------------------------------- reading

    def _forward(self, feats: list[Feature]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Start/end logits (numpy) per feature, batched by length."""
        self._ensure_loaded()
        network = self._network
        order = sorted(range(len(feats)), key=lambda k: len(feats[k].input_ids))
        starts: list[Any] = [None] * len(feats)
        ends: list[Any] = [None] * len(feats)
        threads = self.threads_for(len(feats))
        if self.backend_used == "onnx-int8":
            assert isinstance(network, OnnxSpanModel)
            # each window alone (see OnnxSpanModel.run_each): the same logits whether a question is asked
            # alone or in a batch, and a batch's windows spread over the cores
            with self._forward_lock:
                out = network.run_each([collate_numpy([feats[k]]) for k in order], workers=threads)
            for k, (sl, el) in zip(order, out, strict=True):
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

    def logits(self, input_ids: np.ndarray, token_type_ids: np.ndarray, attention_mask: np.ndarray,
               threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Start and end logits (numpy, float32) of one padded batch (int64 numpy arrays)."""
        self._ensure_loaded()
        assert self._network is not None
        return self._network(input_ids, token_type_ids, attention_mask, threads=threads)

    def predict_pairs(self, questions: Sequence[str], contexts: Sequence[str]
                      ) -> list[tuple[float, list[SpanCandidate]]]:
        """For each (question, context) pair: (best null score over its windows, candidates by margin).

        Candidates keep offsets local to the context; each window's candidates carry that window's null.
        """
        feats = featurize(self.tokenizer, questions, contexts, self.max_seq_len, self.stride, self.max_query_tokens)
        results: list[tuple[float, list[SpanCandidate]]] = [(math.inf, []) for _ in questions]
        if not feats:
            return results
        starts, ends = self._forward(feats)
        for f, s, e in zip(feats, starts, ends, strict=True):
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

    def read_many(self, questions: Sequence[str], passages_per_question: Sequence[Sequence[Passage]]
                  ) -> list[list[Read]]:
        """The network's part of :meth:`answer_many`: for each question, every candidate span found in
        its passages as ``(passage, pair number, candidate)`` (offsets local to the passage);
        :meth:`decide` turns them into the answer."""
        if len(questions) != len(passages_per_question):
            raise ValueError("questions and passages_per_question differ in length")
        pair_q: list[int] = []
        pair_p: list[Passage] = []
        for qi, ps in enumerate(passages_per_question):
            for p in ps:
                if p.text and p.text.strip():
                    pair_q.append(qi)
                    pair_p.append(p)
        results = self.predict_pairs([questions[qi] for qi in pair_q], [p.text for p in pair_p]) if pair_p else []
        per_q: list[list[Read]] = [[] for _ in questions]
        for k, (qi, p) in enumerate(zip(pair_q, pair_p, strict=True)):
            for c in results[k][1]:
                per_q[qi].append((p, k, c))
        return per_q

    # ---------------------------------------------------------------- answering

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend, "abstain": self.abstain, "null_threshold": self.null_threshold,
                "rank_weight": self.rank_weight, "rerank_weight": self.rerank_weight, "read_depth": self.read_depth,
                "max_seq_len": self.max_seq_len, "stride": self.stride, "max_answer_tokens": self.max_answer_tokens}

    def answer(self, question: str, passages: Sequence[Passage]) -> Answer:
        return self.answer_many([question], [passages])[0]

    def answer_many(self, questions: Sequence[str], passages_per_question: Sequence[Sequence[Passage]]) -> list[Answer]:
        """Answer several questions, batching all windows of all passages through the model together."""
        t0 = time.perf_counter()
        found = self.read_many(questions, passages_per_question)
        per_question = (time.perf_counter() - t0) / max(1, len(questions))
        return [replace(a, timings={**a.timings, "reader": per_question})
                for a in (self.decide(q, list(ps), cands)
                          for q, ps, cands in zip(questions, passages_per_question, found, strict=True))]

    def rank(self, passages: list[Passage], cands: list[Read]) -> Ranked:
        """The passages and the candidate spans, best first.

        With ``rerank_weight`` w > 0 a span scores ``fused score of its passage + w * margin``; passages
        are re-ordered by their best span's score (:func:`qa.answerers.rerank.rerank`, which records it as
        their ``rerank_score``, :data:`NO_SPAN_MARGIN` standing in for a passage without a span), so the
        answer comes from the first passage, and each passage counts its new place as its rank. With
        w = 0 passages keep the retrieval order and rank, and a span scores ``margin - rank_weight * rank``."""
        w = self.rerank_weight
        if not w:
            ranks = {id(p): _retrieval_rank(passages, p) for p in passages}
            spans = sorted(cands, key=lambda t: -(t[2].margin - self.rank_weight * ranks[id(t[0])]))
            return Ranked(passages, spans, ranks)
        best: dict[int, float] = {}
        for p, _, c in cands:
            best[id(p)] = max(best.get(id(p), NO_SPAN_MARGIN), c.margin)
        order = rerank(passages, [best.get(id(p), NO_SPAN_MARGIN) for p in passages], w)
        moved = {id(passages[i]): p for i, p in order}
        spans = sorted(cands, key=lambda t: -(t[0].score + w * t[2].margin))  # fused score + w * margin
        ranked = [p for _, p in order]
        return Ranked(ranked, [(moved[id(p)], k, c) for p, k, c in spans], {id(p): r for r, p in enumerate(ranked)})

    def adjusted_margin(self, ranked: Ranked, p: Passage, c: SpanCandidate) -> float:
        """A span's margin less ``rank_weight`` per rank of its passage: what its confidence and the null and
        merge thresholds are read against."""
        return c.margin - self.rank_weight * ranked.rank_of(p)

    def span_score(self, ranked: Ranked, p: Passage, c: SpanCandidate) -> float:
        """What a span is compared by when looking for one of the asked-for type (:meth:`choose`): with
        re-ranking, its passage's rerank score + w x its margin (:data:`TYPE_WINDOW` was chosen in these
        units), else its margin less ``rank_weight`` per rank."""
        if self.rerank_weight:
            assert p.rerank_score is not None
            return p.rerank_score + self.rerank_weight * c.margin
        return self.adjusted_margin(ranked, p, c)

    def _repaired(self, question: str, spans: list[Read]) -> list[Read]:
        out = []
        for p, k, c in spans:
            a, b = repair_span(p.text, c.start_char, c.end_char, question)
            if a < b and (a, b) != (c.start_char, c.end_char):
                c = replace(c, start_char=a, end_char=b)
            out.append((p, k, c))
        return out

    def choose(self, question: str, qt: QuestionType, ranked: Ranked) -> tuple[int, Agreement]:
        """Index in ``ranked.spans`` of the span to answer with, and its agreement with the asked-for type.

        The best-ranked span unless it is clearly of another type than the question asks for (a date
        for "how long", a bare title for "who", the question's own words): then the best span within
        :data:`TYPE_WINDOW` of it that is of the asked-for type or, failing that, one that is at least
        not of another type; a stand-in must be short (:data:`TYPED_MAX_WORDS`) and within one
        sentence. A span the patterns cannot judge is never displaced: the typing is too coarse to
        overrule the reader there."""
        spans = ranked.spans
        first = agreement(qt, _span_text(spans[0]), question)
        if first is not Agreement.MISMATCH:
            return 0, first
        floor = self.span_score(ranked, spans[0][0], spans[0][2]) - TYPE_WINDOW
        fallback: tuple[int, Agreement] = (0, first)
        for i, (p, _, c) in enumerate(spans[1:TYPE_CANDIDATES], start=1):
            if self.span_score(ranked, p, c) < floor:
                break
            text = _span_text(spans[i])
            if len(words(text)) > TYPED_MAX_WORDS or _SENTENCE_BREAK.search(text):
                continue
            a = agreement(qt, text, question)
            if a is Agreement.MATCH:
                return i, a
            if a is Agreement.UNKNOWN and fallback[1] is Agreement.MISMATCH:
                fallback = (i, a)
        return fallback

    def _naming(self, name: str, ranked: Ranked) -> int | None:
        """Index in ``ranked.spans`` of the best-ranked span whose sentence names ``name``
        (:func:`~qa.answerers.answer_types.mentions`), however far below the first; None when there is none."""
        for i, (p, _, c) in enumerate(ranked.spans):
            lo, hi = _sentence(p.text, c.start_char, c.end_char)
            if mentions(name, p.text[lo:hi]):
                return i
        return None

    def decide(self, question: str, passages: list[Passage], cands: list[Read]) -> Answer:
        """The answer from the candidate spans of :meth:`read_many`.

        With ``answer_types`` on: a question no short span answers (why, how + verb, yes/no, "what
        happened"; :func:`qa.answerers.answer_types.question_type`) is answered with the sentence around
        the best span, ``kind="evidence"`` (for "Who is <name>?", the best span whose sentence names them,
        refused when none does); otherwise a span of the asked-for type is preferred
        (:meth:`choose`), and when the candidates hold none (only dates for "how long", only a bare
        title for "who") the question is refused with a message that says so. With ``repair_edges``
        on, span edges are repaired first (:func:`qa.reader.spans.repair_span`)."""
        # an answer never runs across a blank line: such a span joins the end of one paragraph to the start
        # of the next, and a name in it makes it look like an answer of the asked-for type
        cands = [r for r in cands if not _PARAGRAPH_BREAK.search(_span_text(r))]
        ranked = self.rank(passages, cands)
        passages = ranked.passages
        if not ranked.spans:
            return no_answer(question, passages, 0.0)
        if self.repair_edges:
            ranked = replace(ranked, spans=self._repaired(question, ranked.spans))
        qt = question_type(question) if self.answer_types else QuestionType(SPAN, Expects.ANY)
        pick, agreed = self.choose(question, qt, ranked) if self.answer_types else (0, Agreement.UNKNOWN)
        best_p, _, best = ranked.spans[pick]
        adj = self.adjusted_margin(ranked, best_p, best)
        conf = self.confidence(adj)
        if self.abstain and adj < self.null_threshold:
            return no_answer(question, passages, round(1.0 - conf, 6))
        if qt.kind == EVIDENCE:
            name = defined_name(question)
            if name:  # "Who is <name>?": a sentence that does not name them is about someone else
                named = self._naming(name, ranked)
                if named is None:
                    return replace(no_answer(question, passages, round(1.0 - conf, 6)), message=unnamed_message(name))
                best_p, _, best = ranked.spans[named]
                conf = self.confidence(self.adjusted_margin(ranked, best_p, best))
            return self._evidence(question, passages, best_p, best, conf)
        if qt.typed and agreed is Agreement.MISMATCH:
            # no span of the asked-for type: a wrong-typed span would be a confident wrong answer
            return replace(no_answer(question, passages, round(1.0 - conf, 6)), message=wrong_type_message(qt))
        text = best_p.text[best.start_char : best.end_char]
        lo, hi = _sentence(best_p.text, best.start_char, best.end_char)
        citations, alternatives = self._across_articles(question, qt, ranked, ranked.spans[pick], text,
                                                        best_p.text[lo:hi], conf)
        return Answer(
            question=question,
            text=text,
            score=round(conf, 6),
            citations=citations,
            passages=tuple(passages),
            context=best_p.text[lo:hi],
            context_offset=best_p.start + lo,
            message=agreement_message(citations, alternatives, text),
            alternatives=alternatives,
        )

    def _across_articles(self, question: str, qt: QuestionType, ranked: Ranked, chosen: Read, text: str,
                         sentence: str, conf: float) -> tuple[tuple[Citation, ...], tuple[Alternative, ...]]:
        """The citations of the answer ``text`` (in ``sentence`` of its passage) and the different answers of
        other articles.

        Cited: the chosen span's article first, then each other article with a span above the merge
        threshold that says the same (:meth:`_says`). A different answer
        (:func:`qa.answerers.agreement.group`) must be as well supported as an answer the reader would give
        from that article alone: the article's first span within :attr:`conflict_window` of the chosen one
        that fits the question (of the asked-for type, short, one sentence) and beats the reader's null
        threshold, in a sentence about the question (:data:`CONFLICT_OVERLAP_SLACK`); only a clearly
        different figure, date or person counts. Other articles that say the same as such an answer join it."""
        best_p, _, best = chosen
        asked = content_terms(question)
        on_topic = term_share(asked, sentence) - CONFLICT_OVERLAP_SLACK
        citations: list[Citation] = [cite(best_p, best.start_char, best.end_char, conf, best.score)]
        cited = {best_p.article_id}
        for worded in (False, True):  # word-for-word copies first: an article that has one cites it
            for p, _, c in ranked.spans:
                cadj = self.adjusted_margin(ranked, p, c)
                if p.article_id not in cited and self._says(text, question, qt, p, c, cadj, asked, on_topic,
                                                            worded):
                    cited.add(p.article_id)
                    citations.append(cite(p, c.start_char, c.end_char, self.confidence(cadj), c.score))
        if not self.answer_types or self.conflict_window <= 0:
            return tuple(citations), ()
        floor = self.span_score(ranked, best_p, best) - self.conflict_window
        picks: list[tuple[str, float, Citation]] = []
        judged = set(cited)
        for p, _, c in ranked.spans:
            if p.article_id in judged:
                continue
            if self.span_score(ranked, p, c) < floor:
                break
            span = p.text[c.start_char : c.end_char]
            cadj = self.adjusted_margin(ranked, p, c)
            if (cadj < self.null_threshold or len(words(span)) > TYPED_MAX_WORDS or _SENTENCE_BREAK.search(span)
                    or (qt.typed and agreement(qt, span, question) is not Agreement.MATCH)):
                continue
            judged.add(p.article_id)  # the article's answer: its first span that fits
            if _about(asked, p, c) >= on_topic:
                sure = self.confidence(cadj)
                picks.append((span, round(sure, 6), cite(p, c.start_char, c.end_char, sure, c.score)))
        alternatives = group(text, picks, qt.expects)
        grouped = cited | {x.article_id for alt in alternatives for x in alt.citations}
        for p, _, c in ranked.spans:
            if p.article_id in grouped:
                continue
            cadj = self.adjusted_margin(ranked, p, c)
            for i, alt in enumerate(alternatives):
                if self._says(alt.text, question, qt, p, c, cadj, asked, on_topic):
                    grouped.add(p.article_id)
                    cs = (*alt.citations, cite(p, c.start_char, c.end_char, self.confidence(cadj), c.score))
                    alternatives = (*alternatives[:i], replace(alt, citations=cs), *alternatives[i + 1:])
                    break
        return tuple(citations), alternatives

    def _says(self, answer: str, question: str, qt: QuestionType, p: Passage, c: SpanCandidate, adj: float,
              asked: set[str], on_topic: float, worded: bool = True) -> bool:
        """Whether the span ``c`` of ``p`` (adjusted margin ``adj``) gives ``answer``: above the merge threshold,
        word for word or (``worded``) in other words (:func:`qa.answerers.equivalence.relation`) in a sentence
        about the question, so that "60" in an article about something else is not "over 60 percent"."""
        if adj < self.merge_threshold:
            return False
        span = p.text[c.start_char : c.end_char]
        if span == answer:
            return True
        if len(words(span)) > TYPED_MAX_WORDS or _SENTENCE_BREAK.search(span):
            return False  # a clause that holds the figure is not the figure
        return worded and self.answer_types and (relation(answer, span, qt.expects) is Relation.SAME
                and agreement(qt, span, question) is not Agreement.MISMATCH and _about(asked, p, c) >= on_topic)

    def _evidence(self, question: str, passages: list[Passage], p: Passage, c: SpanCandidate, conf: float) -> Answer:
        """The sentence of ``p`` around the span ``c``, as an answer of kind ``"evidence"``."""
        lo, hi = _sentence(p.text, c.start_char, c.end_char)
        text = p.text[lo:hi]
        return Answer(
            question=question,
            text=text,
            score=round(conf, 6),
            citations=(cite(p, lo, hi, conf, c.score),),
            passages=tuple(passages),
            context=text,
            context_offset=p.start + lo,
            message=EVIDENCE_MESSAGE + text,
            kind=EVIDENCE,
        )


def _about(terms: set[str], p: Passage, c: SpanCandidate) -> float:
    """Share of ``terms`` that the sentence of ``p`` around the span ``c`` holds."""
    lo, hi = _sentence(p.text, c.start_char, c.end_char)
    return term_share(terms, p.text[lo:hi])


def _retrieval_rank(passages: list[Passage], p: Passage) -> int:
    try:
        return int(p.rank)
    except (TypeError, ValueError):
        return passages.index(p)


def _span_text(item: Read) -> str:
    p, _, c = item
    return p.text[c.start_char : c.end_char]


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """``(lo, hi)`` of the sentence(s) of ``text`` that hold ``text[start:end]``, whitespace trimmed."""
    lo, hi = sentence_around(text, start, end)
    while lo < hi and text[lo].isspace():
        lo += 1
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    return lo, hi
