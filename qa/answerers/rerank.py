"""Re-ranking: the order of the passages a reader read, by retrieval score and the reader's best span.

    from qa.answerers.rerank import rerank
    ranked = rerank(passages, best_margins, weight=0.5)   # [(index in passages, passage)], best first

A step of its own between reading (the reader's candidate spans, each with a margin over "no
answer") and deciding (which span answers): a passage scores its fused retrieval score + ``weight`` x
the margin of its best span, and the passages are re-ordered by that score. The score is kept in
:attr:`Passage.rerank_score`; :attr:`Passage.score` and :attr:`Passage.rank` stay what retrieval found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from qa.types import Passage


def rerank(passages: Sequence[Passage], best_margins: Sequence[float], weight: float) -> list[tuple[int, Passage]]:
    """``(index in passages, passage with its rerank_score)``, best first; ``best_margins[i]`` is the
    margin of the best span found in ``passages[i]``. Ties keep the retrieval order."""
    if len(passages) != len(best_margins):
        raise ValueError("passages and best_margins differ in length")
    scores = [p.score + weight * m for p, m in zip(passages, best_margins, strict=False)]
    order = sorted(range(len(passages)), key=lambda i: -scores[i])  # stable
    return [(i, replace(passages[i], rerank_score=round(scores[i], 6))) for i in order]
