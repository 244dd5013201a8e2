"""Faults the index must survive without losing data or holding up questions: a full or read-only disk, a
held lock, damage to CURRENT, a generation or its manifest, and paths that point where they should not.

The tests run as root, and root ignores file permissions, so ``chmod`` cannot make a folder read-only here:
read-only and permission failures are simulated by making the index's one low-level writer
(``write_synced`` in :mod:`qa.store.writer`) raise the error a read-only or forbidden folder gives; a full disk
likewise.
"""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import pytest

import qa.engine
import qa.store.writer as mod
from qa import QA, Settings
from qa.articles import folder_fingerprint, load_articles
from qa.cli import main
from qa.errors import IndexLocationError, IndexUnusableError, OutsideFolderError
from qa.store import ChunkIndex
from qa.store.files import read_manifest
from qa.store.records import FileEntry, manifest_sha256
from qa.store.snapshot import load_generation
from qa.store.sync import read_state
from qa.store.vectors import VectorIndexSettings
from qa.store.writer import Draft, GenerationWriter

from .conftest import assert_citations_exact, write_articles
from .test_index import ARTICLES, CountingEmbedder

GUAIDO_Q = "Who slipped out of Venezuela last week?"
SEED_TITLE = "Russia Vows to Continue Supporting Maduro in Venezuela"
HARBOUR = {"harbour.txt": "Harbour fire\n\nA fire destroyed three warehouses in the harbour of Brest."}
MAYOR = {"mayor.txt": "City election\n\nVoters in Springfield elected Ana Ruiz as mayor on Sunday."}


@pytest.fixture(scope="module")
def reader(embedder):
    """The default answerer, loaded once for the module."""
    return qa.engine.default_answerer(embedder)


def _current(index_dir: Path) -> bytes:
    return (index_dir / "CURRENT").read_bytes()


def _gens(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob("gen-*"))


def _built(folder: Path, index_dir: Path, embedder, *more: dict[str, str]) -> None:
    """Index ``folder``, then each of ``more`` added in turn: one generation per step."""
    qa_ = QA(folder, index_dir, embedder=embedder)
    qa_.refresh()
    for articles in more:
        write_articles(folder, articles)
        qa_.refresh()


def _cli(capsys, monkeypatch, spy, reader, *argv):
    """``qa ARGV`` in this process, with ``spy`` as its embedder and the module's reader."""
    monkeypatch.setattr(qa.engine, "get_embedder", lambda name=None: spy)
    monkeypatch.setattr(qa.engine, "default_answerer", lambda embedder, name=None: reader)
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _warnings(caplog, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and text in r.getMessage()]


def _embedded(spy, text: str) -> int:
    return sum(text in t for t in spy.embedded())


def _raise_on_write(monkeypatch, code: int, only: str | None = None):
    """Make index writes fail with ``code`` (all of them, or those of files named ``only``); returns the real writer."""
    real = mod.write_synced

    def write(path, data):
        if only is None or path.name == only:
            raise OSError(code, os.strerror(code))
        real(path, data)

    monkeypatch.setattr(mod, "write_synced", write)
    return real


# ------------------------------------------------------------------ 3. updates that cannot be written
def test_full_disk_qa_ask_answers_from_the_intact_index_without_embedding(tmp_path, embedder, reader, seeds_copy,
                                                                          monkeypatch, capsys, caplog):
    index_dir = tmp_path / "v"
    _built(seeds_copy, index_dir, embedder)
    before = _current(index_dir)
    write_articles(seeds_copy, HARBOUR)
    _raise_on_write(monkeypatch, errno.ENOSPC)
    spy = CountingEmbedder(embedder)

    code, out, err = _cli(capsys, monkeypatch, spy, reader, "ask", GUAIDO_Q, "--articles", str(seeds_copy),
                          "--index", str(index_dir))
    assert code == 0, err
    assert out.startswith("Answer: ") and "Guaido" in out.splitlines()[0]
    assert f"[1] {SEED_TITLE}" in out
    assert _embedded(spy, "warehouses") == 0  # found before embedding, not after minutes of it
    assert _embedded(spy, GUAIDO_Q) == 1
    [warning] = _warnings(caplog, "cannot update the index")
    assert "No space left on device" in warning and "free disk space there, then run `qa index`" in warning
    assert "\n" not in warning
    assert _current(index_dir) == before

    # qa index itself still fails, with its error, and keeps the index
    code, out, err = _cli(capsys, monkeypatch, spy, reader, "index", "--articles", str(seeds_copy),
                          "--index", str(index_dir))
    assert code == 2 and "No space left on device" in err and err.count("\n") == 1
    assert _current(index_dir) == before and _gens(index_dir) == ["gen-000001"]
    assert not list(index_dir.glob(".tmp-*")) and not list(index_dir.glob(".write-test-*"))


def test_too_little_free_space_is_found_before_embedding(tmp_path, embedder, reader, seeds_copy, monkeypatch, capsys):
    index_dir = tmp_path / "v"
    _built(seeds_copy, index_dir, embedder)
    write_articles(seeds_copy, HARBOUR)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(mod.shutil, "disk_usage", lambda path: usage(10**9, 10**9, 100))
    spy = CountingEmbedder(embedder)
    code, out, err = _cli(capsys, monkeypatch, spy, reader, "index", "--articles", str(seeds_copy),
                          "--index", str(index_dir))
    assert code == 2 and "No space left on device (the update needs at least" in err and "100 bytes are free" in err
    assert spy.calls == []  # a new process learns it before the embedding, not after


@pytest.mark.parametrize("code, advice", [(errno.EROFS, "Read-only file system"), (errno.EACCES, "Permission denied")])
def test_read_only_index_after_a_touch_still_answers(tmp_path, embedder, reader, seeds_copy, monkeypatch, capsys,
                                                      caplog, code, advice):
    index_dir = tmp_path / "v"
    _built(seeds_copy, index_dir, embedder)
    before = _current(index_dir)
    manifest = (index_dir / "gen-000001" / "manifest.json").read_bytes()
    seed = next(seeds_copy.glob("*.txt"))
    st = seed.stat()
    os.utime(seed, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # touched: same text, new time
    _raise_on_write(monkeypatch, code)  # as a read-only mount or a forbidden folder answers (root ignores chmod)
    spy = CountingEmbedder(embedder)

    code_, out, err = _cli(capsys, monkeypatch, spy, reader, "ask", GUAIDO_Q, "--articles", str(seeds_copy),
                           "--index", str(index_dir))
    assert code_ == 0, err
    assert "Guaido" in out.splitlines()[0] and f"[1] {SEED_TITLE}" in out
    [warning] = _warnings(caplog, "cannot update the index")
    assert advice in warning and f"make '{index_dir}' writable" in warning
    assert spy.embedded() == [GUAIDO_Q]  # the question, nothing else
    assert _current(index_dir) == before
    assert (index_dir / "gen-000001" / "manifest.json").read_bytes() == manifest


def test_held_lock_does_not_hold_up_qa_ask(tmp_path, embedder, reader, seeds_copy, monkeypatch, capsys, caplog):
    index_dir = tmp_path / "v"
    _built(seeds_copy, index_dir, embedder)
    before = _current(index_dir)
    write_articles(seeds_copy, HARBOUR)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys,time; from filelock import FileLock; l=FileLock(sys.argv[1]); l.acquire(); "
         "print('locked', flush=True); time.sleep(120)",
         str(index_dir / ".lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        spy = CountingEmbedder(embedder)
        code, out, err = _cli(capsys, monkeypatch, spy, reader, "ask", GUAIDO_Q, "--articles", str(seeds_copy),
                              "--index", str(index_dir))
    finally:
        holder.kill()
        holder.wait()
    assert code == 0, err  # before: it waited for the lock, then failed with "another process is updating"
    assert "Guaido" in out.splitlines()[0]
    [warning] = _warnings(caplog, "another process is updating the index")
    assert "answering from the index as it was" in warning
    assert _embedded(spy, "warehouses") == 0
    assert _current(index_dir) == before


def test_a_failed_update_is_not_redone_by_every_question(tmp_path, embedder, reader, seeds_copy, monkeypatch, caplog):
    index_dir = tmp_path / "v"
    _built(seeds_copy, index_dir, embedder)
    before = _current(index_dir)
    spy = CountingEmbedder(embedder)
    qa_ = QA(seeds_copy, index_dir, settings=Settings(refresh_interval=0), embedder=spy, answerer=reader)
    write_articles(seeds_copy, HARBOUR)
    real = _raise_on_write(monkeypatch, errno.ENOSPC, only="chunks.jsonl")  # the disk fills up after the embedding
    for _ in range(3):
        a = qa_.ask(GUAIDO_Q)
        assert "Guaido" in (a.text or "") and a.citations[0].title == SEED_TITLE
        assert_citations_exact(a, qa_)
    assert _embedded(spy, "warehouses") == 1  # embedded once, not once per question
    assert len(_warnings(caplog, "cannot update the index")) == 1
    assert _current(index_dir) == before and not list(index_dir.glob(".tmp-*"))

    write_articles(seeds_copy, MAYOR)  # the folder changed again: worth another try (failing the same way)
    qa_.ask(GUAIDO_Q)
    assert _embedded(spy, "warehouses") == 2 and _embedded(spy, "Voters in Springfield") == 1
    assert len(_warnings(caplog, "cannot update the index")) == 1  # same cause, no second warning

    monkeypatch.setattr(mod, "write_synced", real)  # space again
    write_articles(seeds_copy, {"quake.txt": "Earthquake\n\nAn earthquake shook Lima at dawn."})
    a = qa_.ask("What did the fire destroy in Brest?")
    assert "warehouses" in (a.text or "") and a.citations[0].source == "harbour.txt"
    assert qa_.failed_update is None and _current(index_dir) != before


# ------------------------------------------------------------------ 4. damage: fall back, do not re-embed
def _damage_current(index_dir: Path, how: str) -> None:
    path = index_dir / "CURRENT"
    if how == "deleted":
        path.unlink()
    else:
        contents = {"garbage": b"\x00\xff\xfegen-0000\x07", "empty": b"", "missing generation": b"gen-000042\n"}
        path.write_bytes(contents[how])


@pytest.mark.parametrize("how", ["garbage", "empty", "missing generation", "deleted"])
def test_damaged_current_answers_from_the_newest_intact_generation_then_updates_from_it(
        tmp_path, embedder, reader, seeds_copy, caplog, how):
    index_dir = tmp_path / "v"
    _built(seeds_copy, index_dir, embedder, MAYOR)
    assert _gens(index_dir) == ["gen-000001", "gen-000002"]
    _damage_current(index_dir, how)
    damaged = _current(index_dir) if how != "deleted" else None
    write_articles(seeds_copy, HARBOUR)
    spy = CountingEmbedder(embedder)
    qa_ = QA(seeds_copy, index_dir, embedder=spy, answerer=reader)

    a = qa_.ask("Who was elected mayor of Springfield?")
    assert "Ruiz" in (a.text or "") and a.citations[0].source == "mayor.txt"  # gen-000002: the newest intact
    assert spy.embedded() == ["Who was elected mayor of Springfield?"]  # answered first, nothing embedded
    assert (_current(index_dir) if how != "deleted" else None) == damaged  # not updated yet
    assert _warnings(caplog, "using gen-000002, the newest intact generation")

    report = qa_.finish_update()
    assert report is not None and report.rebuilt is None
    assert "continued from gen-000002" in report.recovered
    assert [qa_.snapshot.articles[i].source for i in report.added] == ["harbour.txt"] and report.unchanged == 2
    assert _embedded(spy, "warehouses") == 1
    assert _embedded(spy, "Voters in Springfield") == 0 and _embedded(spy, "Guaido") == 0  # no full re-embed
    assert _current(index_dir) == b"gen-000003\n"
    fresh = QA(seeds_copy, index_dir, embedder=embedder, answerer=reader)
    assert "warehouses" in (fresh.ask("What did the fire destroy in Brest?").text or "")


def test_damaged_current_is_repaired_by_qa_ask_after_answering(tmp_path, embedder, reader, seeds_copy, monkeypatch,
                                                                capsys):
    index_dir = tmp_path / "v"
    _built(seeds_copy, index_dir, embedder, MAYOR)
    _damage_current(index_dir, "garbage")
    spy = CountingEmbedder(embedder)
    code, out, err = _cli(capsys, monkeypatch, spy, reader, "ask", GUAIDO_Q, "--articles", str(seeds_copy),
                          "--index", str(index_dir))
    assert code == 0, err
    assert "Guaido" in out.splitlines()[0] and f"[1] {SEED_TITLE}" in out
    assert spy.embedded() == [GUAIDO_Q]  # nothing re-embedded: the intact generation holds every article
    assert _current(index_dir) == b"gen-000002\n"  # CURRENT points at the intact generation again
    assert ChunkIndex(index_dir, Settings(), embedder).load().generation == "gen-000002"


def test_damaged_generation_falls_back_to_the_previous_one_and_pruning_keeps_it(tmp_path, embedder, reader, seeds_copy,
                                                                               caplog):
    index_dir = tmp_path / "v"
    _built(seeds_copy, index_dir, embedder, MAYOR)
    table = index_dir / "gen-000002" / "chunks.jsonl"
    table.write_bytes(table.read_bytes()[:-5])
    spy = CountingEmbedder(embedder)
    qa_ = QA(seeds_copy, index_dir, embedder=spy, answerer=reader)

    a = qa_.ask(GUAIDO_Q)
    assert "Guaido" in (a.text or "") and a.citations[0].title == SEED_TITLE
    [warning] = _warnings(caplog, "using gen-000001, the newest intact generation")
    assert "gen-000002/chunks.jsonl is corrupted" in warning
    assert spy.embedded() == [GUAIDO_Q]
    report = qa_.finish_update()
    assert report.rebuilt is None and "gen-000002/chunks.jsonl is corrupted" in report.recovered
    assert [qa_.snapshot.articles[i].source for i in report.added] == ["mayor.txt"]  # what gen-000001 lacked, only
    assert _embedded(spy, "Voters in Springfield") == 1 and _embedded(spy, "Guaido") == 0
    # the damaged generation does not count among the two kept: the intact one before it stays
    assert _gens(index_dir) == ["gen-000001", "gen-000003"]
    assert "Ruiz" in (qa_.ask("Who was elected mayor of Springfield?").text or "")


# ------------------------------------------------------------------ 5. manifest integrity
def _index(tmp_path, embedder) -> ChunkIndex:
    settings = Settings(articles_dir=tmp_path / "a", index_dir=tmp_path / "v", chunk_size=200, chunk_overlap=20)
    return ChunkIndex(settings.index_dir, settings, embedder)


def _sync(index: ChunkIndex, folder: Path):
    res = load_articles(folder)
    return index.sync(res.articles, folder_fingerprint(folder), res.problems)


def _edit_manifest(gdir: Path, edit, keep_checksum: bool) -> None:
    path = gdir / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    if not keep_checksum:
        manifest.pop("manifest_sha256", None)
    path.write_text(json.dumps(manifest))


def _repeat_a_chunk(gdir: Path, manifest: dict) -> None:
    table = gdir / "chunks.jsonl"
    lines = table.read_bytes().splitlines(keepends=True)
    table.write_bytes(b"".join(lines + lines[:1]))
    manifest["checksums"]["chunks.jsonl"] = FileEntry.of(table.read_bytes()).to_json()
    manifest["n_chunks"] += 1


@pytest.mark.parametrize("case, refused_for", [
    ("next_chunk_id lowered", "manifest.json is corrupted (checksum mismatch)"),
    ("next_chunk_id lowered, no checksum", "is not below next_chunk_id"),
    ("chunk ids repeat, no checksum", "chunk ids repeat"),
])
def test_edited_manifest_is_refused_and_never_served(tmp_path, embedder, caplog, case, refused_for):
    folder = write_articles(tmp_path / "a", ARTICLES)
    _sync(_index(tmp_path, embedder), folder)
    write_articles(folder, MAYOR)
    _sync(_index(tmp_path, embedder), folder)
    gdir = tmp_path / "v" / "gen-000002"
    assert "manifest_sha256" in json.loads((gdir / "manifest.json").read_text())
    if case.startswith("chunk ids repeat"):
        _edit_manifest(gdir, lambda m: _repeat_a_chunk(gdir, m), keep_checksum=False)
    else:
        _edit_manifest(gdir, lambda m: m.update(next_chunk_id=1), keep_checksum=not case.endswith("no checksum"))

    spy = CountingEmbedder(embedder)
    index = _index(tmp_path, spy)
    snap = index.load()
    assert snap.generation == "gen-000001"  # the edited generation is never served
    assert any(refused_for in w for w in _warnings(caplog, "using gen-000001"))
    assert index.load().generation == "gen-000001"  # not on the second load either
    with pytest.raises(IndexUnusableError, match=re.escape(refused_for)):
        load_generation(tmp_path / "v" / "gen-000002", True, VectorIndexSettings())
    report = _sync(index, folder)
    assert refused_for in report.recovered and report.rebuilt is None
    assert [index.load().articles[i].source for i in report.added] == ["mayor.txt"] and report.unchanged == 3
    assert _embedded(spy, "Alpha council") == 0
    snap = index.load()
    ids = [c.id for c in snap.chunks]
    assert len(set(ids)) == len(ids) and max(ids) < snap.manifest.next_chunk_id
    assert len(snap.vectors) == len(snap.chunks) and len(snap.articles) == 4
    assert _gens(tmp_path / "v") == ["gen-000001", "gen-000003"]


def test_a_generation_with_inconsistent_chunk_ids_is_never_switched_to(tmp_path, embedder):
    folder = write_articles(tmp_path / "a", ARTICLES)
    index = _index(tmp_path, embedder)
    _sync(index, folder)
    gdir = tmp_path / "v" / "gen-000001"
    state = read_state(gdir, read_manifest(gdir))
    man = state.manifest
    writer = GenerationWriter(index.dir, index.identity())
    for rows, nid, message in [(state.rows + state.rows[:1], man.next_chunk_id, "chunk ids repeat"),
                               (state.rows, man.next_chunk_id - 1, "is not below next_chunk_id")]:
        with pytest.raises(IndexUnusableError, match=message):
            writer.write(Draft(base="gen-000001", base_checksums=man.checksums, kept=man.segments, new=[], rows=rows,
                               entries=man.articles, layout=man.vector_index, trained=None, next_chunk_id=nid,
                               next_segment=man.next_segment, fingerprint={}))
        assert _current(tmp_path / "v") == b"gen-000001\n" and _gens(tmp_path / "v") == ["gen-000001"]
        assert not list((tmp_path / "v").glob(".tmp-*"))


def test_manifest_without_checksum_from_an_earlier_version_loads_and_gains_one(tmp_path, embedder):
    folder = write_articles(tmp_path / "a", ARTICLES)
    _sync(_index(tmp_path, embedder), folder)
    gdir = tmp_path / "v" / "gen-000001"
    _edit_manifest(gdir, lambda m: None, keep_checksum=False)
    spy = CountingEmbedder(embedder)
    index = _index(tmp_path, spy)
    snap = index.load()
    assert snap.generation == "gen-000001" and len(snap.articles) == 3 and index.compatible(snap) is None
    assert not _sync(index, folder).changed and spy.calls == []  # accepted as it is, nothing re-embedded

    alpha = folder / "alpha.txt"
    os.utime(alpha, ns=(alpha.stat().st_atime_ns, alpha.stat().st_mtime_ns + 10**9))
    assert not _sync(index, folder).changed  # only the file times are recorded: the manifest is rewritten
    manifest = json.loads((gdir / "manifest.json").read_text())
    assert manifest["manifest_sha256"] == manifest_sha256(manifest)
    assert manifest["fingerprint"]["alpha.txt"][0] == alpha.stat().st_mtime_ns
    assert _index(tmp_path, embedder).load().generation == "gen-000001" and spy.calls == []


def test_a_flipped_byte_in_the_manifest_is_detected(tmp_path, embedder):
    folder = write_articles(tmp_path / "a", ARTICLES)
    _sync(_index(tmp_path, embedder), folder)
    path = tmp_path / "v" / "gen-000001" / "manifest.json"
    path.write_bytes(path.read_bytes().replace(b"Alpha council", b"Alpha cOuncil"))
    with pytest.raises(IndexUnusableError, match="manifest.json is corrupted"):
        _index(tmp_path, embedder).load()


# ------------------------------------------------------------------ paths that point where they should not
def test_index_folder_inside_the_articles_folder_is_refused(
    tmp_path, embedder, reader, seeds_copy, monkeypatch, capsys
):
    with pytest.raises(IndexLocationError, match="is inside the articles folder"):
        QA(seeds_copy, seeds_copy / "index", embedder=embedder, answerer=reader).ask(GUAIDO_Q)
    assert not (seeds_copy / "index").exists()
    code, out, err = _cli(capsys, monkeypatch, CountingEmbedder(embedder), reader, "ask", GUAIDO_Q,
                          "--articles", str(seeds_copy), "--index", str(seeds_copy / "sub" / ".." / "index"))
    assert code == 2 and err.count("\n") == 1 and "use a hidden folder such as" in err
    # a hidden folder is never read as articles: the index stays as it is from one run to the next
    hidden = QA(seeds_copy, seeds_copy / ".index", embedder=embedder, answerer=reader)
    assert "Guaido" in (hidden.ask(GUAIDO_Q).text or "")
    assert hidden.refresh(force=True).changed is False
    assert _gens(seeds_copy / ".index") == ["gen-000001"]


def test_remove_refuses_paths_outside_the_folder(tmp_path, embedder, reader, seeds_copy):
    outside = write_articles(tmp_path / "elsewhere", {"x.txt": "Secret\n\nNot an article of this folder."})
    linked = seeds_copy / "linked"
    linked.symlink_to(outside, target_is_directory=True)
    qa_ = QA(seeds_copy, tmp_path / "v", embedder=embedder, answerer=reader)
    for src in ["../elsewhere/x.txt", str(outside / "x.txt"), "linked/x.txt"]:
        with pytest.raises(OutsideFolderError, match="is not inside the articles folder"):
            qa_.remove([src])
    assert (outside / "x.txt").read_text().startswith("Secret")
    assert not (seeds_copy / ".removed").exists()


def test_index_path_that_is_a_file_says_what_to_do(tmp_path, embedder, reader, seeds_copy, monkeypatch, capsys):
    index_file = tmp_path / "idx"
    index_file.write_text("not a folder")
    code, out, err = _cli(capsys, monkeypatch, CountingEmbedder(embedder), reader, "ask", GUAIDO_Q,
                          "--articles", str(seeds_copy), "--index", str(index_file))
    assert code == 2 and err.count("\n") == 1
    assert f"the index folder '{index_file}' is a file, not a folder; move that file away" in err
    assert index_file.read_text() == "not a folder"
