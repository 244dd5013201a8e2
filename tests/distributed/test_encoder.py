"""qa.distributed.encoder: chunking and embedding on a local Ray cluster gives the single-machine index."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from qa import QA
from qa.articles import load_articles
from qa.chunking import Chunker
from qa.cli import main
from qa.config import Settings
from qa.distributed.encoder import EmbedderFactory, RayChunkEncoder, assemble
from qa.encoding import LocalChunkEncoder
from qa.errors import QAError
from qa.types import Article

from .conftest import TOWNS, town_article, write_corpus

ATOL = 1e-5


def _vectors(snapshot) -> dict[int, np.ndarray]:
    return {c.id: snapshot.vectors.reconstruct(c.id) for c in snapshot.chunks}


def assert_same_index(a, b) -> None:
    """Two snapshots hold the same articles, the same numbered chunks and (within tolerance) vectors."""
    assert a.articles == b.articles
    assert [(c.id, c.article_id, c.start, c.end, c.text) for c in a.chunks] == \
           [(c.id, c.article_id, c.start, c.end, c.text) for c in b.chunks]
    va, vb = _vectors(a), _vectors(b)
    for cid in va:
        np.testing.assert_allclose(va[cid], vb[cid], atol=ATOL)
    assert a.manifest.signature == b.manifest.signature
    assert a.manifest.next_chunk_id == b.manifest.next_chunk_id


class RecordingEncoder:
    """Passes through to another encoder, recording which articles each update sent to it."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls: list[list[str]] = []

    def encode(self, articles, first_id, progress=False):
        self.calls.append(sorted(a.source for a in articles))
        return self.inner.encode(articles, first_id, progress=progress)


@pytest.mark.slow
def test_encoder_returns_the_local_chunks_and_vectors(ray_cluster, corpus, embedder):
    articles = load_articles(corpus).articles
    settings = Settings()
    local = LocalChunkEncoder(Chunker(settings.chunk_size, settings.chunk_overlap), embedder)
    want_chunks, want_vectors = local.encode(articles, first_id=7)

    chunks, vectors = RayChunkEncoder(settings, workers=2, articles_per_batch=3).encode(articles, first_id=7)

    assert chunks == want_chunks
    assert [c.id for c in chunks] == list(range(7, 7 + len(chunks)))
    assert vectors.dtype == np.float32 and vectors.shape == want_vectors.shape
    np.testing.assert_allclose(vectors, want_vectors, atol=ATOL)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert {c.article_id for c in chunks} == {a.id for a in articles}


@pytest.mark.slow
def test_qa_index_ray_builds_the_same_index_and_updates_incrementally(ray_cluster, tmp_path, local_index, embedder):
    folder = write_corpus(tmp_path / "articles")
    index_dir = tmp_path / "index"
    assert main(["index", "--articles", str(folder), "--index", str(index_dir), "-q", "--ray"]) == 0
    ray_qa = QA(folder, index_dir, embedder=embedder)
    ray_qa.refresh()
    assert ray_qa.last_report is None  # the Ray-built index is current for the single-machine engine
    assert_same_index(ray_qa.snapshot, local_index.snapshot)

    question = f"Who was elected mayor of {TOWNS[2][0]}?"
    got, want = ray_qa.ask(question), local_index.ask(question)
    assert got.text == want.text == TOWNS[2][1]
    assert got.citations == want.citations
    assert got.score == pytest.approx(want.score, abs=1e-2)  # see test_batch.SCORE_TOLERANCE

    # an update: one article changed, one added, one removed; only the first two go to the cluster
    def change(base: Path) -> None:
        (base / "marrowdale.txt").write_text(town_article("Marrowdale", "Nadia Rahm", "copper", 1887, "Lake Senn",
                                                          "the Lantern Walk"), encoding="utf-8")
        (base / "quillfort.txt").unlink()
        (base / "harrowgate.txt").write_text(town_article("Harrowgate", "Owen Pike", "clay", 1840, "Lake Amber",
                                                          "the Pipe Band Contest"), encoding="utf-8")

    change(folder)
    recorder = RecordingEncoder(RayChunkEncoder(ray_qa.settings, workers=2))
    ray_qa = QA(folder, index_dir, embedder=embedder, encoder=recorder)
    report = ray_qa.refresh()
    assert recorder.calls == [["harrowgate.txt", "marrowdale.txt"]]
    assert (len(report.added), len(report.updated), len(report.removed)) == (1, 1, 1)

    reference_dir = tmp_path / "reference"
    write_corpus(reference_dir)
    reference = QA(reference_dir, tmp_path / "reference-index", embedder=embedder)
    reference.refresh()
    change(reference_dir)
    reference.refresh()
    assert_same_index(ray_qa.snapshot, reference.snapshot)
    assert ray_qa.ask("Who was elected mayor of Harrowgate?").text == "Owen Pike"

    # nothing changed: even a forced refresh sends nothing to the encoder (None.encode would raise)
    ray_qa = QA(folder, index_dir, embedder=embedder, encoder=RecordingEncoder(None))
    assert ray_qa.refresh(force=True).chunks_embedded == 0


class KillOnceEmbedder:
    """The real embedder, except that the first worker to embed a batch kills its own process (SIGKILL)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.inner = EmbedderFactory(Settings().embedder)()  # the embedder local_index was built with

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts, progress=False):
        if texts != ["warm up"]:
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                os.kill(os.getpid(), signal.SIGKILL)
        return self.inner.embed(texts, progress=progress)


class KillOnceFactory:
    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __call__(self):
        return KillOnceEmbedder(self.marker)


@pytest.mark.slow
def test_a_worker_killed_mid_job_is_retried_and_nothing_is_lost_or_duplicated(
    ray_cluster, corpus, local_index, tmp_path
):
    marker = tmp_path / "killed"
    articles = sorted(load_articles(corpus).articles, key=lambda a: a.id)  # the order an index embeds them in
    encoder = RayChunkEncoder(Settings(), workers=2, articles_per_batch=2, make_embedder=KillOnceFactory(marker))
    chunks, vectors = encoder.encode(articles, first_id=0)

    assert marker.exists(), "no worker was killed: the test did not test anything"
    assert int(marker.read_text()) != os.getpid()
    want = local_index.snapshot
    def key(c):
        return (c.id, c.article_id, c.start, c.end)

    assert [key(c) for c in chunks] == [key(c) for c in want.chunks]
    np.testing.assert_allclose(vectors, np.stack([want.vectors.reconstruct(c.id) for c in want.chunks]), atol=ATOL)


class AlwaysKillEmbedder(KillOnceEmbedder):
    """Every worker dies as soon as it is given articles to embed."""

    def embed(self, texts, progress=False):
        if texts != ["warm up"]:
            os.kill(os.getpid(), signal.SIGKILL)
        return self.inner.embed(texts, progress=progress)


class AlwaysKillFactory:
    def __call__(self):
        return AlwaysKillEmbedder("")


@pytest.mark.slow
def test_a_worker_that_keeps_dying_fails_the_update_and_leaves_the_index(ray_cluster, tmp_path, embedder):
    folder = write_corpus(tmp_path / "articles", TOWNS[:2])
    QA(folder, tmp_path / "index", embedder=embedder).refresh()
    encoder = RayChunkEncoder(Settings(), workers=1, retries=1, make_embedder=AlwaysKillFactory())
    qa = QA(folder, tmp_path / "index", embedder=embedder, encoder=encoder)
    before = qa.index.current_generation()
    write_corpus(folder, TOWNS[2:3])
    with pytest.raises(QAError, match="a Ray worker failed 2 times while embedding"):
        qa.refresh(force=True)
    assert qa.index.current_generation() == before
    assert len(QA(folder, tmp_path / "index", embedder=embedder, auto_refresh=False).index.load().articles) == 2


def test_assemble_refuses_lost_or_duplicated_articles():
    arts = [Article(id=f"a{i}", title="t", text="some text", source=f"{i}.txt", content_hash="h") for i in range(2)]
    vec = np.ones((1, 4), np.float32).tobytes()
    row = lambda pos: {"pos": pos, "starts": [0], "ends": [4], "vectors": vec}  # noqa: E731
    chunks, vectors = assemble(arts, 5, [row(1), row(0)])
    assert [(c.id, c.article_id, c.text) for c in chunks] == [(5, "a0", "some"), (6, "a1", "some")]
    assert vectors.shape == (2, 4)
    with pytest.raises(RuntimeError, match="lost 1 articles"):
        assemble(arts, 0, [row(0)])
    with pytest.raises(RuntimeError, match="twice"):
        assemble(arts, 0, [row(0), row(0), row(1)])
