"""Query-embedding latency with 1 and 2 torch threads, alternated: ``python bench/threads.py``.

Run it while something else keeps the cores busy to see the contention case.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median, percentile  # noqa: E402
from qa.embedders import get_embedder  # noqa: E402


def main() -> None:
    emb = get_embedder()
    emb.embed(["warm up"])
    questions = [f"Who was the leader of the country in {1900 + i}?" for i in range(40)]
    for threads in (1, 2, 1, 2):
        emb.query_threads = threads
        times = []
        for q in questions:
            t = time.perf_counter()
            emb.embed([q])
            times.append((time.perf_counter() - t) * 1000)
        print(f"{threads} thread(s): p50 {median(times):.1f} ms, p90 {percentile(times, 90):.1f} ms")


if __name__ == "__main__":
    main()
