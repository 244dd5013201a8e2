"""Answer a file of questions on a Ray cluster: ``qa batch questions.jsonl -o answers.jsonl --ray [ADDRESS]``.

    from qa.batch import run_batch
    from qa.distributed.batch import RayBatchAnswerer
    from qa.textio import read_questions
    questions = read_questions("questions.jsonl").questions
    run_batch(None, questions, "answers.jsonl", answer_batches=RayBatchAnswerer("archive", "archive-index"))

:func:`qa.batch.run_batch` keeps doing what it does on one machine: it reads the output back, skips
the ids already answered, and appends each batch's rows in input order, fsynced, so an interrupted run
resumes where it stopped. This module only answers the batches: first it brings the index up to date
on the driver (new or changed articles are embedded on the cluster by
:class:`qa.distributed.encoder.RayChunkEncoder`), then it starts a pool of actors that each load the
index and the reader once, hands them batches as they become free and yields the answers back in
submission order. An actor that dies is restarted by Ray (its index and reader reloaded) and its batch
answered again; its answers are only yielded once, so nothing is lost or written twice.

Workers read the index (and check the articles folder) from the same paths as the driver: on a
cluster of several machines, put both folders on storage every node mounts at the same path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.batch import answer_batch
from qa.config import Settings
from qa.distributed import DEFAULT_RETRIES, connect, limit_threads, pool_size, require_ray
from qa.distributed.encoder import RayChunkEncoder
from qa.engine import QA
from qa.errors import QAError
from qa.textio import Question

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QAFactory:
    """Builds a worker's :class:`qa.engine.QA` over the (already up to date) index, reader loaded."""

    settings: Settings

    def __call__(self) -> QA:
        qa = QA(settings=self.settings, auto_refresh=False)
        qa.refresh(progress=False)
        _ = qa.answerer  # load the reader now, not inside the first batch
        return qa


class BatchWorker:
    """A Ray actor holding one QA (index, embedder and reader, loaded once) that answers batches."""

    def __init__(self, make_qa: Callable[[], Any], threads: int) -> None:
        limit_threads(threads)
        self.qa = make_qa()

    def answer(self, questions: Sequence[Question], k: int | None) -> list[dict[str, Any]]:
        return answer_batch(self.qa, questions, k=k)


class RayBatchAnswerer:
    """Answers batches of questions on a Ray cluster (``answer_batches`` of :func:`qa.batch.run_batch`).

    ``address``: the cluster to join when this process is not connected yet (``None``: ``$RAY_ADDRESS``,
    a cluster started on this machine, or a new local one). ``workers``: actors in the pool (default:
    one per ``cpus_per_worker`` CPUs of the cluster, at most one per batch). ``retries``: how often a
    dead actor is restarted and its batch retried. ``make_qa`` builds each worker's QA (default:
    :class:`QAFactory` over the settings' folders). Raises :class:`qa.errors.QAError` when Ray is not
    installed.
    """

    def __init__(self, articles_dir: str | Path | None = None, index_dir: str | Path | None = None, *,
                 settings: Settings | None = None, address: str | None = None, workers: int | None = None,
                 cpus_per_worker: int = 1, k: int | None = None, retries: int = DEFAULT_RETRIES,
                 progress: bool = False, make_qa: Callable[[], Any] | None = None) -> None:
        require_ray()  # fail before any work when --ray cannot be honoured
        if workers is not None and workers < 1:
            raise QAError("--workers must be at least 1")
        settings = settings or Settings()
        if articles_dir is not None:
            settings.articles_dir = Path(articles_dir)
        if index_dir is not None:
            settings.index_dir = Path(index_dir)
        # workers may start in another folder: give them absolute paths
        settings.articles_dir = settings.articles_dir.resolve()
        settings.index_dir = settings.index_dir.resolve()
        self.settings = settings
        self.address = address
        self.workers = workers
        self.cpus_per_worker = cpus_per_worker
        self.k = k
        self.retries = retries
        self.progress = progress
        self.make_qa = make_qa or QAFactory(settings)

    def refresh_index(self) -> None:
        """Bring the index up to date on the driver, embedding new or changed articles on the cluster."""
        encoder = RayChunkEncoder(self.settings, address=self.address, workers=self.workers,
                                  cpus_per_worker=self.cpus_per_worker)
        qa = QA(settings=self.settings, auto_refresh=False, encoder=encoder)
        qa.refresh(progress=None if self.progress else False)

    def __call__(self, batches: Sequence[Sequence[Question]]) -> Iterator[list[dict[str, Any]]]:
        """The rows of each batch, in the order of ``batches``."""
        if not batches:
            return
        ray = connect(self.address)
        self.refresh_index()
        n = pool_size(ray, self.workers, self.cpus_per_worker, len(batches))
        log.info("Answering %d batches on %d Ray worker(s)", len(batches), n)
        worker = ray.remote(BatchWorker).options(num_cpus=self.cpus_per_worker, max_restarts=self.retries,
                                                 max_task_retries=self.retries)
        actors = [worker.remote(self.make_qa, self.cpus_per_worker) for _ in range(n)]
        try:
            yield from self._in_order(ray, actors, batches)
        finally:
            for actor in actors:
                ray.kill(actor)

    def _in_order(self, ray, actors: list, batches: Sequence[Sequence[Question]]) -> Iterator[list[dict[str, Any]]]:
        """Give each free actor the next batch; yield the answers in batch order as soon as they are there."""
        idle = list(actors)
        todo = list(enumerate(batches))
        todo.reverse()
        running: dict[Any, tuple[int, Any]] = {}
        done: dict[int, list[dict[str, Any]]] = {}
        next_out = 0
        while next_out < len(batches):
            while idle and todo:
                i, batch = todo.pop()
                actor = idle.pop()
                running[actor.answer.remote(list(batch), self.k)] = (i, actor)
            ready, _ = ray.wait(list(running), num_returns=1)
            for ref in ready:
                i, actor = running.pop(ref)
                try:
                    done[i] = ray.get(ref)
                except ray.exceptions.RayError as e:
                    raise QAError(f"a Ray worker failed {self.retries + 1} times ({type(e).__name__}); the answers "
                                  "written so far are kept: rerun the same command to answer the rest") from e
                idle.append(actor)
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
