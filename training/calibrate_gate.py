"""Fit the reader's no-answer gate (:class:`qa.answerers.gate.NoAnswerGate`) and write it to qa/calibration.json.

    python -m training.calibrate_gate [--n 300] [--min-refusal 0.85] [--weights DIR] [--rerank W]

Corpus: the retrieval benchmark's index (40 SQuAD v1.1 articles + 2,225 BBC articles,
:func:`training.datasets.squad_bbc_corpus`). ``--n`` questions of the SQuAD *training* articles are each
read twice by the reader as it ships (answer types, evidence sentences, edge repair): with every article
indexed (answerable) and with the question's own article taken out (unanswerable: the article is not in
the folder). The gate is a logistic regression (:func:`training.calibration.fit_gate`) over all
:data:`qa.answerers.gate.FEATURES` with the label "the answer shown is right" (a span with token F1 >= 0.5
against a reference, or an evidence sentence that holds one; nothing is right when the article is out);
its threshold is the lowest that refuses ``--min-refusal`` of the unanswerable questions. Answers the
reader refused itself are left out, as the gate never sees them.

The reader's candidate spans are cached under ``bench/.cache`` (shared with ``bench/end_to_end.py``, which
measures the gate on the held-out validation articles with the same questions).
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import random
import sys
import time
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from qa.answerers.gate import FEATURES, KEY, NoAnswerGate, features
from qa.answerers.protocol import passages_to_read
from qa.config import Settings
from qa.engine import QA
from qa.fileio import atomic_write, sha256_file
from qa.metrics import normalize_answer, score_one
from qa.reader import SpanReader
from qa.reader.backends import EXPORT_VERSION
from qa.types import EVIDENCE, Answer
from training.calibration import fit_gate, write_calibration_entry
from training.datasets import (
    CACHE,
    VALIDATION_ARTICLES,
    article_name,
    read_jsonl,
    squad_bbc_corpus,
    squad_bbc_index,
    squad_dir,
    with_and_without_own_article,
)

#: The index of :func:`training.datasets.squad_bbc_corpus` at the default chunking.
INDEX_DIR = squad_bbc_index()
READS_CACHE = CACHE / "end_to_end-reads.pkl"


def questions(n: int) -> tuple[list[dict], list[dict]]:
    """``n`` SQuAD v1.1 questions of the training articles (to fit on) and ``n`` of the validation
    articles (to report on), the same on every run."""
    all_qs = read_jsonl(squad_dir() / "squad11" / "qa.jsonl")
    rng = random.Random(0)
    tune = rng.sample([q for q in all_qs if article_name(q["doc_id"]) not in VALIDATION_ARTICLES], n)
    test = rng.sample([q for q in all_qs if article_name(q["doc_id"]) in VALIDATION_ARTICLES], n)
    return tune, test


def corpus_qa() -> QA:
    """The engine over the SQuAD + BBC corpus, its index brought up to date."""
    qa = QA(settings=Settings(articles_dir=squad_bbc_corpus(), index_dir=INDEX_DIR))
    qa.refresh()
    return qa


@lru_cache(maxsize=8)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(Path(path))  # once per file version: size and mtime are in the cache key


def weights_fingerprint(weights_dir: str | Path) -> str:
    """The reader weights' identity in cache keys: a digest of their ``model.safetensors``. Neither the
    folder (clones and worktrees share ``bench/.cache``) nor a name (new weights written over the shipped
    ones must not be served the old weights' reads) would do."""
    st = (Path(weights_dir) / "model.safetensors").stat()
    return _file_digest(str(Path(weights_dir) / "model.safetensors"), st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class Read:
    """One question read by the network: its passages and candidate spans (``SpanReader.read_many``)."""

    question: str
    passages: list
    candidates: list


class ReadCache:
    """The reader's candidate spans per (question, passages read, reader), kept on disk between runs,
    so that decision rules and gates can be compared without running the network again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, list] = {}
        if path.exists():
            try:
                self.data = pickle.loads(path.read_bytes())
            except (OSError, pickle.UnpicklingError, EOFError, ImportError, AttributeError):  # an older layout
                self.data = {}

    @staticmethod
    def key(question: str, passages, reader) -> str:
        h = hashlib.sha1(question.encode())
        for p in passages:
            h.update(f"|{p.article_id}:{p.start}:{p.end}:{p.score:.6f}".encode())
        # the export version too: a new export of the same weights reads other logits
        h.update(f"|{weights_fingerprint(reader.weights_dir)}|{reader.backend}|{EXPORT_VERSION}|{reader.n_best}"
                 f"|{reader.max_seq_len}".encode())
        return h.hexdigest()

    def save(self) -> None:
        atomic_write(self.path, pickle.dumps(self.data))


def read_all(qa: QA, reader: Any, cache: ReadCache, qs: list[dict], depth: int,
             batch: int = 16) -> tuple[list[Read], list[Read]]:
    """(answerable reads, unanswerable reads): every article indexed, and the question's own taken out."""
    pos: list[Read] = []
    neg: list[Read] = []
    for i in range(0, len(qs), batch):
        part = qs[i:i + batch]
        pairs = with_and_without_own_article(qa, part, depth)
        changed = False
        for side, out in ((0, pos), (1, neg)):
            todo = [(q["question"], pair[side]) for q, pair in zip(part, pairs)]
            keys = [ReadCache.key(q, ps, reader) for q, ps in todo]
            missing = [j for j, k in enumerate(keys) if k not in cache.data]
            if missing:
                found = reader.read_many([todo[j][0] for j in missing], [todo[j][1] for j in missing])
                for j, cands in zip(missing, found):
                    where = {id(p): n for n, p in enumerate(todo[j][1])}
                    cache.data[keys[j]] = [(where[id(p)], k, c) for p, k, c in cands]
                changed = True
            for (q, ps), k in zip(todo, keys):
                out.append(Read(q, list(ps), [(ps[n], pk, c) for n, pk, c in cache.data[k]]))
        if changed:
            cache.save()
            print(f"  read {min(i + batch, len(qs))}/{len(qs)}", file=sys.stderr, flush=True)
    return pos, neg


def decide_all(reader: Any, reads: list[Read]) -> list[Answer]:
    return [reader.decide(r.question, list(r.passages), list(r.candidates)) for r in reads]


def right(answer: Answer, refs: list[str] | None) -> bool:
    """Is the shown answer right? ``refs`` None: the question is unanswerable, so no answer is."""
    if refs is None or answer.text is None:
        return False
    if answer.kind == EVIDENCE:
        text = f" {normalize_answer(answer.text)} "
        return any(f" {normalize_answer(r)} " in text for r in refs if normalize_answer(r))
    return score_one(answer.text, refs)[1] >= 0.5


def probability(gate: NoAnswerGate, answer: Answer) -> float:
    """The confidence shown with ``answer`` (0 when the reader itself refused: the gate never sees it)."""
    return gate.probability(answer) if answer.text is not None else 0.0


def fit(pos: list[Answer], neg: list[Answer], refs: list[list[str]], n_features: int, label_right: bool,
        min_refusal: float) -> NoAnswerGate:
    """A gate over the first ``n_features`` features, fitted on training questions: labels "answerable"
    (as the shipped gate before) or "the answer is right"; threshold the lowest that refuses
    ``min_refusal`` of the unanswerable ones. Answers the reader refused itself are left out of the
    fit, as the gate never sees them."""
    ys = [int(right(a, r)) if label_right else 1 for a, r in zip(pos, refs)] + [0] * len(neg)
    kept = [(a, y) for a, y in zip(pos + neg, ys) if a.text is not None]
    weights, bias = fit_gate([features(a)[:n_features] for a, _ in kept], [y for _, y in kept])
    gate = NoAnswerGate(weights, bias, 0.5)
    probs_neg = sorted(probability(gate, a) for a in neg)
    grid = sorted(set([probability(gate, a) for a in pos] + probs_neg))
    return replace(gate, threshold=float(next(t for t in grid if np.mean([p < t for p in probs_neg]) >= min_refusal)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300, help="questions of the training articles")
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("--rerank", type=float, default=None,
                    help="the reader's re-ranking weight (default: the shipped one)")
    ap.add_argument("--weights", default=None, help="reader weights folder (default: the shipped ones)")
    ap.add_argument("--min-refusal", type=float, default=0.85,
                    help="the threshold: the lowest that refuses at least this share of the unanswerable questions")
    args = ap.parse_args(argv)

    qa = corpus_qa()
    reader = SpanReader(args.weights, abstain=False, rerank_weight=args.rerank)
    tune, _ = questions(args.n)
    pos, neg = read_all(qa, reader, ReadCache(READS_CACHE), tune, passages_to_read(reader, args.k))
    gate = fit(decide_all(reader, pos), decide_all(reader, neg), [q["answers"] for q in tune], len(FEATURES),
               label_right=True, min_refusal=args.min_refusal)
    entry = {"weights": gate.weights, "bias": gate.bias, "threshold": gate.threshold, "features": list(FEATURES),
             "method": f"python -m training.calibrate_gate --min-refusal {args.min_refusal}: SQuAD v1.1 + BBC, "
                       "training articles; label: the answer shown is right (span F1 >= 0.5 or evidence "
                       "holding a reference), none when the own article is removed",
             "n": args.n, "date": time.strftime("%Y-%m-%d")}
    write_calibration_entry(KEY, entry)
    print("calibrated:", {"weights": gate.weights, "bias": gate.bias, "threshold": gate.threshold}, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
