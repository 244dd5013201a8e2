"""qa eval: SQuAD metrics, gold files, reports; qa feedback-to-gold."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from qa.cli import main
from qa.errors import QAError
from qa.evaluation.gold import GoldQuestion, load_gold
from qa.evaluation.report import to_markdown, write_report
from qa.evaluation.score import doc_keys, evaluate, resolve_doc_ids, score_prediction, score_row, summarize
from qa.feedback import feedback_to_gold
from qa.metrics import normalize_answer
from qa.stats import percentile
from qa.types import Answer, Article, Passage

from .conftest import SEED_FILE

GUAIDO_Q = "Who slipped out of Venezuela last week?"
NO_ANSWER_Q = "What is the boiling point of water?"



def squad_exact(prediction, answers) -> float:
    """SQuAD's exact match written out here, not taken from the code under test: lower case, no
    punctuation, no articles, spaces folded."""
    def norm(t):
        t = "".join(ch for ch in (t or "").lower() if ch not in string.punctuation)
        return " ".join(re.sub(r"\b(a|an|the)\b", " ", t).split())

    return float(norm(prediction) in {norm(a) for a in answers})

def _jsonl(path: Path, rows) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------- metrics


@pytest.mark.parametrize("text, normal", [
    ("The Denver Broncos!", "denver broncos"),
    ("  an   apple, a pear  ", "apple pear"),
    ("U.S. state-owned", "us stateowned"),
    ("Theatre anthem", "theatre anthem"),  # 'the'/'an' only as whole words
    ("", ""),
    (None, ""),
])
def test_squad_normalisation(text, normal):
    assert normalize_answer(text) == normal


@pytest.mark.parametrize("prediction, references, em, f1", [
    ("the Broncos", ["Denver Broncos", "Broncos"], 1.0, 1.0),                # best reference counts
    ("Broncos team", ["Denver Broncos", "Broncos"], 0.0, 2 / 3),             # P 1/2, R 1/1 vs "Broncos"
    ("the cat sat", ["a cat sat on the mat"], 0.0, 2 / 3),                   # P 2/2, R 2/4
    ("cat cat", ["cat"], 0.0, 2 / 3),                                        # counts clip: P 1/2, R 1/1
    ("dog", ["cat"], 0.0, 0.0),
    (None, [], 1.0, 1.0),                                                    # right abstention
    ("", [], 1.0, 1.0),
    (None, ["", "  "], 1.0, 1.0),                                            # blank references: unanswerable
    ("Paris", [], 0.0, 0.0),                                                 # answered an unanswerable question
    (None, ["Paris"], 0.0, 0.0),                                             # abstained on an answerable one
    ("a", ["the"], 1.0, 1.0),                                                # both normalise to empty
])
def test_exact_match_and_f1_hand_computed(prediction, references, em, f1):
    got_em, got_f1 = score_prediction(prediction, references)
    assert got_em == em
    assert got_f1 == pytest.approx(f1)


def test_percentile_interpolates():
    assert percentile([0.4, 0.1, 0.3, 0.2, 0.5], 50) == pytest.approx(0.3)
    assert percentile([0.1, 0.2, 0.3, 0.4, 0.5], 95) == pytest.approx(0.48)
    assert percentile([2.0], 95) == 2.0 and percentile([], 50) is None


def _article(aid: str, source: str, duplicates=()) -> Article:
    return Article(aid, f"title {aid}", "text", source, "hash", tuple(duplicates))


def _passage(article_id: str, rank: int) -> Passage:
    return Passage(rank, article_id, "t", f"{article_id}.txt", 0, 4, "text", 1.0 / rank, rank)


def test_doc_ids_resolve_by_source_record_id_file_name_and_article_id():
    arts = [_article("ida", "news/a.txt", duplicates=["copy.txt"]), _article("idb", "feed.jsonl#b")]
    assert doc_keys(arts[0]) == {"ida", "news/a.txt", "a.txt", "copy.txt"}
    resolved, unknown = resolve_doc_ids(arts, ["a.txt", "feed.jsonl#b", "b", "idb", "copy.txt", "zzz"])
    assert resolved["a.txt"] == {"ida"} and resolved["copy.txt"] == {"ida"}
    assert resolved["feed.jsonl#b"] == resolved["b"] == resolved["idb"] == {"idb"}
    assert unknown == ["zzz"]


def _hand_report_rows():
    resolved = {"a.txt": {"A"}, "b": {"B"}}
    cases = [  # gold, prediction, passages' articles, error, latency
        (GoldQuestion("1", "q1", ("Denver Broncos", "Broncos"), ("a.txt",)), "the Broncos", ["B", "A"], None, 0.1),
        (GoldQuestion("2", "q2", ("Carolina Panthers",), ("a.txt",)), "Panthers team", ["A"], None, 0.2),
        (GoldQuestion("3", "q3", ()), None, ["A"], None, 0.3),
        (GoldQuestion("4", "q4", ()), "Paris", ["A"], None, 0.4),
        (GoldQuestion("5", "q5", ("Paris",), ("b",)), None, ["A"], None, 0.5),
        (GoldQuestion("6", "q6", ("x",), ("a.txt",)), None, [], "RuntimeError: boom", 9.0),
    ]
    rows = []
    for g, pred, arts, err, lat in cases:
        passages = [_passage(a, r) for r, a in enumerate(arts, 1)]
        answer = None if err else Answer(g.question, pred, 0.5, passages=passages)
        rows.append(score_row(g, answer, err, lat, resolved))
    return rows


def test_summary_metrics_hand_computed():
    rows = _hand_report_rows()
    assert [(r["em"], r["f1"], r["gold_rank"]) for r in rows] == [
        (1.0, 1.0, 2), (0.0, 0.5, 1), (1.0, 1.0, None), (0.0, 0.0, None), (0.0, 0.0, None), (0.0, 0.0, None)]
    m = summarize(rows, k=5)
    assert m["questions"] == 6 and m["errors"] == 1
    assert m["exact"] == pytest.approx(33.33) and m["f1"] == pytest.approx(41.67)        # 2/6, 2.5/6
    assert m["has_answer"] == {"questions": 4, "exact": 25.0, "f1": 37.5}                # q1 q2 q5 q6
    assert m["no_answer"] == {"questions": 2, "exact": 50.0, "f1": 50.0}                 # q3 q4
    # abstained on q3 (right) and q5 (wrong); q6 failed and is left out
    assert m["predicted_no_answer"] == 2
    assert m["no_answer_precision"] == 50.0 and m["no_answer_recall"] == 50.0
    # retrieval over answerable questions with a doc_id that did not fail: q1 (rank 2), q2 (rank 1), q5 (miss)
    assert m["retrieval"] == {"questions": 3, "k": 5, "recall@1": 33.33, "recall@3": 66.67,
                              "recall@5": 66.67, "mrr": 0.5}
    assert m["latency_s"]["p50"] == pytest.approx(0.3) and m["latency_s"]["p95"] == pytest.approx(0.48)


def test_markdown_report_is_a_readable_table(tmp_path):
    rows = _hand_report_rows()
    report = {"gold": "gold.jsonl", "created": "2026-01-01T00:00:00Z", "seconds": 1.0, "batch_size": 16,
              "latency_note": "amortised", "metrics": summarize(rows, 5), "unknown_doc_ids": ["zzz"],
              "settings": {"answerer": "sentence", "answerer_class": "x.Y", "answerer_parameters": {"threshold": 0.5},
                           "embedder": "all-MiniLM-L6-v2", "package_version": "0.1.0", "machine": "m", "python": "3",
                           "settings": {"articles_dir": "arts", "index_dir": "ix", "k": 5, "candidates": 50,
                                        "fusion": "zscore"},
                           "index": {"embedder": {"name": "all-MiniLM-L6-v2", "dim": 384},
                                     "splitter": {"chunk_size": 1000}, "articles": 2, "chunks": 9}},
              "questions": rows}
    md = to_markdown(report)
    assert "| exact match | 33.33 % |" in md and "| F1 | 41.67 % |" in md
    assert "| no-answer precision | 50.00 % (2 predicted no-answer) |" in md
    assert "| retrieval MRR@5 | 0.500 |" in md and "@1 33.33 %" in md
    assert "| latency p50 / p95 | 300.00 / 480.00 ms" in md
    assert "| 2 | q2 | Carolina Panthers | Panthers team | 0.50 | 1 | — |" in md
    assert "RuntimeError: boom" in md and "`zzz`" in md
    assert "| other settings | candidates=50, fusion=zscore |" in md
    j, m = write_report(report, tmp_path / "out" / "r")
    assert json.loads(j.read_text())["metrics"]["f1"] == pytest.approx(41.67) and m.read_text() == md


# ----------------------------------------------------------------------------------------- gold files


def test_gold_jsonl_fields_defaults_and_duplicates(tmp_path):
    warnings = []
    g = load_gold(_jsonl(tmp_path / "g.jsonl", [
        {"id": "a", "question": "Who?", "answers": ["X", "Y"], "doc_id": "n.txt"},
        {"question": "What?", "answers": "Z"},
        "",
        {"id": "a", "question": "Why?", "answers": [], "doc_id": ["n.txt", "m.txt"]},
        {"question": "When?", "answers": ["1999"], "is_impossible": True},
        {"question": "Where?", "answers": [{"text": "Paris", "answer_start": 3}]},
    ]), warn=warnings.append).questions
    assert [(q.id, q.question, q.answers, q.doc_ids) for q in g] == [
        ("a", "Who?", ("X", "Y"), ("n.txt",)), ("2", "What?", ("Z",), ()),
        ("a@line4", "Why?", (), ("n.txt", "m.txt")), ("5", "When?", (), ()), ("6", "Where?", ("Paris",), ())]
    assert warnings == ["g.jsonl line 3 is blank; skipped",
                        "g.jsonl line 4: id 'a' already used on line 1; kept as 'a@line4'"]


@pytest.mark.parametrize("name, rows, message", [
    ("g.jsonl", [{"question": "Who?"}], "line 1 has no 'answers'"),
    ("g.jsonl", [{"question": "Who?", "answers": None}], "line 1 has no 'answers'"),
    ("g.jsonl", [{"question": "Who?", "answers": [1]}], "each answer must be text"),
    ("g.jsonl", [{"answers": []}], "line 1 has no 'question'"),
    ("g.jsonl", [{"question": "Who?", "answers": []}, "{oops"], "line 2 is not valid JSON"),
    ("g.jsonl", [{"question": "Who?", "answers": [], "doc_id": {"a": 1}}], "'doc_id' must be"),
    ("g.jsonl", [], "holds no questions"),
    ("g.json", ["{not json"], "is not valid JSON"),
    ("g.json", [{"version": "2"}], "not in the SQuAD format"),
    ("g.json", [{"data": [{"title": "T", "paragraphs": [{"qas": []}]}]}], "needs 'context' text"),
    ("g.json", [{"data": []}], "holds no questions"),
    ("g.csv", ["question,answers"], "unknown suffix"),
])
def test_malformed_gold_files(tmp_path, name, rows, message):
    with pytest.raises(QAError) as e:
        load_gold(_jsonl(tmp_path / name, rows), warn=None)
    assert message in str(e.value) and "\n" not in str(e.value)


SQUAD = {"version": "v2.0", "data": [
    {"title": "Super_Bowl_50", "paragraphs": [
        {"context": "Super Bowl 50 was an American football game. The Denver Broncos defeated the Carolina "
                    "Panthers 24-10 to earn their third Super Bowl title. The game was played on February 7, "
                    "2016, at Levi's Stadium in Santa Clara, California.",
         "qas": [
             {"id": "sb1", "question": "Which team won Super Bowl 50?",
              "answers": [{"text": "Denver Broncos", "answer_start": 49}, {"text": "Broncos", "answer_start": 56}],
              "is_impossible": False},
             {"id": "sb2", "question": "Who sang the anthem at Super Bowl 50?", "answers": [],
              "plausible_answers": [{"text": "x", "answer_start": 0}], "is_impossible": True}]}]},
    {"title": "Amazon rainforest", "paragraphs": [
        {"context": "The Amazon rainforest covers most of the Amazon basin of South America. The basin covers "
                    "seven million square kilometres, of which five and a half million are covered by the forest.",
         "qas": [{"id": "am1", "question": "How much of the basin is covered by the rainforest?",
                  "answers": [{"text": "five and a half million", "answer_start": 135}]}]}]},
]}


def test_squad_json_is_read_with_paragraphs_as_articles(tmp_path):
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(SQUAD))
    g = load_gold(path, warn=None)
    assert [(q.id, q.answers, q.doc_ids) for q in g.questions] == [
        ("sb1", ("Denver Broncos", "Broncos"), ("Super_Bowl_50-p0",)),
        ("sb2", (), ("Super_Bowl_50-p0",)),
        ("am1", ("five and a half million",), ("Amazon_rainforest-p0",))]
    assert [(a["id"], a["title"]) for a in g.articles] == [
        ("Super_Bowl_50-p0", "Super Bowl 50"), ("Amazon_rainforest-p0", "Amazon rainforest")]
    assert g.articles[0]["text"] == SQUAD["data"][0]["paragraphs"][0]["context"]


# ----------------------------------------------------------------------------------------- feedback


def _cit(source: str) -> dict:
    return {"article_id": "x", "title": "T", "source": source, "start": 0, "end": 6, "passage": "Guaido left",
            "passage_start": 0, "passage_end": 11, "score": 0.9}


FEEDBACK = [
    {"time": "2026-03-01T10:00:00Z", "question": "who left?", "understood_question": "Who slipped out of Venezuela?",
     "answer": "Guaido", "score": 0.9, "citations": [_cit("seed.txt"), _cit("other.txt")], "verdict": "up"},
    {"time": "2026-03-01T10:01:00Z", "question": "What is the boiling point of water?", "understood_question": "",
     "answer": None, "score": 0.1, "citations": [], "verdict": "up"},
    {"time": "2026-03-01T10:02:00Z", "question": "Who leads Russia?", "understood_question": "Who leads Russia?",
     "answer": "Maduro", "score": 0.4, "citations": [_cit("seed.txt")], "verdict": "down"},
    '{"question": "half a line',
    {"time": "2026-03-01T10:03:00Z", "question": "Who is Maduro?", "understood_question": "Who is Maduro?",
     "answer": "a pilot", "score": 0.4, "citations": [_cit("seed.txt")], "verdict": "down"},
    {"time": "2026-03-01T10:04:00Z", "question": "Who is Maduro?", "understood_question": "Who is Maduro?",
     "answer": "Venezuela's president", "score": 0.8, "citations": [_cit("seed.txt")], "verdict": "up"},
    {"question": "What?", "verdict": "meh"},
]


def test_feedback_to_gold(tmp_path):
    warnings = []
    out, review = tmp_path / "gold.jsonl", tmp_path / "review.jsonl"
    s = feedback_to_gold(_jsonl(tmp_path / "fb.jsonl", FEEDBACK), out, review=review, warn=warnings.append)
    gold = [json.loads(line) for line in out.read_text().splitlines()]
    assert gold == [
        {"id": "feedback-1", "question": "Who slipped out of Venezuela?", "asked": "who left?",
         "time": "2026-03-01T10:00:00Z", "answers": ["Guaido"], "doc_id": "seed.txt"},
        {"id": "feedback-2", "question": "What is the boiling point of water?", "time": "2026-03-01T10:01:00Z",
         "answers": []},
        {"id": "feedback-6", "question": "Who is Maduro?", "time": "2026-03-01T10:04:00Z",
         "answers": ["Venezuela's president"], "doc_id": "seed.txt"},
    ]
    assert (s.answered, s.unanswerable, s.down, s.duplicates, s.bad, s.review) == (2, 1, 1, 1, 2, 1)
    assert json.loads(review.read_text()) == {"id": "feedback-3", "question": "Who leads Russia?",
                                              "time": "2026-03-01T10:02:00Z", "answers": None,
                                              "rejected_answer": "Maduro", "doc_id": "seed.txt"}
    assert any("line 4 is not valid JSON" in w for w in warnings)
    assert any("line 7 needs a 'question' and a verdict" in w for w in warnings)
    assert len(load_gold(out, warn=None).questions) == 3  # the gold file is a valid qa eval input
    with pytest.raises(QAError, match="has no 'answers'"):  # review rows must be labelled first
        load_gold(review, warn=None)


def test_a_withdrawn_thumb_takes_the_verdict_back(tmp_path):
    """The chat records "none" when a selected thumb is clicked again: that question leaves the gold file."""
    rows = [FEEDBACK[0], {**FEEDBACK[0], "verdict": "none"}, FEEDBACK[1]]
    warnings = []
    s = feedback_to_gold(_jsonl(tmp_path / "fb.jsonl", rows), tmp_path / "gold.jsonl", warn=warnings.append)
    gold = [json.loads(line) for line in (tmp_path / "gold.jsonl").read_text().splitlines()]
    assert [g["question"] for g in gold] == ["What is the boiling point of water?"]
    assert (s.answered, s.unanswerable, s.bad) == (0, 1, 0) and warnings == []


def test_feedback_to_gold_cli(capsys, tmp_path):
    fb = _jsonl(tmp_path / "fb.jsonl", FEEDBACK)
    assert main(["feedback-to-gold", str(fb), "-o", str(tmp_path / "g.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "3 gold questions (2 with an answer, 1 without); skipped 1 thumbs-down" in out
    assert main(["feedback-to-gold", str(tmp_path / "empty.jsonl"), "-o", str(tmp_path / "g.jsonl")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty.jsonl").write_text("")
    assert main(["feedback-to-gold", str(tmp_path / "empty.jsonl"), "-o", str(tmp_path / "g.jsonl")]) == 2
    assert "holds no feedback" in capsys.readouterr().err
    assert main(["feedback-to-gold", str(fb), "-o", str(tmp_path / "g.csv")]) == 2
    assert "write the gold file as .jsonl" in capsys.readouterr().err


def test_eval_cli_rejects_bad_gold_before_loading_models(capsys, tmp_path):
    (tmp_path / "g.txt").write_text("Who?\n")
    assert main(["eval", str(tmp_path / "g.txt")]) == 2
    err = capsys.readouterr().err
    assert "unknown suffix" in err and err.count("\n") == 1


# ----------------------------------------------------------------------------------------- real engine


@pytest.mark.slow
def test_evaluate_over_the_seed_article(seed_qa, tmp_path):
    gold = load_gold(_jsonl(tmp_path / "gold.jsonl", [
        {"id": "g", "question": GUAIDO_Q, "answers": ["Guaido"], "doc_id": SEED_FILE.name},
        {"id": "n", "question": NO_ANSWER_Q, "answers": []},
        {"id": "e", "question": "   ", "answers": ["x"]},
        {"id": "u", "question": "Who is Venezuela's opposition leader?", "answers": ["Juan Guaido"],
         "doc_id": "missing.txt"},
    ]), warn=None).questions
    warnings = []
    report = evaluate(seed_qa, gold, k=3, batch_size=4, progress=False, warn=warnings.append)
    rows = {r["id"]: r for r in report["questions"]}
    g = rows["g"]
    assert "Guaido" in g["prediction"] and g["f1"] > 0 and g["gold_rank"] == 1 and g["error"] is None
    assert g["em"] == squad_exact(g["prediction"], ["Guaido"]) and g["em"] <= g["f1"] <= 1.0
    assert g["citation"]["source"] == SEED_FILE.name and len(g["retrieved"]) == 3
    assert rows["n"]["prediction"] is None and rows["n"]["em"] == 1.0
    assert "question is empty" in rows["e"]["error"] and rows["e"]["em"] == 0.0
    assert rows["u"]["gold_rank"] is None
    m = report["metrics"]
    assert m["errors"] == 1 and m["no_answer"] == {"questions": 1, "exact": 100.0, "f1": 100.0}
    assert m["no_answer_recall"] == 100.0
    assert m["retrieval"]["questions"] == 2 and m["retrieval"]["recall@1"] == 50.0 and m["retrieval"]["mrr"] == 0.5
    assert m["latency_s"]["p50"] > 0
    assert report["unknown_doc_ids"] == ["missing.txt"] and "missing.txt" in warnings[0]
    s = report["settings"]
    assert s["answerer"] == seed_qa.answerer.name and s["embedder"] == seed_qa.embedder.name
    assert s["index"]["embedder"]["name"] == seed_qa.embedder.name and s["index"]["splitter"]["chunk_size"] == 1000
    assert s["settings"]["k"] == 3 and s["package_version"]


@pytest.mark.slow
def test_eval_cli_on_squad_json_indexes_the_paragraphs(capsys, monkeypatch, embedder, tmp_path):
    monkeypatch.setattr("qa.engine.get_embedder", lambda name: embedder)
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(SQUAD))
    assert main(["eval", str(path), "-q", "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert "| exact match |" in out and "dev-report.json" in out
    articles = tmp_path / "dev-report-articles" / "squad_contexts.jsonl"
    assert [json.loads(line)["id"] for line in articles.read_text().splitlines()] == [
        "Super_Bowl_50-p0", "Amazon_rainforest-p0"]
    report = json.loads((tmp_path / "dev-report.json").read_text())
    assert report["gold"] == str(path) and report["settings"]["settings"]["articles_dir"] == str(articles.parent)
    assert [r["id"] for r in report["questions"]] == ["sb1", "sb2", "am1"]
    m = report["metrics"]
    assert m["questions"] == 3 and m["has_answer"]["questions"] == 2 and m["no_answer"]["questions"] == 1
    # two paragraphs only, so each question's own paragraph is retrieved within k=2
    assert m["retrieval"]["recall@2"] == 100.0 and report["unknown_doc_ids"] == []
    sb1 = report["questions"][0]
    assert sb1["gold_rank"] == 1
    assert sb1["citation"] is None or sb1["citation"]["source"] == "squad_contexts.jsonl#Super_Bowl_50-p0"
    assert sb1["em"] == squad_exact(sb1["prediction"], sb1["answers"])
    assert sb1["em"] <= sb1["f1"] <= 1.0
    if sb1["em"] == 1.0:
        assert sb1["f1"] == 1.0
    md = (tmp_path / "dev-report.md").read_text()
    assert md.startswith(f"# Evaluation of `{path}`") and "| answerer |" in md


def test_a_report_names_the_reader_and_gate_settings_that_decided(seed_qa):
    """The shipped answerer is the reader behind the gate: the report's parameters are both of theirs,
    read through the answerer's own description, not probed from the outer object."""
    from qa.evaluation.score import describe_setup

    setup = describe_setup(seed_qa, 5)
    params = setup["answerer_parameters"]
    assert setup["answerer"] == "span-reader+gate" and setup["embedder"] == seed_qa.embedder.name
    assert params["abstain"] is False and isinstance(params["null_threshold"], float)
    assert set(params["gate"]) == {"weights", "bias", "threshold"} and 0 < params["gate"]["threshold"] < 1
