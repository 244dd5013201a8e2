"""Fetching a web page, a document or a feed for ``qa add``: politely, within limits, with one-line errors.

    from qa.sources.fetch import Fetcher
    with Fetcher() as fetcher:                         # FetchSettings() from qa.config by default
        page = fetcher.fetch("https://example.com/news/story")
        page.kind, page.final_url, page.text()        # "html", where it ended up, the decoded page

Each fetch first asks the site's ``robots.txt`` (urllib.robotparser; read once per site and fetcher) whether
this user agent may fetch the address, and refuses when it may not. Redirects are followed one hop at a time
(each hop asked of its own site's robots.txt), at most ``max_redirects``; a redirect that ends anywhere but
at an HTML page (or a feed, when a feed is asked for) is refused, since a link that redirects to a download
is not the page it names. The body is streamed and cut off at ``max_bytes``; ``timeout`` bounds the whole
response, so a server that trickles bytes cannot hold a fetch for ever. Every failure is a
:class:`FetchError` with a one-line message that names the address.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urljoin, urlsplit

from qa.config import FetchSettings
from qa.errors import QAError

if TYPE_CHECKING:  # pragma: no cover
    from urllib.robotparser import RobotFileParser

#: what a fetched body is, by its content type
Kind = Literal["html", "pdf", "docx", "feed"]
_TYPES: dict[str, Kind] = {
    "text/html": "html", "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/rss+xml": "feed", "application/atom+xml": "feed", "application/rdf+xml": "feed",
    "application/xml": "feed", "text/xml": "feed", "application/feed+json": "feed",
}
_REDIRECTS = {301, 302, 303, 307, 308}
#: robots.txt files are small; a larger one is read up to this many bytes
ROBOTS_MAX_BYTES = 512 * 1024
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)


class FetchError(QAError):
    """A fetch that failed or was refused; the message is one line and names the address."""


@dataclass(frozen=True)
class FetchedPage:
    """What a fetch got: the address asked for, the one it ended at after redirects, the kind of body
    (:data:`Kind`), its content type and charset as the server gave them, and the body's bytes."""

    url: str
    final_url: str
    kind: Kind
    content_type: str
    charset: str | None
    body: bytes

    def text(self) -> str:
        """The body as text: in the charset the server names, else the one an HTML ``<meta>`` names, else
        UTF-8 (bytes that do not decode become U+FFFD)."""
        charset = self.charset
        if charset is None:
            m = _CHARSET.search(self.body[:4096])
            charset = m.group(1).decode("ascii") if m else "utf-8"
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:  # a charset Python does not know
            return self.body.decode("utf-8", errors="replace")


def check_url(url: str) -> str:
    """``url`` stripped, if it is an http(s) address with a host; else a :class:`FetchError` saying so."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"'{url}' is not a web address; give one that starts with http:// or https://")
    return url


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def check_public(url: str) -> None:
    """Raise :class:`FetchError` when ``url``'s host is, or resolves to, an address of this machine or a private
    network (loopback, private, link-local, reserved). Checked before each request and each redirect hop; the
    client resolves the name again when it connects, so a name whose address changes in between (DNS
    rebinding) is not caught: a firewall is the stronger guard."""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as e:
        raise FetchError(f"could not find the site {host} ({e}); check the address") from e
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)  # an IPv4 address behind the NAT64 prefix
        if not ip.is_global or ip.is_multicast:
            raise FetchError(f"{host} is an address on this machine or a private network ({ip}); this chat is "
                             "open to other machines, so it fetches only public addresses")


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


def _site(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _content_type(value: str) -> tuple[str, str | None]:
    """``(media type, charset)`` of a Content-Type header."""
    media, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, v = param.partition("=")
        if key.strip().lower() == "charset" and v.strip():
            charset = v.strip().strip("\"'")
    return media.strip().lower(), charset


class Fetcher:
    """Fetches pages, documents and feeds for ``qa add`` (one HTTP client, robots.txt rules kept per site).

    Use it as a context manager, or call :meth:`close`; the client is made on the first fetch."""

    def __init__(self, settings: FetchSettings | None = None) -> None:
        self.settings = settings or FetchSettings()
        self._client = None
        self._robots: dict[str, RobotFileParser | str] = {}

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _http(self):
        if self._client is None:
            import httpx

            s = self.settings
            self._client = httpx.Client(timeout=httpx.Timeout(s.timeout), follow_redirects=False,
                                        headers={"User-Agent": s.user_agent})
        return self._client

    # ------------------------------------------------------------------ one response
    def _get(self, url: str, max_bytes: int) -> tuple[int, dict[str, str], bytes]:
        """``(status, headers, body)`` of one GET, without following redirects; the body cut off (with an
        error) beyond ``max_bytes``, and the whole response bounded by the timeout. Errors say what went
        wrong without the address (:meth:`fetch` puts it first). Every request goes through here, robots.txt
        and each redirect's too, so this is where private addresses are refused when they must be."""
        import httpx

        s = self.settings
        if not s.local_addresses:
            check_public(url)
        deadline = time.monotonic() + s.timeout
        host = urlsplit(url).hostname or url
        try:
            with self._http().stream("GET", url) as response:
                status, headers = response.status_code, {k.lower(): v for k, v in response.headers.items()}
                if status in _REDIRECTS or status >= 400:
                    return status, headers, b""
                declared = headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise FetchError(f"it is {_size(int(declared))}, over the {_size(max_bytes)} limit for one page; "
                                     "save it and add the file instead")
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(f"it is over the {_size(max_bytes)} limit for one page; "
                                         "save it and add the file instead")
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout("the whole response took too long")
                    chunks.append(chunk)
                return status, headers, b"".join(chunks)
        except httpx.TimeoutException as e:
            raise FetchError(f"{host} did not answer within {s.timeout:g} s; try again later") from e
        except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as e:  # InvalidURL: a space, a bad name
            detail = " ".join(str(e).split())[:160] or type(e).__name__
            raise FetchError(f"could not reach {host} ({detail}); check the address and the network") from e

    # ------------------------------------------------------------------ robots.txt
    def allowed(self, url: str) -> bool:
        """Whether the site's robots.txt lets this user agent fetch ``url`` (read once per site). A site
        without one (4xx) allows everything; one whose robots.txt fails with a server error allows nothing
        (RFC 9309), and a robots.txt that cannot be reached at all fails the fetch with a :class:`FetchError`."""
        # imported here: it loads urllib.request (and ssl, http.client), which every other qa command can skip
        from urllib.robotparser import RobotFileParser

        site = _site(url)
        rules = self._robots.get(site)
        if rules is None:
            # redirects are followed (often http -> https, or to www.); one without an address, or one too
            # many, leaves a 3xx status: no rules
            _, _, status, headers, body = self._follow(f"{site}/robots.txt", ROBOTS_MAX_BYTES)
            if status >= 500:
                rules = f"its robots.txt could not be read (HTTP {status}), which means 'do not fetch'"
            elif status >= 300:  # none (4xx), or redirected too often: no rules
                rules = RobotFileParser()
                rules.parse([])
            else:
                rules = RobotFileParser()
                rules.parse(body.decode("utf-8", errors="replace").splitlines())
            self._robots[site] = rules
        if isinstance(rules, str):
            return False
        return rules.can_fetch(self.settings.user_agent, url)

    def _check_robots(self, url: str) -> None:
        if not self.allowed(url):
            rules = self._robots.get(_site(url))
            why = rules if isinstance(rules, str) else "its robots.txt does not allow fetching it"
            raise FetchError(f"not fetched: {why}")

    # ------------------------------------------------------------------ a fetch
    def fetch(self, url: str, want: Literal["page", "feed"] = "page") -> FetchedPage:
        """The body at ``url``, after redirects. ``want="page"`` takes an HTML page, a PDF, a Word file or a
        feed; ``want="feed"`` a feed (or a body served as HTML or plain text, which the feed reader then
        judges). Raises :class:`FetchError` for a bad address, robots.txt refusal, a network error or
        timeout, an HTTP error, too many redirects, a redirect to something else than a page (or feed), a
        body over the size limit, or a kind of body it cannot use."""
        start = check_url(url)
        try:
            return self._fetch(start, want)
        except FetchError as e:
            raise FetchError(f"{start}: {e}") from e

    def _follow(self, start: str, max_bytes: int, before: Callable[[str], None] | None = None
                ) -> tuple[str, int, int, dict[str, str], bytes]:
        """``(url, hops, status, headers, body)`` of a GET of ``start`` after up to ``max_redirects`` redirects,
        ``before`` called with each address first (the robots.txt check of a page). A redirect without an
        address, or one past the limit, comes back as it is (its 3xx status): the caller decides; one to an
        address that is not a web address is refused. The one redirect loop of robots.txt and of fetches."""
        current = start
        for hop in range(self.settings.max_redirects + 1):
            if before is not None:
                before(current)
            status, headers, body = self._get(current, max_bytes)
            location = headers.get("location", "").strip()
            if status not in _REDIRECTS or not location:
                return current, hop, status, headers, body
            target = urljoin(current, location)
            if urlsplit(target).scheme not in ("http", "https"):
                raise FetchError(f"redirected to '{target}', which is not a web address; not followed")
            if hop == self.settings.max_redirects:
                return current, hop, status, headers, body
            current = target
        raise AssertionError("unreachable: the loop returns on its last hop")

    def _fetch(self, start: str, want: Literal["page", "feed"]) -> FetchedPage:
        current, hops, status, headers, body = self._follow(start, self.settings.max_bytes, self._check_robots)
        if status in _REDIRECTS:
            if not headers.get("location", "").strip():
                raise FetchError("the server redirected without saying where to")
            raise FetchError(f"more than {self.settings.max_redirects} redirects; not followed")
        if status >= 400:
            raise FetchError(f"the server answered HTTP {status}"
                             f"{' (not found: check the address)' if status in (404, 410) else ''}")
        media, charset = _content_type(headers.get("content-type", ""))
        kind = self._kind(media, body, want)
        if hops > 0 and kind != ("feed" if want == "feed" else "html"):
            raise FetchError(f"redirected to {current}, which is {media or 'of no stated type'}, "
                             f"not a web {'feed' if want == 'feed' else 'page'}; not fetched")
        if kind is None:
            raise FetchError(f"it is {media or 'of no stated type'}, not a web page, PDF, Word file or "
                             "feed; save it and add the file instead if it holds text")
        return FetchedPage(start, current, kind, media, charset, body)

    @staticmethod
    def _kind(media: str, body: bytes, want: str) -> Kind | None:
        kind = _TYPES.get(media)
        if kind is None and media in ("", "application/octet-stream", "text/plain"):
            head = body[:1024].lstrip()
            if head.startswith(b"%PDF"):
                kind = "pdf"
            elif head.startswith(b"<?xml") or b"<rss" in head or b"<feed" in head:
                kind = "feed"
            elif media == "" and head[:15].lower().startswith((b"<!doctype html", b"<html")):
                kind = "html"
        if want == "feed" and kind in ("html", None) and media in ("text/html", "text/plain", ""):
            return "feed"  # many servers send their feeds as text/html or text/plain: the feed reader judges
        return kind
