"""Shared helpers of the benchmarks: the machine, the date, and the marked sections of bench/RESULTS.md.

The data sets, the corpora built from them and the cache they live in are :mod:`training.datasets`.
"""

from __future__ import annotations

import os
import platform
import statistics
import time

from qa.config import REPO_ROOT
from qa.stats import percentile  # noqa: F401  (the one definition; benches import it from here)

RESULTS = REPO_ROOT / "bench" / "RESULTS.md"


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def today() -> str:
    return time.strftime("%Y-%m-%d")


def median(xs) -> float:
    return statistics.median(xs) if xs else float("nan")


def write_section(marker: str, section: str) -> None:
    """Put ``section`` between ``<!-- marker -->`` and ``<!-- /marker -->`` in bench/RESULTS.md,
    replacing what was there, or append it as a new marked section."""
    begin, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    block = f"{begin}\n{section}\n{end}"
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(text)
