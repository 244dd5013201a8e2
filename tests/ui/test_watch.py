"""ui.watch.FolderWatcher: the articles folder is watched through file-system notifications, not polled."""

from __future__ import annotations

import threading

import pytest

from ui.watch import FolderWatcher

WAIT_S = 30  # upper bound for a notification to arrive on a loaded machine (the tests wait for content)


class Calls:
    def __init__(self) -> None:
        self.n = 0
        self.event = threading.Event()

    def __call__(self) -> None:
        self.n += 1
        self.event.set()

    def wait(self) -> bool:
        ok = self.event.wait(WAIT_S)
        self.event.clear()
        return ok


@pytest.fixture
def watched(tmp_path):
    calls = Calls()
    watcher = FolderWatcher(tmp_path, calls, debounce=0.2)
    yield tmp_path, calls, watcher
    watcher.stop()


def test_an_idle_folder_costs_nothing_and_a_new_file_is_noticed(watched):
    folder, calls, watcher = watched
    (folder / "old.txt").write_text("Old\n\nBody.")
    assert watcher.start() == "notify"
    # nothing happens while nothing changes: no update is started on a timer
    assert not calls.event.wait(1.5) and calls.n == 0
    (folder / "new.txt").write_text("New\n\nBody.")
    assert calls.wait()
    assert calls.n == 1


def test_reading_the_folder_or_touching_hidden_files_starts_no_update(watched):
    """Indexing reads every article: those reads (and the index's own hidden files) must not set off another
    update, or the watcher would run for ever."""
    folder, calls, watcher = watched
    (folder / "a.txt").write_text("A\n\nBody.")
    watcher.start()
    (folder / ".removed").mkdir()
    (folder / ".removed" / "gone.txt").write_text("Gone")
    (folder / "a.txt").read_text()
    assert not calls.event.wait(1.5) and calls.n == 0


def test_many_files_copied_at_once_make_few_updates(watched):
    folder, calls, watcher = watched
    watcher.start()
    for i in range(30):
        (folder / f"a{i}.txt").write_text(f"Title {i}\n\nBody {i}.")
    assert calls.wait()
    assert calls.n < 30


def test_without_notifications_the_folder_is_polled(tmp_path):
    calls = Calls()
    watcher = FolderWatcher(tmp_path, calls, debounce=0.1, poll=0.1, notify=False)
    try:
        assert watcher.start() == "poll"
        (tmp_path / "new.txt").write_text("New\n\nBody.")
        assert calls.wait()
    finally:
        watcher.stop()
