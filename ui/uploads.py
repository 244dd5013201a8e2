"""Files people upload through the chat page: whether one may be added, what it holds, and the line the page
shows for it. Nothing here writes: :class:`ui.handlers.ChatApp` adds the files that pass."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from qa.articles import SUPPORTED_SUFFIXES, ArticleFileError, content_hash, read_file
from ui.render import esc

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_FILES = 20
STORED_MODE = 0o644        # an article file is for everyone who can read the folder, as a copied file would be


def chosen_paths(files: list[Any] | None) -> list[Path]:
    """The paths of the files Gradio hands over (file objects with ``name`` or ``path``, or paths)."""
    return [Path(getattr(f, "name", None) or getattr(f, "path", None) or f) for f in (files or [])]


def uploaded_into(path: Path, root: Path) -> bool:
    """Whether ``path`` is a file that a client uploaded into ``root`` (no link on the way)."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return False
    # resolve() follows links: the path as given must already be the real one
    return real == path.absolute() and real.is_relative_to(root) and real.is_file()


def upload_problem(path: Path, root: Path) -> str | None:
    """Why ``path`` cannot be added (``None`` when it can): not uploaded into ``root``, wrong kind, too big,
    hidden, or empty."""
    name = path.name
    if not uploaded_into(path, root):
        return f"'{name}' was not uploaded through this page"
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
        return f"'{name}' is not an article file: use one of {kinds}"
    if name.startswith("."):
        return f"'{name}' starts with '.', so it would be a hidden file that is never indexed; rename it"
    try:
        size = path.stat().st_size
    except OSError:
        return f"'{name}' could not be read"
    if size == 0:
        return f"'{name}' is empty"
    if size > MAX_UPLOAD_BYTES:
        return (f"'{name}' is {size / 1024 / 1024:.1f} MB; files of at most "
                f"{MAX_UPLOAD_BYTES // 1024 // 1024} MB can be added here")
    return None


def article_hashes(path: Path) -> tuple[set[str], str | None]:
    """The content hashes of the articles in an upload, or why it holds none (checked before it is stored)."""
    try:
        articles, _problems = read_file(path, path.name, MAX_UPLOAD_BYTES)
    except ArticleFileError as e:
        return set(), f"'{path.name}' {e}"
    except Exception as e:  # a parser failing on odd input: refuse this file, keep the page working
        log.warning("reading upload %s failed", path.name, exc_info=True)
        return set(), f"'{path.name}' could not be read ({type(e).__name__})"
    if not articles:
        return set(), f"'{path.name}' holds no article with text"
    return {content_hash(a.title, a.text) for a in articles}, None


def added_line(path: Path, hashes: set[str], known: set[str], stored: dict[str, str]) -> str:
    """What the page says about an added file: already indexed, or added (how many articles, and the name it
    was stored under when another file had its name). ``known``: content hashes indexed before;
    ``stored``: content hash -> file name in the articles folder now."""
    name = esc(path.name)
    if hashes <= known:
        return f"'{name}' was already in the index: nothing changed."
    n = len(hashes)
    what = f" ({n} articles)" if n > 1 else ""
    where = {stored[h] for h in hashes if h in stored}
    renamed = f", stored as '{esc(next(iter(where)))}' because another file has its name" \
        if len(where) == 1 and path.name not in where else ""
    return f"Added '{name}'{what}{renamed}. You can ask about {'them' if n > 1 else 'it'} now."
