"""The files of an index folder: their names, how the small ones are encoded, and the checks that refuse
a damaged generation (checksums, sizes, chunk ids).

Every damage found here is an :class:`~qa.errors.IndexUnusableError` naming the file or generation, so
that loading and updating can fall back to another generation.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import IndexLocationError, IndexUnusableError
from qa.fileio import sha256_file
from qa.store.records import ChunkRow, FileEntry, Manifest, ManifestError

CURRENT = "CURRENT"  # one line: the name of the live generation
LOCK = ".lock"
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
GENERATION = re.compile(r"gen-\d{6,}")
#: the exceptions that mean a file is missing, truncated or malformed
READ_ERRORS = (OSError, ValueError, KeyError, TypeError, RuntimeError, EOFError)


def unreadable(gdir: Path, e: BaseException) -> IndexUnusableError:
    return IndexUnusableError(f"index generation {gdir} cannot be read ({type(e).__name__}: {e})")


def corrupted(path: Path, what: str = "checksum") -> IndexUnusableError:
    return IndexUnusableError(f"index file {path} is corrupted ({what} mismatch)")


def not_a_folder(folder: Path) -> IndexLocationError:
    return IndexLocationError(
        f"the index folder '{folder}' is a file, not a folder; move that file away, or point --index at a folder"
    )


def generations(folder: Path) -> list[str]:
    """The generation folders in ``folder``, newest first."""
    try:
        names = [p.name for p in folder.iterdir() if GENERATION.fullmatch(p.name) and p.is_dir()]
    except FileNotFoundError:
        return []
    except NotADirectoryError as e:
        raise not_a_folder(folder) from e
    return sorted(names, key=lambda n: int(n[4:]), reverse=True)


def current_generation(folder: Path) -> str | None:
    """The generation ``CURRENT`` names; ``None`` when it is missing, empty or not a generation name."""
    try:
        data = (folder / CURRENT).read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    except NotADirectoryError as e:
        raise not_a_folder(folder) from e
    name = data.decode("utf-8", "replace").strip()
    return name if GENERATION.fullmatch(name) else None


def read_manifest(gdir: Path) -> Manifest:
    """The manifest of a generation, its own checksum verified (a manifest without one predates it)."""
    try:
        data = (gdir / MANIFEST).read_bytes()
    except OSError as e:
        raise unreadable(gdir, e) from e
    try:
        return Manifest.from_bytes(data)
    except ManifestError as e:
        if e.kind == "format":
            raise IndexUnusableError(f"index generation {gdir} has {e}") from e
        if e.kind == "checksum":
            raise corrupted(gdir / MANIFEST) from e
        raise IndexUnusableError(f"index generation {gdir} cannot be read ({e})") from e


def verify_checksums(gdir: Path, files: Mapping[str, FileEntry]) -> None:
    """Raise for the first of ``files`` whose SHA-256 is not the recorded one."""
    for name, entry in files.items():
        if sha256_file(gdir / name) != entry.sha256:
            raise corrupted(gdir / name)


def verify_sizes(gdir: Path, files: Mapping[str, FileEntry]) -> None:
    """Raise for the first of ``files`` whose size is not the recorded one (a cheap check for truncation)."""
    for name, entry in files.items():
        if (gdir / name).stat().st_size != entry.size:
            raise corrupted(gdir / name, "size")


def check_chunk_ids(gdir: Path, ids: np.ndarray, next_id: int | None) -> None:
    """Refuse chunk ids that repeat or are not below ``next_chunk_id``: two chunks would share a vector id,
    or the next update would number new chunks with ids already taken."""
    if not len(ids):
        return
    if len(np.unique(ids)) != len(ids):
        raise IndexUnusableError(f"index generation {gdir} is inconsistent: chunk ids repeat")
    if next_id is not None and int(ids.max()) >= next_id:
        raise IndexUnusableError(
            f"index generation {gdir} is inconsistent: chunk id {int(ids.max())} is not below next_chunk_id {next_id}"
        )


def row_ids(rows: Iterable[ChunkRow] | list[ChunkRow]) -> np.ndarray:
    rows = list(rows)
    return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))


def encode_chunk_table(rows: Iterable[ChunkRow]) -> bytes:
    """``chunks.jsonl``: one ``[id, article id, start, end]`` line per chunk (article ids JSON-quoted once each)."""
    quoted: dict[str, str] = {}
    lines = []
    for cid, aid, start, end in rows:
        q = quoted.get(aid)
        if q is None:
            q = quoted[aid] = json.dumps(aid, ensure_ascii=False)
        lines.append(f"[{int(cid)}, {q}, {int(start)}, {int(end)}]\n")
    return "".join(lines).encode()


def decode_chunk_table(data: bytes) -> list[ChunkRow]:
    return [ChunkRow(*r) for r in json.loads("[" + ",".join(data.decode("utf-8").splitlines()) + "]")]


def encode_jsonl(rows: Iterable[Mapping[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def encode_npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def link_or_copy(src: Path, dst: Path) -> None:
    """Share an immutable file with a new generation (a hard link; a copy where links are not supported)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
        with open(dst, "rb") as f:
            os.fsync(f.fileno())
