"""Split rule, data loading and SQuAD metrics (no model needed)."""

from __future__ import annotations

import pytest

from qa.metrics import best_threshold, exact_match, f1, normalize_answer, score_one, squad_scores
from qa.reader.spans import trim_span
from training import datasets

HAVE_DATA = (datasets.squad_dir() / "squad11" / "docs.jsonl").exists()
needs_data = pytest.mark.skipif(not HAVE_DATA, reason="SQuAD data not found (set QA_SQUAD_DIR)")


def test_normalize_and_scores():
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert normalize_answer("an apple and a pear") == "apple and pear"
    assert exact_match("the Normans", "Normans") == 1.0
    assert f1("in October 1973", "October 1973") == pytest.approx(0.8)
    assert f1(None, "") == 1.0 and f1("x", "") == 0.0 and f1(None, "x") == 0.0
    assert score_one("1973", ["October 1973", "1973"]) == (1.0, 1.0)
    assert score_one(None, []) == (1.0, 1.0)
    s = squad_scores(["Paris", None, "Rome"], [["Paris"], [], []])
    assert s["has_ans_f1"] == 100.0 and s["no_ans_acc"] == 50.0
    assert s["f1"] == pytest.approx(200 / 3)


def test_best_threshold():
    # two answerable (correct, high margin), two unanswerable (low margin)
    t, best = best_threshold([5.0, 4.0, -1.0, -2.0], [1.0, 1.0, 0.0, 0.0], [True, True, False, False])
    assert -1.0 < t <= 4.0 and best == 100.0


def test_trim_span_keeps_offsets_in_sync():
    text = 'He said: "Lisbon, Portugal", then left.'
    a = text.index('"')
    b = text.index(", then") + 1
    s, e = trim_span(text, a - 1, b)
    assert text[s:e] == "Lisbon, Portugal"
    s, e = trim_span("(about 50 km) away", 0, 13)
    assert "(about 50 km) away"[s:e] == "(about 50 km)"


def test_split_rule_is_frozen():
    assert len(datasets.VALIDATION_ARTICLES) == datasets.N_VALIDATION == 8
    assert datasets.split_of("squad20-dev:Normans") == "validation"
    assert datasets.split_of("squad11-dev:Super_Bowl_50") == "train"
    assert datasets.article_name("squad11-dev:Normans#p3") == "Normans"


@needs_data
def test_split_reproduces_rule_and_is_disjoint():
    names = [datasets.article_name(d) for d in datasets.load_docs("squad11")]
    assert len(names) == 40
    assert datasets.compute_validation_articles(names) == datasets.VALIDATION_ARTICLES
    val_ids = datasets.validation_doc_ids()
    assert len(val_ids) == 16 and all(datasets.is_validation(d) for d in val_ids)
    train = datasets.training_examples()
    assert train and not any(datasets.is_validation(ex.doc_id) for ex in train)
    assert len({ex.id for ex in train}) == len(train)


@needs_data
def test_examples_have_paragraph_local_answers():
    exs = datasets.load_examples("squad20", "validation")
    assert any(ex.is_impossible for ex in exs) and any(not ex.is_impossible for ex in exs)
    for ex in exs[:500]:
        for text, start in ex.answers:
            assert ex.context[start : start + len(text)] == text
