"""What an index generation's ``manifest.json`` records, as typed, frozen values with their JSON forms.

    manifest = Manifest.from_bytes(path.read_bytes())     # its own checksum verified when it has one
    manifest.articles["a1b2"].segment                     # which segment holds an article's text
    path.write_bytes(manifest.to_bytes())                 # compact JSON carrying ``manifest_sha256``

The manifest carries the SHA-256 of its own canonical JSON (sorted keys, compact, the checksum field
left out) as ``manifest_sha256``; a manifest without it was written by an earlier version and is
accepted (the next write adds it). The JSON keys and their order are those every earlier version wrote.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from qa.store.vectors import VectorLayout
from qa.types import Article

FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
MANIFEST_CHECKSUM = "manifest_sha256"


class ManifestError(ValueError):
    """The manifest cannot be used; ``kind`` says why: ``unreadable``, ``format`` (one this version cannot
    read) or ``checksum`` (it fails its own)."""

    def __init__(self, message: str, kind: str = "unreadable") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class FileEntry:
    """A file of a generation as the manifest records it (format 1 recorded the SHA-256 alone: ``size`` -1)."""

    sha256: str
    size: int

    @classmethod
    def of(cls, data: bytes) -> FileEntry:
        return cls(hashlib.sha256(data).hexdigest(), len(data))

    def to_json(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "bytes": self.size}

    @classmethod
    def from_json(cls, d: Any) -> FileEntry:
        if isinstance(d, str):
            return cls(d, -1)
        return cls(str(d["sha256"]), int(d["bytes"]))


class ChunkRow(NamedTuple):
    """One line of ``chunks.jsonl``: a live chunk by id, its article and its offsets in the article text."""

    id: int
    article_id: str
    start: int
    end: int


@dataclass(frozen=True)
class ArticleEntry:
    """An article as the manifest records it: what an update compares, and which segment holds its text
    (``None`` in format 1, which had no segments). ``date``/``date_source`` are the article's publication
    date and where it came from; ``None`` in an entry written before dates were recorded, which the next
    update fills in (the article is rewritten, not re-embedded: see :attr:`Manifest.undated`)."""

    hash: str
    source: str
    title: str
    segment: str | None = None
    duplicates: tuple[str, ...] = ()
    date: str | None = None
    date_source: str | None = None

    @classmethod
    def of(cls, article: Article, segment: str) -> ArticleEntry:
        return cls(article.content_hash, article.source, article.title, segment, tuple(article.duplicates),
                   article.date, article.date_source)

    def same_metadata(self, article: Article) -> bool:
        """Same title, source, duplicate paths and date (the text is compared by its hash)."""
        return ((article.title, article.source, tuple(article.duplicates), article.date, article.date_source)
                == (self.title, self.source, self.duplicates, self.date, self.date_source))

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"hash": self.hash, "source": self.source, "title": self.title, "segment": self.segment}
        if self.duplicates:
            d["duplicates"] = list(self.duplicates)
        if self.date is not None:
            d["date"] = self.date
            d["date_source"] = self.date_source
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ArticleEntry:
        return cls(d["hash"], d["source"], d["title"], d.get("segment"), tuple(d.get("duplicates", ())),
                   d.get("date"), d.get("date_source"))


@dataclass(frozen=True)
class Segment:
    """An immutable group of files written by one update (or a merge), shared by later generations:
    ``NAME.vectors.npy`` and ``NAME.ids.npy`` (vectors and their chunk ids), ``NAME.articles.jsonl``."""

    name: str
    n_vectors: int
    n_articles: int
    files: Mapping[str, FileEntry]  # file name in the generation folder -> its checksum and size

    @property
    def size(self) -> int:
        return max(self.n_vectors, self.n_articles)

    def file(self, part: str) -> str:
        return f"{self.name}.{part}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "n_vectors": self.n_vectors, "n_articles": self.n_articles,
                "files": {k: f.to_json() for k, f in self.files.items()}}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Segment:
        return cls(d["name"], int(d["n_vectors"]), int(d["n_articles"]),
                   {k: FileEntry.from_json(f) for k, f in d["files"].items()})


@dataclass(frozen=True)
class LexicalRecord:
    """The generation's saved BM25 index (``lexical`` in the manifest): what it was built with, and its files.

    Derived data: when it is missing, damaged or built otherwise than a reader asks (``k1``, ``b``, the
    tokenizer, what is indexed for a chunk), the reader builds BM25 again instead of refusing the generation.
    """

    tokenizer: str
    text_version: int
    k1: float
    b: float
    n_docs: int
    files: Mapping[str, FileEntry]

    def to_json(self) -> dict[str, Any]:
        return {"tokenizer": self.tokenizer, "text_version": self.text_version, "k1": self.k1, "b": self.b,
                "n_docs": self.n_docs, "files": {k: f.to_json() for k, f in self.files.items()}}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> LexicalRecord:
        return cls(str(d["tokenizer"]), int(d["text_version"]), float(d["k1"]), float(d["b"]), int(d["n_docs"]),
                   {k: FileEntry.from_json(f) for k, f in d["files"].items()})


@dataclass(frozen=True)
class Manifest:
    """One generation's manifest (see the module docstring of :mod:`qa.store`)."""

    format: int
    signature: Mapping[str, Any]  # what must match for an index to be reused: embedder, chunking, dim, format
    embedder: Mapping[str, Any]
    n_articles: int
    n_chunks: int
    next_chunk_id: int | None  # ids below it were given out (format 1 may lack it)
    articles: Mapping[str, ArticleEntry]
    checksums: Mapping[str, FileEntry]  # the generation's own files (chunk table, trained structure)
    splitter: Mapping[str, Any] = field(default_factory=dict)
    created: str = ""
    next_segment: int = 1
    vector_index: VectorLayout = VectorLayout()
    segments: tuple[Segment, ...] = ()
    fingerprint: Mapping[str, list[int]] = field(default_factory=dict)
    lexical: LexicalRecord | None = None  # absent in generations written before BM25 was saved with them

    @property
    def undated(self) -> bool:
        """Whether some article entry has no date: the generation was written before dates were recorded, and
        the next update (even of an unchanged folder) records them."""
        return any(e.date is None for e in self.articles.values())

    def with_fingerprint(self, fingerprint: Mapping[str, list[int]]) -> Manifest:
        return replace(self, fingerprint=dict(fingerprint))

    def all_files(self) -> dict[str, FileEntry]:
        """Every file of a format-2 generation but the manifest, with its checksum."""
        files = dict(self.checksums)
        for seg in self.segments:
            files.update(seg.files)
        if self.lexical is not None:
            files.update(self.lexical.files)
        return files

    def to_json(self) -> dict[str, Any]:
        d = {
            "format": self.format,
            "signature": dict(self.signature),
            "embedder": dict(self.embedder),
            "splitter": dict(self.splitter),
            "created": self.created,
            "n_articles": self.n_articles,
            "n_chunks": self.n_chunks,
            "next_chunk_id": self.next_chunk_id,
            "next_segment": self.next_segment,
            "vector_index": self.vector_index.to_dict(),
            "segments": [s.to_json() for s in self.segments],
            "articles": {aid: e.to_json() for aid, e in self.articles.items()},
            "fingerprint": dict(self.fingerprint),
            "checksums": {name: f.to_json() for name, f in self.checksums.items()},
        }
        if self.lexical is not None:
            d["lexical"] = self.lexical.to_json()
        return d

    def to_bytes(self) -> bytes:
        """The manifest as written: compact JSON carrying the checksum of its canonical form."""
        body = self.to_json()
        body[MANIFEST_CHECKSUM] = manifest_sha256(body)
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Manifest:
        """A parsed manifest of any readable format; ``KeyError``/``TypeError``/``ValueError`` when malformed."""
        next_id = d.get("next_chunk_id")
        return cls(
            format=int(d["format"]),
            signature=dict(d["signature"]),
            embedder=dict(d.get("embedder", {})),
            n_articles=int(d.get("n_articles", len(d["articles"]))),
            n_chunks=int(d.get("n_chunks", 0)),
            next_chunk_id=None if next_id is None else int(next_id),
            articles={aid: ArticleEntry.from_json(e) for aid, e in d["articles"].items()},
            checksums={name: FileEntry.from_json(f) for name, f in d["checksums"].items()},
            splitter=dict(d.get("splitter", {})),
            created=str(d.get("created", "")),
            next_segment=int(d.get("next_segment", 1)),
            vector_index=VectorLayout.from_dict(d.get("vector_index")),
            segments=tuple(Segment.from_json(s) for s in d.get("segments", ())),
            fingerprint=dict(d.get("fingerprint") or {}),
            lexical=LexicalRecord.from_json(d["lexical"]) if d.get("lexical") else None,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        """Parse and check a ``manifest.json``: a readable format, and its own checksum when it carries one.
        Raises :class:`ManifestError` saying what is wrong."""
        try:
            d = json.loads(data.decode("utf-8"))
        except ValueError as e:
            raise ManifestError(f"{type(e).__name__}: {e}") from e
        fmt = d.get("format") if isinstance(d, dict) else None
        if fmt not in READABLE_FORMATS:
            raise ManifestError(f"format {fmt!r}, which this version cannot read", "format")
        expected = d.get(MANIFEST_CHECKSUM)
        if expected is not None and expected != manifest_sha256(d):
            raise ManifestError("checksum mismatch", "checksum")
        try:
            return cls.from_json(d)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ManifestError(f"{type(e).__name__}: {e}") from e


def manifest_sha256(manifest: Mapping[str, Any]) -> str:
    """SHA-256 of a manifest's canonical JSON (sorted keys, compact), its own checksum field left out."""
    body = {k: v for k, v in manifest.items() if k != MANIFEST_CHECKSUM}
    canonical = json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()
