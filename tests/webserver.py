"""A local web server for the tests of ``qa add`` and the chat's "Add from URL": pages, feeds (RSS and Atom),
a PDF, redirects, a slow page, an oversized page and a robots.txt, on 127.0.0.1 (never the internet).

    with serve(make_site()) as site:
        site.url("/news/bridge.html")
        site.routes["/feed.rss"] = ...           # change what is served between two runs
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Response:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    location: str | None = None
    delay: float = 0.0            # seconds before answering (a slow server)
    send_length: bool = True      # False: no Content-Length, the body ends when the connection closes


@dataclass
class Site:
    routes: dict[str, Response]
    port: int = 0
    hits: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


BRIDGE_HTML = """<!doctype html><html><head><title>Kestrel Bridge opens to traffic | Riverside News</title>
<meta property="article:published_time" content="2024-03-12T09:30:00+00:00">
<meta name="author" content="Jane Roe">
</head><body><nav><a href="/">Home</a> <a href="/sport">Sport</a></nav>
<article><h1>Kestrel Bridge opens to traffic</h1>
<p>The Kestrel Bridge over the river Wend opened to traffic on Tuesday after four years of building work.</p>
<p>The bridge is 480 metres long and carries two lanes in each direction. It cost 310 million pounds,
the council said.</p>
<p>Engineers from the firm Harlow and Finch designed the crossing, which replaces a ferry that had run since
1921. The first car crossed at six in the morning.</p></article>
<footer>Copyright Riverside News. All rights reserved.</footer></body></html>"""

COUNCIL_HTML = """<!doctype html><html><head><title>Council approves new library</title>
<meta property="article:published_time" content="2024-03-14">
</head><body><article><h1>Council approves new library</h1>
<p>The town council of Alderford voted nine to two on Thursday to build a new public library on Mill Street.</p>
<p>The library will hold 40,000 books and open in the spring of 2026, said councillor Priya Nand, who led the
plan. The old library on Church Lane will close when the new one opens.</p></article></body></html>"""

ROBOTS = "User-agent: *\nDisallow: /private/\n"


def rss(items: list[dict[str, str]], title: str = "Riverside News") -> bytes:
    """An RSS 2.0 feed; an item's ``content`` becomes ``content:encoded`` (full text), ``summary`` its
    ``description``."""
    parts = []
    for it in items:
        xml = [f"<title>{it['title']}</title>", f"<guid isPermaLink=\"false\">{it['guid']}</guid>"]
        if "link" in it:
            xml.append(f"<link>{it['link']}</link>")
        if "date" in it:
            xml.append(f"<pubDate>{it['date']}</pubDate>")
        if "summary" in it:
            xml.append(f"<description><![CDATA[{it['summary']}]]></description>")
        if "content" in it:
            xml.append(f"<content:encoded><![CDATA[{it['content']}]]></content:encoded>")
        parts.append("<item>" + "".join(xml) + "</item>")
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>{title}</title>'
            f'<link>http://example.invalid/</link><description>News</description>{"".join(parts)}</channel></rss>'
            ).encode()


def atom(entries: list[dict[str, str]], title: str = "Harbour Post") -> bytes:
    parts = []
    for e in entries:
        parts.append(f"<entry><title>{e['title']}</title><id>{e['id']}</id><link href=\"{e['link']}\"/>"
                     f"<updated>{e['date']}</updated><published>{e['date']}</published>"
                     f"<author><name>{e.get('author', 'Staff')}</name></author>"
                     f"<content type=\"html\"><![CDATA[{e['content']}]]></content></entry>")
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>{title}</title>'
            f'<id>urn:harbour</id><updated>2024-05-02T10:00:00Z</updated>{"".join(parts)}</feed>').encode()


def make_pdf(lines: list[str], title: str = "") -> bytes:
    """A PDF with a text layer: each line a paragraph, ``"\\f"`` starts a new page."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    if title:
        pdf.set_title(title)
    for line in lines:
        if line == "\f":  # a new page
            pdf.add_page()
            continue
        pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def make_scanned_pdf() -> bytes:
    """A PDF of one page that holds only a picture (a filled rectangle): no text layer."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 120, 160, style="F")
    return bytes(pdf.output())


PDF_LINES = ["Harbour dredging report", "The harbour authority of Port Ellis will dredge the main channel to a depth "
             "of 14 metres this summer, at a cost of 22 million euros.", "Work starts on 3 June."]


def make_site(max_bytes: int) -> dict[str, Response]:
    """The routes of the test site; ``max_bytes`` is the fetch limit the tests use (the big pages exceed it)."""
    big = b"<html><body><p>" + b"word " * (max_bytes // 5 + 1000) + b"</p></body></html>"
    return {
        "/robots.txt": Response(ROBOTS.encode(), "text/plain"),
        "/news/bridge.html": Response(BRIDGE_HTML.encode()),
        "/news/council.html": Response(COUNCIL_HTML.encode()),
        "/private/secret.html": Response(b"<html><body><p>Secret plans of the council.</p></body></html>"),
        "/old/bridge": Response(status=301, location="/news/bridge.html"),
        "/download": Response(status=302, location="/files/data.zip"),
        "/files/data.zip": Response(b"PK\x03\x04 zip bytes", "application/zip"),
        "/slow.html": Response(BRIDGE_HTML.encode(), delay=3.0),
        "/big.html": Response(big),
        "/big-stream.html": Response(big, send_length=False),
        "/reports/dredging.pdf": Response(make_pdf(PDF_LINES, title="Harbour dredging report"), "application/pdf"),
        "/reports/scan.pdf": Response(make_scanned_pdf(), "application/pdf"),
        "/gone.html": Response(b"<html><body>Not here</body></html>", status=404),
    }


class _Handler(BaseHTTPRequestHandler):
    site: Site
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self.site.hits.append(self.path)
        r = self.site.routes.get(self.path) or Response(b"<html><body>No such page</body></html>", status=404)
        if r.delay:
            time.sleep(r.delay)
        self.send_response(r.status)
        if r.location:
            self.send_header("Location", r.location)
        self.send_header("Content-Type", r.content_type)
        if r.send_length:
            self.send_header("Content-Length", str(len(r.body)))
        self.end_headers()
        try:
            self.wfile.write(r.body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (size cap, timeout)
            pass

    def log_message(self, *args) -> None:
        pass


@contextmanager
def serve(routes: dict[str, Response]) -> Iterator[Site]:
    """Serve ``routes`` on a free port of 127.0.0.1 in a thread until the block ends."""
    site = Site(routes)
    handler = type("Handler", (_Handler,), {"site": site})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    site.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
