"""Re-ranking (qa/answerers/rerank.py): the order by retrieval score + weight x best span margin."""

from __future__ import annotations

import pytest

from qa.answerers.rerank import rerank
from qa.types import Passage


def _passage(name: str, score: float, rank: int) -> Passage:
    return Passage(chunk_id=rank, article_id=name, title=name, source=f"{name}.txt", start=0, end=4, text="text",
                   score=score, rank=rank)


def test_rerank_orders_by_score_plus_weighted_margin_and_keeps_retrieval_s_score_and_rank():
    ps = [_passage("w", 1.0, 0), _passage("b", 0.9, 1), _passage("g", 0.8, 2)]
    out = rerank(ps, [-3.0, -50.0, 6.0], weight=0.5)
    assert [i for i, _ in out] == [2, 0, 1]
    assert [p.article_id for _, p in out] == ["g", "w", "b"]
    assert [p.rerank_score for _, p in out] == [pytest.approx(3.8), pytest.approx(-0.5), pytest.approx(-24.1)]
    assert [(p.score, p.rank) for _, p in out] == [(0.8, 2), (1.0, 0), (0.9, 1)]
    assert all(p.rerank_score is None for p in ps)  # the caller's passages are left as they were


def test_ties_keep_the_retrieval_order():
    ps = [_passage("a", 1.0, 0), _passage("b", 1.0, 1)]
    assert [i for i, _ in rerank(ps, [2.0, 2.0], weight=0.5)] == [0, 1]
    with pytest.raises(ValueError):
        rerank(ps, [1.0], weight=0.5)
