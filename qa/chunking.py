"""Splitting articles into overlapping chunks that keep their exact offsets.

    from qa.chunking import Chunker
    chunks = Chunker(chunk_size=1000, chunk_overlap=200).split(article, first_id=0)
    assert all(article.text[c.start:c.end] == c.text for c in chunks)

Splitting is done by langchain-text-splitters' recursive splitter, preferring paragraph, line and
sentence boundaries over word boundaries, so chunks rarely cut a sentence in two.
"""

from __future__ import annotations

from qa.types import Article, Chunk

SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


class Chunker:
    """Cuts article text into chunks of at most ``chunk_size`` characters overlapping by ``chunk_overlap``."""

    def __init__(self, chunk_size: int = 1000, chunk_overlap: int = 200) -> None:
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self._splitter = None

    @property
    def splitter(self):
        """The text splitter, made on first use: answering from an index that is up to date never
        splits text, so it never imports langchain."""
        if self._splitter is None:
            from langchain_text_splitters import RecursiveCharacterTextSplitter

            self._splitter = RecursiveCharacterTextSplitter(
                chunk_size=self.chunk_size,
                chunk_overlap=self.chunk_overlap,
                separators=SEPARATORS,
                keep_separator="end",
                strip_whitespace=True,
            )
        return self._splitter

    def spans(self, text: str) -> list[tuple[int, int]]:
        """``(start, end)`` character spans of the chunks of ``text``, in order."""
        spans: list[tuple[int, int]] = []
        cursor = 0
        for piece in self.splitter.split_text(text):
            start = text.find(piece, cursor)
            if start < 0:  # cannot happen with strip_whitespace splitting, but never emit a wrong offset
                start = text.find(piece)
                if start < 0:
                    raise ValueError("chunk text not found in the article text")
            spans.append((start, start + len(piece)))
            # the next chunk starts after this one's start and at most chunk_overlap before its end
            cursor = max(start + 1, start + len(piece) - self.chunk_overlap)
        return spans

    def split(self, article: Article, first_id: int = 0) -> list[Chunk]:
        """The chunks of ``article``, numbered from ``first_id``."""
        return [
            Chunk(id=first_id + i, article_id=article.id, start=s, end=e, text=article.text[s:e])
            for i, (s, e) in enumerate(self.spans(article.text))
        ]
