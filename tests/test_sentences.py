from __future__ import annotations

from qa.sentences import sentence_around, split_sentences


def _sents(text):
    return [text[s:e] for s, e in split_sentences(text)]


def test_abbreviations_do_not_end_sentences():
    text = "Mr. Smith met U.S. officials in Washington. Dr. Jones left at 5 p.m. on Friday. It rained."
    assert _sents(text) == [
        "Mr. Smith met U.S. officials in Washington.",
        "Dr. Jones left at 5 p.m. on Friday.",
        "It rained.",
    ]


def test_quotes_stay_with_their_sentence():
    text = '"We are ready," he said. "Are you?" she asked. The U.N. agreed.'
    assert _sents(text) == ['"We are ready," he said.', '"Are you?" she asked.', "The U.N. agreed."]


def test_lines_end_sentences_and_offsets_are_exact(seed_text):
    text = "Headline without stop\n\nFirst paragraph here. Second one?\nCaption"
    assert _sents(text) == ["Headline without stop", "First paragraph here.", "Second one?", "Caption"]
    spans = split_sentences(seed_text)
    assert len(spans) > 15
    assert all(seed_text[s:e] == seed_text[s:e].strip() and e > s for s, e in spans)
    assert spans == sorted(spans)


def test_sentence_around_a_span():
    text = "One here. Guaido slipped out of Venezuela last week. Three."
    s = text.index("Guaido")
    a, b = sentence_around(text, s, s + 6)
    assert text[a:b] == "Guaido slipped out of Venezuela last week."
