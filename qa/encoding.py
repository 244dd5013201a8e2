"""The chunk+embed stage: articles in, numbered chunks and their unit-length vectors out.

    from qa.encoding import LocalChunkEncoder, embed_text
    encoder = LocalChunkEncoder(Chunker(1000, 200), embedder)
    chunks, vectors = encoder.encode(articles, first_id=42)    # chunks numbered 42, 43, ...
    embed_text(article.title, chunk.text, chunk.start)          # what is embedded (and BM25-indexed) for a chunk

The store (:mod:`qa.store`) asks a :class:`ChunkEncoder` for the articles an update must (re-)embed;
the default runs here, :class:`qa.distributed.encoder.RayChunkEncoder` on a Ray cluster. Both embed
:func:`embed_text` of each chunk, so the two give the same index.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from qa.chunking import Chunker
from qa.embedders import Embedder
from qa.types import Article, Chunk

log = logging.getLogger(__name__)

#: bump when :func:`embed_text` changes what is indexed for a chunk (saved BM25 indexes then rebuild)
EMBED_TEXT_VERSION = 1


def embed_text(title: str, text: str, start: int) -> str:
    """What is embedded for a chunk ``text`` found at ``start`` in an article titled ``title``: the title
    gives the chunk its topic (unless the chunk already opens with it)."""
    if start == 0 and text.startswith(title):
        return text
    return f"{title}\n{text}"


def chunk_texts(articles: dict[str, Article], chunks: Sequence[Chunk]) -> list[str]:
    """:func:`embed_text` of each of ``chunks``, whose articles are in ``articles`` (by id)."""
    return [embed_text(articles[c.article_id].title, c.text, c.start) for c in chunks]


class ChunkEncoder(Protocol):
    """Turns the articles an update must (re-)embed into numbered chunks and their vectors.

    ``encode(articles, first_id)`` returns the chunks of ``articles`` in article order, numbered
    ``first_id, first_id + 1, ...``, and a float32 array with one unit-length row per chunk.
    """

    def encode(self, articles: Sequence[Article], first_id: int,
               progress: bool = False) -> tuple[list[Chunk], np.ndarray]: ...


class LocalChunkEncoder:
    """Chunks and embeds in this process."""

    def __init__(self, chunker: Chunker, embedder: Embedder) -> None:
        self.chunker = chunker
        self.embedder = embedder

    def encode(self, articles: Sequence[Article], first_id: int,
               progress: bool = False) -> tuple[list[Chunk], np.ndarray]:
        chunks: list[Chunk] = []
        for art in articles:
            chunks.extend(self.chunker.split(art, first_id=first_id + len(chunks)))
        if progress:
            log.info("Embedding %d chunks of %d articles", len(chunks), len(articles))
        vectors = self.embedder.embed(chunk_texts({a.id: a for a in articles}, chunks), progress=progress)
        return chunks, vectors
