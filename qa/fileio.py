"""Writing files so that a crash never leaves one half-written: the one mechanism every writer uses
(index generations, reports, gold files, calibration, caches).

    from qa.fileio import atomic_write, write_synced, fsync_dir, sha256_file
    atomic_write(path, "text")        # or bytes: written beside it, flushed, renamed over it
    atomic_create(path, "text")       # the same for a new file: False, and nothing written, if one is there
    write_synced(tmp / "x.npy", data)  # a file inside a folder that is itself renamed into place later
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path


def write_synced(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` and flush it to disk (no rename: for files inside a folder that is
    renamed into place as a whole)."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def atomic_write(path: str | os.PathLike, data: bytes | str) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8) so that a reader sees either the old
    file or the whole new one: written to a temporary file beside it, flushed, renamed over it."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write_synced(tmp, payload)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    fsync_dir(path.parent)


def atomic_create(path: str | os.PathLike, data: bytes | str) -> bool:
    """Create ``path`` with ``data`` unless a file is already there (then ``False``, and it is left as it
    was): written beside it and flushed, then linked into place, which fails rather than replace a file that
    appeared meanwhile. A reader sees no file or the whole of it."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write_synced(tmp, payload)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            # a file system without hard links: checked, then renamed (a file made in between is replaced)
            if path.exists():
                return False
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    fsync_dir(path.parent)
    return True


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename into it) to disk; a file system that cannot is left alone."""
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file's bytes, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
