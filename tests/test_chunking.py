from __future__ import annotations

from qa.articles import make_article
from qa.chunking import Chunker


def test_chunks_keep_exact_offsets_and_cover_the_text(seed_text):
    art = make_article("seed.txt", "t", seed_text)
    for size, overlap in [(1000, 200), (300, 50), (120, 0)]:
        chunks = Chunker(size, overlap).split(art, first_id=7)
        assert [c.id for c in chunks] == list(range(7, 7 + len(chunks)))
        for c in chunks:
            assert art.text[c.start:c.end] == c.text
            assert len(c.text) <= size
        # every non-space character of the article is in some chunk
        covered = set()
        for c in chunks:
            covered.update(range(c.start, c.end))
        assert all(i in covered for i, ch in enumerate(seed_text) if not ch.isspace())


def test_repeated_text_gets_distinct_offsets():
    text = ("The same sentence repeats here. " * 40).strip()
    art = make_article("r.txt", "r", text)
    chunks = Chunker(100, 20).split(art)
    starts = [c.start for c in chunks]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(text[c.start:c.end] == c.text for c in chunks)
    assert chunks[-1].end == len(text)


def test_chunks_prefer_sentence_boundaries():
    text = "First sentence is here. " * 10 + "\n\n" + "Second paragraph sentence. " * 10
    chunks = Chunker(200, 0).split(make_article("s.txt", "s", text.strip()))
    assert all(c.text.endswith(".") for c in chunks)
