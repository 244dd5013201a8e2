"""The span reader with the REAL shipped weights (qa/reader/weights) on real text."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from qa.answerers.protocol import NO_ANSWER_MESSAGE, NO_PASSAGES_MESSAGE, Answerer
from qa.types import Passage

GUAIDO = "Juan Guaido slipped out of Venezuela last week to join aid convoys in Colombia."

# A real news-style article (several paragraphs) used as the "article text"; passages are slices of it.
ARTICLE = (
    "Russia Vows to Continue Supporting Maduro in Venezuela\n\n"
    "Under Maduro's leadership, the economy of Venezuela has spiraled out of control. Vice-President Mike "
    "Pence led talks on trying to get Nicolas Maduro out of power, and hit other Venezuelan politicians who "
    "support Maduro with sanctions too.\n\n"
    "About fifty countries have recognized Guaido as Venezuela's legitimate leader.\n\n"
    "USA envoy to Venezuela Elliot Abrams attended a meeting of the United Nations Security Council in New "
    "York on February 28, 2019.\n\n"
    "\"We're interested in continuing cooperation with Venezuela, especially since many of our companies are "
    "working on quite big projects there\", said Kremlin spokesman Dmitry Peskov.\n"
)


def passage(
    text: str, article_id: str = "a1", start: int = 0, rank: int = 0, score: float = 1.0, title: str = "T"
) -> Passage:
    return Passage(
        chunk_id=rank,
        article_id=article_id,
        title=title,
        source=f"{article_id}.txt",
        start=start,
        end=start + len(text),
        text=text,
        score=score,
        rank=rank,
    )


def article_passage(article: str, start: int, end: int, article_id: str = "a1", rank: int = 0) -> Passage:
    return passage(article[start:end], article_id=article_id, start=start, rank=rank)


def check_citations(answer, articles: dict[str, str]) -> None:
    assert answer.citations
    assert answer.citations[0].text == answer.text
    for c in answer.citations:
        assert articles[c.article_id][c.start : c.end] == c.text
        assert articles[c.article_id][c.passage_start : c.passage_end] == c.passage
        assert c.passage_start <= c.start < c.end <= c.passage_end
    assert 0.0 <= answer.score <= 1.0
    assert answer.text == answer.text.strip()


@pytest.fixture(scope="module")
def reader():
    from qa.reader import SpanReader

    r = SpanReader()
    assert (r.weights_dir / "model.safetensors").exists(), "shipped reader weights are missing"
    return r


def test_is_an_answerer(reader):
    assert isinstance(reader, Answerer)
    assert reader.name == "span-reader" and reader.read_depth == 10


def test_without_abstaining_the_reader_always_proposes_its_best_span():
    from qa.reader import SpanReader

    assert SpanReader().abstain and SpanReader().merge_threshold == SpanReader().null_threshold
    proposing = SpanReader(abstain=False)
    assert proposing.null_threshold == SpanReader().null_threshold  # the calibrated value, not a flag
    assert proposing.merge_threshold == -math.inf  # every article's copy of the answer is cited


@pytest.mark.slow
def test_simple_span(reader):
    ans = reader.answer("Who slipped out of Venezuela?", [passage(GUAIDO)])
    assert ans.found
    assert "Guaido" in ans.text
    assert len(ans.text) < 30
    check_citations(ans, {"a1": GUAIDO})
    assert ans.context and "Guaido" in ans.context


@pytest.mark.slow
def test_where_and_when(reader):
    ans = reader.answer("Where did Guaido join aid convoys?", [passage(GUAIDO)])
    assert ans.found and "Colombia" in ans.text
    ans = reader.answer("When did Juan Guaido slip out of Venezuela?", [passage(GUAIDO)])
    assert ans.found and "last week" in ans.text


@pytest.mark.slow
def test_offsets_invariant_with_article_offsets(reader):
    start = ARTICLE.index("About fifty")
    end = ARTICLE.index("\"We're")
    p = article_passage(ARTICLE, start, end)
    questions = [
        "How many countries have recognized Guaido?",
        "Who is the USA envoy to Venezuela?",
        "When did Elliot Abrams attend the Security Council meeting?",
    ]
    expected = ["fifty", "Abrams", "2019"]
    answers = reader.answer_many(questions, [[p]] * len(questions))
    for ans, exp in zip(answers, expected, strict=False):
        assert ans.found, ans
        assert exp in ans.text
        check_citations(ans, {"a1": ARTICLE})
        assert ans.citations[0].start >= start  # article offsets, not passage-local ones


@pytest.mark.slow
def test_clear_no_answer(reader):
    ans = reader.answer("What is the boiling point of liquid nitrogen in kelvin?", [passage(GUAIDO)])
    assert not ans.found
    assert ans.text is None and ans.citations == ()
    assert ans.message == NO_ANSWER_MESSAGE
    assert ans.passages and ans.passages[0].text == GUAIDO
    assert 0.0 <= ans.score <= 1.0


def test_no_passages(reader):
    ans = reader.answer("Who slipped out of Venezuela?", [])
    assert not ans.found and ans.message == NO_PASSAGES_MESSAGE


@pytest.mark.slow
def test_long_passage_uses_windows(reader):
    from qa.reader.features import featurize

    filler = [
        "The city council met on Tuesday to discuss the new budget for road repairs and public parks.",
        "Local farmers reported a strong harvest of apples and pears despite the dry summer months.",
        "A new library branch opened downtown with extended hours for students and families.",
        "The regional train operator announced timetable changes for the winter season.",
        "Officials said the bridge renovation would be finished before the end of next year.",
    ]
    body = " ".join(filler * 8)
    fact = "The peace treaty was signed in Lisbon by the two foreign ministers."
    text = body + " " + fact + " " + " ".join(filler[:2])
    windows = featurize(
        reader.tokenizer, ["Where was the peace treaty signed?"], [text], reader.max_seq_len, reader.stride
    )
    assert len(windows) >= 5
    ans = reader.answer("Where was the peace treaty signed?", [passage(text, start=100)])
    assert ans.found and "Lisbon" in ans.text
    c = ans.citations[0]
    assert text[c.start - 100 : c.end - 100] == ans.text


@pytest.mark.slow
def test_duplicate_spans_merged_across_articles(reader):
    t1 = "Prime minister Jacinda Ardern announced on Thursday that the Christchurch memorial will open in March."
    t2 = "Speaking in Wellington, Jacinda Ardern said the Christchurch memorial will open in March, after delays."
    t3 = "The weather in Auckland was mild, with light winds and some showers expected."
    ps = [
        passage(t1, article_id="n1", rank=0),
        passage(t2, article_id="n2", rank=1),
        passage(t1, article_id="n1", start=0, rank=2),  # same article twice: one citation only
        passage(t3, article_id="n3", rank=3),
    ]
    ans = reader.answer("When will the Christchurch memorial open?", ps)
    assert ans.found and ans.text == "March"
    check_citations(ans, {"n1": t1, "n2": t2, "n3": t3})
    assert sorted(c.article_id for c in ans.citations) == ["n1", "n2"]  # one citation per supporting article
    assert ans.citations[0].score >= ans.citations[1].score
    assert "2 articles" in ans.message


@pytest.mark.slow
def test_rerank_moves_the_passage_that_holds_the_answer_first(reader):
    weather = "The weather in Auckland was mild, with light winds and some showers expected on Friday."
    budget = "The city council met on Tuesday to discuss the new budget for road repairs and public parks."
    ps = [passage(weather, "w", rank=0, score=1.0), passage(budget, "b", rank=1, score=0.9),
          passage(GUAIDO, "g", rank=2, score=0.8)]
    ans = reader.answer("Who slipped out of Venezuela?", ps)
    assert ans.found and "Guaido" in ans.text
    assert [p.article_id for p in ans.passages][0] == "g"
    # the re-ranked order is by rerank score (fused score + weight x the reader's best margin); score and
    # rank stay what retrieval found
    assert ans.passages[0].rerank_score > 0.8
    assert [p.rerank_score for p in ans.passages] == sorted((p.rerank_score for p in ans.passages), reverse=True)
    assert {(p.article_id, p.rank, p.score) for p in ans.passages} == {("w", 0, 1.0), ("b", 1, 0.9), ("g", 2, 0.8)}
    check_citations(ans, {"w": weather, "b": budget, "g": GUAIDO})
    assert [p.rank for p in ps] == [0, 1, 2] and ps[2].score == 0.8  # the caller's passages are left as they were

    from qa.reader import SpanReader

    plain = SpanReader(rerank_weight=0.0)
    assert plain.read_depth == 0 and reader.read_depth == 10  # without re-ranking it reads just the k given
    assert [p.article_id for p in plain.answer("Who slipped out of Venezuela?", ps).passages] == ["w", "b", "g"]


@pytest.mark.slow
def test_answer_many_matches_answer(reader):
    qs = ["Who slipped out of Venezuela?", "How many countries have recognized Guaido?"]
    ps = [[passage(GUAIDO)], [passage(ARTICLE)]]
    many = reader.answer_many(qs, ps)
    one = [reader.answer(q, p) for q, p in zip(qs, ps, strict=False)]
    assert [a.text for a in many] == [a.text for a in one]
    for a, b in zip(many, one, strict=False):
        assert a.score == pytest.approx(b.score, abs=1e-4)


@pytest.mark.slow
def test_concurrent_calls(reader):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        res = list(pool.map(lambda _: reader.answer("Who slipped out of Venezuela?", [passage(GUAIDO)]).text, range(4)))
    assert len(set(res)) == 1 and "Guaido" in res[0]


def test_package_import_is_light():
    code = "import sys, qa.reader; assert 'torch' not in sys.modules and 'transformers' not in sys.modules; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


# ------------------------------------------------------------------------------------------------
# the decision step on hand-made candidates (no network): answer types, evidence, edge repair

BRIDGE = ("The Harwick footbridge was opened by the mayor on 12 May 2021. It is 310 metres long and "
          "cost about 9 million pounds. Engineers said the deck would be repainted every ten years.")


def _cands(reader, text: str, spans: list[tuple[str, float]], p=None):
    """Candidates for the given span texts with the given margins (null score 0), best first."""
    from qa.reader.spans import SpanCandidate

    p = p or passage(text)
    out = []
    for s, margin in spans:
        a = text.index(s)
        out.append((p, 0, SpanCandidate(0, a, a + len(s), margin, 0.0)))
    return p, out


def _typed_reader(**kw):
    from qa.reader import SpanReader

    return SpanReader(abstain=False, **kw)  # decide() needs no weights


def test_a_span_of_the_asked_for_type_is_preferred_to_a_better_ranked_one():
    reader = _typed_reader()
    p, cands = _cands(reader, BRIDGE, [("12 May 2021", 6.0), ("310 metres", 5.0)])
    ans = reader.decide("How long is the Harwick footbridge?", [p], cands)
    assert ans.text == "310 metres" and ans.kind == "span"
    check_citations(ans, {"a1": BRIDGE})
    # the gate's raw-score signal is the span shown, not the better-ranked one it stood in for
    assert ans.citations[0].span_score == 5.0
    # and the other way round for a date question
    _, swapped = _cands(reader, BRIDGE, [("310 metres", 6.0), ("12 May 2021", 5.0)], p=p)
    ans = reader.decide("When was the Harwick footbridge opened?", [p], swapped)
    assert ans.text == "12 May 2021"
    # without answer types the better-ranked span is answered, as before
    plain = _typed_reader(answer_types=False)
    assert plain.decide("How long is the Harwick footbridge?", [p], cands).text == "12 May 2021"


def test_no_answer_runs_across_a_blank_line():
    # a span from the end of one paragraph into the next holds a name, so it "looks like" a who answer
    reader = _typed_reader()
    text = ("The cup tie ended level at the Riverside ground.\n\nThe visiting manager said referee Dana Holt "
            "had been told what to do at half-time.")
    p, cands = _cands(reader, text, [("Riverside ground.\n\nThe visiting manager said referee Dana Holt", 7.0),
                                     ("Dana Holt", 5.0)])
    ans = reader.decide("Who refereed the cup tie?", [p], cands)
    assert ans.text == "Dana Holt"
    check_citations(ans, {"a1": text})


def test_no_span_of_the_asked_for_type_is_refused_not_answered_with_a_wrong_span():
    reader = _typed_reader()
    p, cands = _cands(reader, BRIDGE, [("12 May 2021", 6.0), ("the mayor", 2.0)])
    ans = reader.decide("How long is the Harwick footbridge?", [p], cands)
    assert ans.text is None and ans.citations == () and not ans.found
    assert "quantity" in ans.message and [x.text for x in ans.passages] == [BRIDGE]
    assert ans.to_dict()["confidence_level"] is None


def test_a_far_worse_span_of_the_right_type_is_not_taken():
    reader = _typed_reader()
    p, cands = _cands(reader, BRIDGE, [("12 May 2021", 9.0), ("310 metres", 9.0 - 2 * (reader_window() + 1))])
    ans = reader.decide("How long is the Harwick footbridge?", [p], cands)
    assert ans.text is None  # the date is refused, and the length is too far behind to be trusted


def reader_window() -> float:
    from qa.reader.reader import TYPE_WINDOW

    return TYPE_WINDOW / 0.5  # in margin units at the shipped re-ranking weight


def test_questions_no_span_answers_get_the_evidence_sentence_with_exact_offsets():
    reader = _typed_reader()
    article = "Intro line.\n\n" + BRIDGE
    p = passage(BRIDGE, start=len("Intro line.\n\n"))
    _, cands = _cands(reader, BRIDGE, [("repainted every ten years", 4.0)], p=p)
    for q in ("Why will the deck be repainted?", "Is the footbridge painted?", "How does the deck stay clean?"):
        ans = reader.decide(q, [p], cands)
        assert ans.kind == "evidence", q
        assert ans.text == "Engineers said the deck would be repainted every ten years."
        assert ans.context == ans.text
        assert ans.citations[0].span_score == 4.0  # the span the sentence was chosen around
        check_citations(ans, {"a1": article})


def test_who_is_name_is_answered_by_a_sentence_that_names_them_or_refused():
    text = ("Former singer Ian Brown was arrested after a concert on Tuesday. Ian Harris, deputy editor of a "
            "music magazine, said the arrest would not hurt ticket sales.")
    reader = _typed_reader()
    p, cands = _cands(reader, text, [("Ian Brown", 5.0), ("deputy editor of a music magazine", 1.0)])
    ans = reader.decide("Who is Ian Harris?", [p], cands)
    # the better-scored span's sentence is about someone else: the sentence that names him is shown
    assert ans.kind == "evidence" and ans.text.startswith("Ian Harris, deputy editor")
    assert ans.citations[0].span_score == 1.0
    check_citations(ans, {"a1": text})
    refused = reader.decide("Who is Ian Gunner?", [p], cands)
    assert refused.text is None and "do not mention Ian Gunner" in refused.message


def test_a_bare_title_is_not_a_who_answer():
    text = "Speaking for the government, President Ana Duarte said the bridge was safe."
    reader = _typed_reader()
    p, cands = _cands(reader, text, [("President", 5.0), ("Ana Duarte", 4.5)])
    assert reader.decide("Who said the bridge was safe?", [p], cands).text == "Ana Duarte"


def test_edge_repair_drops_a_question_word_glued_to_a_name():
    from qa.reader.spans import repair_span

    text = "The trade delegate to Portugal Maria Lopez, who arrived on Monday, met the unions."
    a, b = text.index("Portugal"), text.index(",")
    q = "Who is the trade delegate to Portugal?"
    assert text[slice(*repair_span(text, a, b, q))] == "Maria Lopez"
    # no evidence it is glued
    assert text[slice(*repair_span(text, a, b, "Who met the unions?"))] == "Portugal Maria Lopez"
    reader = _typed_reader()
    p, cands = _cands(reader, text, [("Portugal Maria Lopez", 5.0)])
    ans = reader.decide(q, [p], cands)
    assert ans.text == "Maria Lopez"
    check_citations(ans, {"a1": text})
    assert _typed_reader(repair_edges=False, answer_types=False).decide(q, [p], cands).text == "Portugal Maria Lopez"


def test_edge_repair_drops_a_dangling_conjunction():
    from qa.reader.spans import repair_span

    text = "Flights were cancelled in Lisbon and Porto on Friday."
    a, b = text.index("Lisbon"), text.index(" Porto")
    assert text[slice(*repair_span(text, a, b, "Where were flights cancelled?"))] == "Lisbon"
    a = text.index("and Porto")
    assert text[slice(*repair_span(text, a, text.index(" on"), "Where?"))] == "Porto"


def test_a_long_or_cross_sentence_span_never_stands_in_for_the_best_one():
    reader = _typed_reader()
    across = "12 May 2021. It is 310 metres"  # holds a length, but spans two sentences
    clause = "the mayor on 12 May 2021. It is 310 metres long and cost about 9 million"
    p, cands = _cands(reader, BRIDGE, [("12 May 2021", 6.0), (across, 5.9), (clause, 5.8), ("310 metres", 5.5)])
    assert reader.decide("How long is the Harwick footbridge?", [p], cands).text == "310 metres"
    p, cands = _cands(reader, BRIDGE, [("12 May 2021", 6.0), (across, 5.9)], p=p)
    assert reader.decide("How long is the Harwick footbridge?", [p], cands).text is None
