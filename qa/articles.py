"""Loading articles from a folder: .txt, .md, .html/.htm, .json, .jsonl, .pdf, .docx and feeds (.rss, .atom, .xml).

    from qa.articles import load_articles
    result = load_articles("seeds")
    for article in result.articles: print(article.id, article.title)
    for problem in result.problems: print(problem)      # files that were skipped, and why

Plain text files are kept exactly as written (after decoding), so offsets into ``Article.text`` are
offsets into the file. Markdown is converted to the text a reader sees (markdown-it-py: no ``**``, ``#``
or list marks, links as their words), and offsets are offsets into that converted text. HTML is turned
into the article's text with trafilatura (boilerplate, scripts, styles and navigation removed). JSON
holds an object or a list of objects, JSONL one object a line, each with ``text`` (or
``content``/``body``) and optionally ``title``, ``id``, ``url`` and a date (``date``, ``published``, ``pubDate``,
...). A PDF's text layer and a Word file's paragraphs are the article's text (:mod:`qa.sources.documents`);
a feed file gives one article per item, its text the item's content or summary (:mod:`qa.sources.feeds`).

An article that came from the web keeps its URL as its source: a record with an ``http(s)`` ``url`` (what
``qa add URL`` saves) or a feed item with a link has ``source`` the URL, and the file it was read from
(``web/example.com/story.json``, ``news.rss#item-id``) first among its ``duplicates``; :func:`article_file`
gives that file back.

Each article gets its publication date (:mod:`qa.dates`): from a JSON record's date field or an HTML page's
metadata, else from a dateline at the top of its text, else the file's modification time, marked as such.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from qa.dates import ArticleDate, dateline_date, file_date, html_date, record_date
from qa.errors import ArticlesNotFoundError
from qa.sources.documents import DocumentError, docx_document, pdf_document
from qa.sources.feeds import FeedError, FeedItem, parse_feed
from qa.types import Article

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
PDF_SUFFIXES = {".pdf"}
DOCX_SUFFIXES = {".docx"}
FEED_SUFFIXES = {".rss", ".atom", ".xml"}
#: files read as bytes, not decoded as text first
BINARY_SUFFIXES = PDF_SUFFIXES | DOCX_SUFFIXES | FEED_SUFFIXES
SUPPORTED_SUFFIXES = (TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES
                      | BINARY_SUFFIXES)
#: where removed articles are moved to (a hidden folder inside the articles folder: never read)
REMOVED_DIR = ".removed"
#: the kinds of article file, as messages name them
KINDS = ".txt, .md, .html, .json, .jsonl, .pdf, .docx or feed (.rss, .atom, .xml)"
#: what a URL source starts with
URL_PREFIXES = ("http://", "https://")
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
TITLE_MAX_CHARS = 200
ID_MAX_CHARS = 200
TEXT_KEYS = ("text", "content", "body")
# JSON may carry "\ud800" escapes that decode to lone surrogates, which cannot be written back as UTF-8
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class ArticleFileError(ValueError):
    """A file that cannot be read as an article; the message says why and what to do."""


@dataclass
class LoadResult:
    """Articles read from a folder, and the files (or records) skipped, one message each."""

    articles: list[Article] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def is_url(source: str) -> bool:
    """Whether an article's source is a web address (else it is a path in the articles folder)."""
    return source.startswith(URL_PREFIXES)


def article_file(article: Article) -> str:
    """The file (relative to the folder; ``file.jsonl#3`` for a record) that ``article`` was read from: its
    source, or for an article from the web the first of its duplicates that is not a URL."""
    if not is_url(article.source):
        return article.source
    return next((d for d in article.duplicates if not is_url(d)), article.source)


def file_of(source: str) -> str:
    """The file of a source in the folder (``feed.jsonl#3`` -> ``feed.jsonl``)."""
    return source.split("#", 1)[0]


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\x00{text}".encode()).hexdigest()


def article_id(source: str) -> str:
    """A stable id from the article's source (relative path, plus ``#key`` for records in a file)."""
    return hashlib.sha1(source.encode()).hexdigest()[:16]


def iter_article_files(folder: Path) -> Iterator[Path]:
    """Every file under ``folder`` with a supported suffix, sorted, hidden files and folders skipped."""
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                yield Path(root) / name


def folder_fingerprint(folder: Path) -> dict[str, list[int]]:
    """``{relative path: [mtime_ns, size]}`` for each article file: cheap change detection."""
    out: dict[str, list[int]] = {}
    for path in iter_article_files(folder):
        try:
            st = path.stat()
        except OSError:  # broken symlink, vanished file: load_articles reports it
            out[path.relative_to(folder).as_posix()] = [-1, -1]
            continue
        out[path.relative_to(folder).as_posix()] = [st.st_mtime_ns, st.st_size]
    return out


def decode_text(data: bytes) -> str:
    """Decode bytes as UTF-8 (a UTF-8 or UTF-16 byte-order mark is honoured); refuse binary data."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise ArticleFileError("has a UTF-16 byte-order mark but is not valid UTF-16") from e
    if b"\x00" in data[:8192]:
        raise ArticleFileError("looks binary, not text; save the article as UTF-8 text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ArticleFileError(
            f"is not UTF-8 text (invalid byte at position {e.start}); re-save it as UTF-8"
        ) from e


def title_from_text(text: str) -> str:
    """The first non-empty line, cut to a reasonable length."""
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line[:TITLE_MAX_CHARS]
    return ""


def html_to_text(html: str) -> tuple[str, str]:
    """``(title, text)`` of an HTML page: the main article text, boilerplate removed."""
    page = html_page(html)
    return page.title, page.text


@dataclass(frozen=True)
class HtmlPage:
    """What trafilatura reads from an HTML page: its title, main text (boilerplate removed) and author."""

    title: str
    text: str
    author: str


def html_page(html: str) -> HtmlPage:
    """The title, main article text and author of an HTML page (trafilatura)."""
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
    if not text:
        text = trafilatura.html2txt(html) or ""
    meta = trafilatura.extract_metadata(html)
    title = (meta.title if meta is not None and meta.title else "") or ""
    author = (meta.author if meta is not None and meta.author else "") or ""
    return HtmlPage(title.strip(), text.strip(), author.strip())


_TAG = re.compile(r"<[^>]*>")
_BLOCK_TAGS = {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table",
               "tr", "section", "article", "figure", "figcaption", "header", "footer", "dl", "dt", "dd", "hr"}
_BLOCK_MARK, _LINE_MARK = "\ue000", "\ue001"  # private-use characters: no text holds them


def fragment_text(html: str) -> str:
    """The text of an HTML fragment (a feed item's content or summary; plain text passes through): one
    paragraph a block element, spaces collapsed inside it, entities decoded, scripts and styles dropped.

    Not :func:`html_to_text`: trafilatura looks for a page's main text and finds none in a fragment that
    is all main text."""
    import lxml.html

    if not html.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return " ".join(_TAG.sub(" ", html).split())
    for bad in root.xpath(".//script | .//style"):
        bad.drop_tree()
    # block and line breaks are marked with separators no text holds; the page's own line breaks are spaces
    for el in root.iter():
        if not isinstance(el.tag, str):  # comments, processing instructions
            continue
        if el.tag == "br":
            el.tail = _LINE_MARK + (el.tail or "")
        elif el.tag in _BLOCK_TAGS:
            el.text = _BLOCK_MARK + (el.text or "")
            el.tail = _BLOCK_MARK + (el.tail or "")
    blocks = root.text_content().split(_BLOCK_MARK)
    paragraphs = ["\n".join(" ".join(line.split()) for line in b.split(_LINE_MARK) if line.strip()) for b in blocks]
    return "\n\n".join(p for p in paragraphs if p)


def _markdown_parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def _inline_text(children) -> str:
    """The words of an inline run: emphasis and link marks dropped, an image as its alt text, inline HTML
    tags dropped; a soft line break stays a line break, so lines read as in the file."""
    out = []
    for tok in children or ():
        if tok.type in ("text", "code_inline", "image"):
            out.append(tok.content)
        elif tok.type in ("softbreak", "hardbreak"):
            out.append("\n")
    return "".join(out)


def markdown_to_text(markdown: str) -> str:
    """``markdown`` as plain text: headings, paragraphs and code as their text, one block a paragraph;
    list items on their own lines after a bullet (or their number); table rows on their own lines, cells
    joined by `` | ``; HTML tags dropped (their text kept, entities decoded)."""
    import html

    blocks: list[str] = []
    lists: list[int | None] = []  # per open list: the next item number (None: bullets)
    list_from = 0                 # len(blocks) when the outermost open list began
    marker = ""
    row: list[str] | None = None
    rows = 0

    def emit(text: str, joined: bool = False) -> None:
        nonlocal marker
        text = text.strip("\n")
        if not text.strip():
            return
        if blocks:
            blocks.append("\n" if joined else "\n\n")
        blocks.append(marker + text)
        marker = ""

    for tok in _markdown_parser().parse(markdown):
        kind = tok.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            if not lists:
                list_from = len(blocks)
            lists.append(int(tok.attrs.get("start", 1)) if kind == "ordered_list_open" else None)
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            number = lists[-1]
            marker = "  " * (len(lists) - 1) + ("• " if number is None else f"{number}. ")
            if number is not None:
                lists[-1] = number + 1
        elif kind == "table_open":
            rows = 0
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            emit(" | ".join(row), joined=rows > 0)
            row, rows = None, rows + 1
        elif kind == "inline":
            text = _inline_text(tok.children)
            if row is not None:
                row.append(" ".join(text.split()))
            else:
                emit(text, joined=bool(lists) and len(blocks) > list_from)
        elif kind in ("fence", "code_block"):
            emit(tok.content)
        elif kind == "html_block":
            emit(html.unescape(_TAG.sub("", tok.content)))
    return "".join(blocks)


def _clean_json_string(s: str) -> str:
    """``s`` with lone surrogates replaced by U+FFFD (one character for one, so offsets hold)."""
    return _LONE_SURROGATE.sub("\ufffd", s)


def _record_article(record: Any, source: str, where: str) -> Article:
    if not isinstance(record, dict):
        raise ArticleFileError(f"{where} is not a JSON object with a 'text' field")
    text = next((record[k] for k in TEXT_KEYS if isinstance(record.get(k), str)), None)
    if text is None:
        raise ArticleFileError(f"{where} has no 'text' field (a string)")
    title = record["title"] if isinstance(record.get("title"), str) else ""
    # a title is shown in every citation: a long one is cut like a title taken from the text
    title = _clean_json_string(title.strip()[:TITLE_MAX_CHARS].strip())
    text = _clean_json_string(text)
    article = make_article(source, title or title_from_text(text), text, record_date(record))
    url = record.get("url")
    if not (isinstance(url, str) and is_url(url.strip())):
        return article
    # a record with its own id keeps it (two records may share a page, a live blog's updates): only what
    # `qa add` saves, which has none, is named by its URL
    return from_url(article, url, keep_id=record.get("id") not in (None, ""))


def from_url(article: Article, url: str, keep_id: bool = False) -> Article:
    """``article`` (read from a file) as an article from the web: the URL is its source and (unless
    ``keep_id``) names its id, and the file it was read from comes first among its duplicates
    (:func:`article_file`)."""
    url = _clean_json_string(url.strip())
    return replace(article, id=article.id if keep_id else article_id(url), source=url,
                   duplicates=(article.source, *article.duplicates))


def make_article(source: str, title: str, text: str, dated: ArticleDate | None = None) -> Article:
    if not text.strip():
        raise ArticleFileError("is empty")
    return Article(
        id=article_id(source),
        title=title or source,
        text=text,
        source=source,
        content_hash=content_hash(title or source, text),
        date=dated.date if dated else None,
        date_source=dated.source if dated else None,
    )


def with_date(article: Article, mtime: float) -> Article:
    """``article`` with a date: its own (from metadata), else its dateline's, else the file time ``mtime``'s."""
    if article.date is not None:
        return article
    saved = file_date(mtime)
    dated = dateline_date(article.text, date.fromisoformat(saved.date)) or saved
    return replace(article, date=dated.date, date_source=dated.source)


def read_bytes_capped(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; anything else raises :class:`ArticleFileError`.

    The file is opened without blocking and checked on the open descriptor, so a named pipe, a device
    (a link to ``/dev/zero``) or a file swapped for one after listing never hangs or reads without end.
    """
    limit = f"over the {max_bytes / 1e6:.0f} MB limit for one file; split it"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        raise ArticleFileError(f"cannot be read ({e.strerror or e}); a broken link or a vanished file?") from e
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ArticleFileError("is not a regular file (a pipe, device or socket)")
        if st.st_size > max_bytes:
            raise ArticleFileError(f"is {st.st_size / 1e6:.1f} MB, {limit}")
        try:
            data = f.read(max_bytes + 1)  # + 1: a file that grew since fstat is still caught
        except OSError as e:
            raise ArticleFileError(f"cannot be read ({e.strerror or e})") from e
    if len(data) > max_bytes:
        raise ArticleFileError(f"is {limit}")
    return data


def _parse_json(raw: str) -> Any:
    try:
        return json.loads(raw)
    except RecursionError as e:  # "[[[[..." deeper than the parser's stack
        raise ArticleFileError(
            "is nested too deeply to be an article (JSON arrays or objects inside each other)"
        ) from e


def read_file(path: Path, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[Article], list[str]]:
    """Articles in one file, and the problems with records inside it (a bad line skips that line).

    Raises :class:`ArticleFileError` when the whole file is unusable.
    """
    data = read_bytes_capped(path, max_bytes)
    suffix = path.suffix.lower()
    if suffix in BINARY_SUFFIXES:
        articles, problems = _binary_articles(data, suffix, source)
    else:
        articles, problems = _read_articles(decode_text(data), path, source)
    try:
        mtime = path.stat().st_mtime
    except OSError as e:  # vanished since it was read
        raise ArticleFileError(f"cannot be read ({e.strerror or e}); a vanished file?") from e
    return [with_date(a, mtime) for a in articles], problems


def _read_articles(raw: str, path: Path, source: str) -> tuple[list[Article], list[str]]:
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        title, text = html_to_text(raw)
        return [make_article(source, title or title_from_text(text), text, html_date(raw))], []
    if suffix in JSON_SUFFIXES:
        try:
            payload = _parse_json(raw)
        except json.JSONDecodeError as e:
            raise ArticleFileError(f"is not valid JSON ({e.msg} at line {e.lineno})") from e
        records = payload if isinstance(payload, list) else [payload]
        return _records_to_articles(((i, r) for i, r in enumerate(records)), source, len(records) > 1)
    if suffix in JSONL_SUFFIXES:
        return _jsonl_articles(raw, source)
    if suffix in MARKDOWN_SUFFIXES:
        text = markdown_to_text(raw)
        return [make_article(source, title_from_text(text), text)], []
    return [make_article(source, title_from_text(raw), raw)], []


def _binary_articles(data: bytes, suffix: str, source: str) -> tuple[list[Article], list[str]]:
    """The articles of a PDF, Word or feed file (read from bytes: these formats declare their own encoding)."""
    if suffix in FEED_SUFFIXES:
        try:
            feed = parse_feed(data)
        except FeedError as e:
            raise ArticleFileError(str(e)) from e
        return feed_articles(feed.items, source)
    try:
        doc = pdf_document(data) if suffix in PDF_SUFFIXES else docx_document(data)
    except DocumentError as e:
        raise ArticleFileError(str(e)) from e
    # no date from the document's properties: a PDF's or Word file's creation time is when it was exported
    # or made from a template, not when the article was published; its dateline, else the file time, is used
    return [make_article(source, doc.title[:TITLE_MAX_CHARS] or title_from_text(doc.text), doc.text)], []


def feed_articles(items: tuple[FeedItem, ...], source: str) -> tuple[list[Article], list[str]]:
    """One article per feed item, its text the item's content (or summary) as text; an item with a link has
    the link as its source (:func:`from_url`)."""
    articles: list[Article] = []
    problems: list[str] = []
    for item in items:
        key = item.key if len(item.key) <= ID_MAX_CHARS else hashlib.sha1(item.key.encode()).hexdigest()
        where = f"{source}#{key}"
        text = fragment_text(item.html)
        if not text.strip():
            problems.append(f"{where}: the feed item has no text; skipped")
            continue
        article = make_article(where, item.title[:TITLE_MAX_CHARS] or title_from_text(text), text, item.date)
        articles.append(from_url(article, item.link) if item.link else article)
    return articles, problems


def _jsonl_articles(raw: str, source: str) -> tuple[list[Article], list[str]]:
    records: list[tuple[int, Any]] = []
    problems: list[str] = []
    for lineno, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append((lineno, _parse_json(line)))
        except json.JSONDecodeError as e:
            problems.append(f"{source} line {lineno}: not valid JSON ({e.msg}); line skipped")
        except ArticleFileError as e:
            problems.append(f"{source} line {lineno}: {e}; line skipped")
    articles, more = _records_to_articles(iter(records), source, True, label="line")
    return articles, problems + more


def _records_to_articles(records, source: str, many: bool, label: str = "record") -> tuple[list[Article], list[str]]:
    articles: list[Article] = []
    problems: list[str] = []
    for key, record in records:
        rid = record.get("id") if isinstance(record, dict) else None
        where = f"{source} {label} {key}" if many else source
        if rid is not None and len(str(rid)) > ID_MAX_CHARS:
            problems.append(f"{where} has an 'id' longer than {ID_MAX_CHARS} characters; skipped")
            continue
        rsource = _clean_json_string(f"{source}#{rid if rid is not None else key}") if many else source
        try:
            articles.append(_record_article(record, rsource, where))
        except ArticleFileError as e:
            msg = str(e)
            problems.append(f"{msg if msg.startswith(where) else f'{where} {msg}'}; skipped")
    return articles, problems


def load_articles(folder: str | Path, max_bytes: int = DEFAULT_MAX_BYTES, progress: bool | None = None) -> LoadResult:
    """Read every article under ``folder``; unreadable files are reported in ``problems`` and skipped.

    Articles with the same title and text are kept once (the first by path), with the other sources in
    ``Article.duplicates``. Raises :class:`ArticlesNotFoundError` when the folder does not exist.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ArticlesNotFoundError(
            f"articles folder '{folder}' does not exist; "
            f"create it and put {KINDS} articles in it"
        )
    from tqdm.auto import tqdm

    paths = list(iter_article_files(folder))
    result = LoadResult()
    by_hash: dict[str, int] = {}
    seen_ids: set[str] = set()
    show = progress if progress is not None else len(paths) > 200
    for path in tqdm(paths, desc="Reading articles", unit="file", disable=not show):
        source = path.relative_to(folder).as_posix()
        try:
            articles, problems = read_file(path, source, max_bytes)
        except ArticleFileError as e:
            result.problems.append(f"{source} {e}; skipped")
            continue
        except Exception as e:  # one bad file never stops the rest (a parser bug, an odd HTML page)
            log.debug("reading %s failed", path, exc_info=True)
            detail = " ".join(str(e).split())[:200]
            result.problems.append(f"{source} could not be read ({type(e).__name__}: {detail}); skipped")
            continue
        result.problems.extend(problems)
        for art in articles:
            if art.id in seen_ids:
                result.problems.append(f"{art.source}: the same id (or web address) appears twice; the one in "
                                       f"'{file_of(article_file(art))}' is skipped")
                continue
            seen_ids.add(art.id)
            if art.content_hash in by_hash:
                i = by_hash[art.content_hash]
                first = result.articles[i]
                result.articles[i] = Article(**{**first.__dict__, "duplicates": first.duplicates + (art.source,)})
                continue
            by_hash[art.content_hash] = len(result.articles)
            result.articles.append(art)
    for problem in result.problems:
        log.warning("%s", problem)
    return result
