"""Notice changes in the articles folder without polling it.

    watcher = FolderWatcher("seeds", on_change=lambda: qa.refresh(progress=False))
    watcher.start()          # "notify" (file-system notifications) or "poll" (where they are unavailable)
    ...
    watcher.stop()

File-system notifications (watchdog: inotify on Linux, FSEvents on macOS) wake the watcher only when
something happens in the folder; ``on_change`` then runs once, after ``debounce`` seconds without further
changes, so copying many files indexes them in one update. Hidden files and folders (``.removed/``, a
hidden index folder) and mere reads are ignored. Where notifications cannot be had (watchdog missing,
the system's watch limit reached, some network file systems), the folder's directories are polled: a
changed directory (a file added, removed or renamed) triggers ``on_change`` at once, and in-place edits
are caught by a full check every ``full_check`` seconds.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # watchdog is optional: imported when the watcher starts
    from watchdog.observers.api import BaseObserver

log = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 1.0
POLL_SECONDS = 5.0
FULL_CHECK_SECONDS = 60.0
# what watchdog reports when a file is written, created, removed or renamed; it also reports reads
# ("opened", "closed_no_write"), which indexing itself causes and which must not start another update
CHANGES = {"created", "deleted", "modified", "moved", "closed"}


def _hidden(folder: Path, path: str) -> bool:
    try:
        parts = Path(path).relative_to(folder).parts
    except ValueError:
        return False
    return any(p.startswith(".") for p in parts)


def directory_stamps(folder: Path) -> dict[str, tuple[int, int]]:
    """``{directory: (mtime_ns, entries)}`` for ``folder`` and its visible subfolders: adding, removing or
    renaming a file changes its directory's stamp, without a ``stat`` of every file (the number of entries
    catches a change within the file system's clock tick)."""
    stamps: dict[str, tuple[int, int]] = {}
    for root, dirs, files in os.walk(folder, followlinks=False):
        entries = len(dirs) + len(files)
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        try:
            stamps[root] = (os.stat(root).st_mtime_ns, entries)
        except OSError:
            continue
    return stamps


class FolderWatcher:
    """Runs ``on_change`` in its own thread after files under ``folder`` change."""

    def __init__(self, folder: str | Path, on_change: Callable[[], None], *, debounce: float = DEBOUNCE_SECONDS,
                 poll: float = POLL_SECONDS, full_check: float = FULL_CHECK_SECONDS, notify: bool = True) -> None:
        self.folder = Path(folder).resolve()
        self.on_change = on_change
        self.debounce = debounce
        self.poll = poll
        self.full_check = full_check
        self.notify = notify
        self.mode: str | None = None
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._observer: BaseObserver | None = None
        self._threads: list[threading.Thread] = []

    # ---------------------------------------------------------------- life cycle
    def start(self) -> str:
        """Start watching; returns ``"notify"`` or ``"poll"``."""
        self.mode = "notify" if self.notify and self._start_observer() else "poll"
        if self.mode == "poll":
            stamps = directory_stamps(self.folder)  # now: a change right after start() is a change
            self._spawn(lambda: self._poll_loop(stamps), "qa-watch-poll")
        self._spawn(self._debounce_loop, "qa-watch")
        return self.mode

    def stop(self) -> None:
        self._stop.set()
        self._dirty.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        for t in self._threads:
            t.join(timeout=5)

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def _start_observer(self) -> bool:
        try:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer
        except ImportError:
            log.info("watchdog is not installed: checking the articles folder every %.0f s", self.poll)
            return False
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                watcher._event(event.event_type, event.src_path, event.dest_path, event.is_directory)

        observer = Observer()
        try:
            observer.schedule(Handler(), str(self.folder), recursive=True)
            observer.start()
        except OSError as e:  # the system's watch limit, a file system without notifications
            log.warning("cannot watch %s for changes (%s): checking it every %.0f s instead", self.folder, e, self.poll)
            return False
        self._observer = observer
        return True

    def _event(self, kind: str, path: str | bytes, dest: str | bytes, directory: bool = False) -> None:
        # a folder is "modified" when an entry in it changes, which is reported on its own
        if kind not in CHANGES or (directory and kind == "modified"):
            return
        paths = [os.fsdecode(p) for p in (path, dest) if p]
        if all(_hidden(self.folder, p) for p in paths):
            return
        self._dirty.set()

    # ---------------------------------------------------------------- loops
    def _debounce_loop(self) -> None:
        while not self._stop.is_set():
            self._dirty.wait()
            if self._stop.is_set():
                return
            self._dirty.clear()
            while self._dirty.wait(self.debounce):  # more changes coming: wait for the folder to settle
                if self._stop.is_set():
                    return
                self._dirty.clear()
            self._run()

    def _run(self) -> None:
        try:
            self.on_change()
        except Exception:  # keep watching; the caller keeps serving what it has
            log.warning("updating after a change in %s failed", self.folder, exc_info=True)

    def _poll_loop(self, stamps: dict[str, tuple[int, int]]) -> None:
        since_full = 0.0
        while not self._stop.wait(self.poll):
            since_full += self.poll
            now = directory_stamps(self.folder)
            if now != stamps or since_full >= self.full_check:
                stamps, since_full = now, 0.0
                self._dirty.set()
