"""The one thread policy of every model and search: a question runs on few threads, bulk work on every
core.

    from qa.runtime.threads import threads_for, run_each
    n = threads_for(len(texts))            # $QA_QUERY_THREADS (1) below SMALL_CALL items, else $QA_BULK_THREADS
    run_each(embed_one, texts, workers=n)  # one item per thread, n at a time

On a 2-core machine with anything else running, a second thread made one question several times slower
(bench/RESULTS.md, thread settings), hence one thread for a question by default.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from qa.errors import InvalidSettingError

T = TypeVar("T")
R = TypeVar("R")

#: Calls below this size are "a query" and run on :func:`query_threads` threads, larger ones (indexing,
#: batches) on :func:`bulk_threads`: texts for the embedder, questions for FAISS, windows for the reader.
SMALL_CALL = 16


def query_threads() -> int:
    """Threads for one question: ``$QA_QUERY_THREADS``, default 1."""
    return _threads_setting("QA_QUERY_THREADS", 1)


def bulk_threads() -> int:
    """Threads for indexing and batches: ``$QA_BULK_THREADS``, default every core."""
    return _threads_setting("QA_BULK_THREADS", os.cpu_count() or 1)


def _threads_setting(var: str, default: int) -> int:
    value = os.environ.get(var, "").strip()
    if not value:
        return default
    try:
        return max(1, int(value))
    except ValueError:
        raise InvalidSettingError(f"{var}={value!r} is not a number of threads: set it to a whole number such "
                                  f"as 1 or 2, or unset it") from None


def threads_for(n: int, small: int = SMALL_CALL) -> int:
    """The thread policy of every model and search: :func:`query_threads` below ``small`` items."""
    return query_threads() if n < small else bulk_threads()


def run_each(fn: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """``[fn(x) for x in items]``, ``workers`` at a time on a thread pool (ONNX Runtime releases the GIL).

    The models run one input at a time (a text, a reader window) on one thread each, and a bulk call
    spreads its inputs over the cores: int8 quantises activations per batch, so batching would make an
    input's output depend on what it was batched with, and on this CPU one input at a time per core was
    also faster than batches split over cores (no padding, no sharing of each operator across threads;
    bench/RESULTS.md, ingestion and batch).
    """
    if workers <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(fn, items))


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` intra-op threads in torch (process-wide; restored afterwards)."""
    import torch

    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n != before:
            torch.set_num_threads(before)


@contextmanager
def faiss_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` OpenMP threads for FAISS in the calling thread (restored afterwards)."""
    import faiss

    before = faiss.omp_get_max_threads()
    if n != before:
        faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        if n != before:
            faiss.omp_set_num_threads(before)
