"""The text of PDF and Word files: what an article read from one holds.

    from qa.sources.documents import pdf_document, docx_document
    doc = pdf_document(path.read_bytes())        # Document(title, text, author)
    doc = docx_document(path.read_bytes())

pypdf reads a PDF's text layer, page by page (pages are joined by a blank line); python-docx reads a Word
file's paragraphs and tables (a blank line between paragraphs, a table's rows one a line, cells joined by
`` | ``). The text returned is the article's text as it is indexed, so every offset a citation gives points
into it, as for HTML. A PDF without a text layer (a scan) raises :class:`DocumentError`: it needs OCR first.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

#: a PDF with fewer letters than this on all its pages together has no usable text layer
MIN_LETTERS = 20
_BLANK_LINES = re.compile(r"\n{3,}")
# control characters a PDF's fonts map some glyphs to; tab and newline are kept
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class DocumentError(ValueError):
    """A document that holds no article text; the message says why and what to do."""


@dataclass(frozen=True)
class Document:
    """A document's text and what its properties say: title and author (each may be empty). Its creation
    time is left out: it is when the file was exported or made from a template, not a publication date."""

    title: str
    text: str
    author: str = ""


def _tidy(text: str) -> str:
    """Lines without trailing spaces, at most one blank line in a row, control characters dropped."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def pdf_document(data: bytes) -> Document:
    """The text layer of a PDF, page after page; raises :class:`DocumentError` for a scan (no text),
    an encrypted file, or one pypdf cannot read."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:  # many PDFs are "encrypted" with an empty password only to set permissions
                opened = bool(reader.decrypt(""))
            except Exception:  # noqa: BLE001 - pypdf raises several kinds for unsupported encryption
                opened = False
            if not opened:
                raise DocumentError("is a password-protected PDF; save an unprotected copy and add that")
        pages = [_tidy(page.extract_text() or "") for page in reader.pages]
        info = reader.metadata
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as e:
        raise DocumentError(f"is not a readable PDF ({type(e).__name__}: damaged, or not a PDF)") from e
    text = "\n\n".join(p for p in pages if p)
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        raise DocumentError(
            f"has no text layer ({len(pages)} page{'s' if len(pages) != 1 else ''} of images: a scan?); "
            "run OCR on it (e.g. ocrmypdf) and add the result")
    title = str(info.title or "").strip() if info is not None else ""
    author = str(info.author or "").strip() if info is not None else ""
    return Document(title, text, author)


def docx_document(data: bytes) -> Document:
    """The paragraphs and tables of a Word file, in document order; raises :class:`DocumentError` when it
    is not a .docx python-docx can open."""
    from docx import Document as open_docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        doc = open_docx(io.BytesIO(data))
    except (PackageNotFoundError, ValueError, KeyError) as e:
        raise DocumentError("is not a Word .docx file that can be read (an old .doc? save it as .docx)") from e
    except Exception as e:  # noqa: BLE001 - a damaged zip raises zipfile's and lxml's own errors
        raise DocumentError(f"is not a readable Word .docx file ({type(e).__name__}: damaged, or not a .docx)") from e
    blocks: list[str] = []
    for block in doc.iter_inner_content():
        if isinstance(block, Paragraph):
            line = block.text.strip()
            if line:
                blocks.append(line)
        elif isinstance(block, Table):
            rows = [" | ".join(" ".join(cell.text.split()) for cell in row.cells) for row in block.rows]
            rows = [r for r in rows if r.strip(" |")]
            if rows:
                blocks.append("\n".join(rows))
    text = _tidy("\n\n".join(blocks))
    props = doc.core_properties
    return Document((props.title or "").strip(), text, (props.author or "").strip())
