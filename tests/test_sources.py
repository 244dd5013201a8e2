"""More ways in: PDF, Word and feed files in the folder, and ``qa add`` of pages, PDFs and feeds served by a
local HTTP server (tests/webserver.py; never the internet), with each failure one line that stops nothing else."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from qa.articles import article_file, fragment_text, load_articles
from qa.config import FetchSettings
from qa.sources.fetch import Fetcher, FetchError
from qa.sources.web import add_urls, record_path

from .webserver import BRIDGE_HTML, PDF_LINES, Response, atom, make_pdf, make_scanned_pdf, make_site, rss, serve

MAX_BYTES = 64_000
FAST = FetchSettings(timeout=0.5, max_bytes=MAX_BYTES)


@pytest.fixture(scope="module")
def site():
    with serve(make_site(MAX_BYTES)) as s:
        yield s


@pytest.fixture
def fetcher():
    with Fetcher(FAST) as f:
        yield f


def _make_docx(path, paragraphs, title=""):
    import docx

    doc = docx.Document()
    doc.core_properties.title = title
    for p in paragraphs:
        doc.add_paragraph(p)
    table = doc.add_table(rows=2, cols=2)
    for r, (a, b) in enumerate([("Seats", "Votes"), ("Labour", "12,400")]):
        table.cell(r, 0).text, table.cell(r, 1).text = a, b
    doc.save(str(path))


# ----------------------------------------------------------------------------- files in the folder


def test_pdf_docx_and_feed_files_load_as_articles_with_offsets_into_the_indexed_text(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "dredging.pdf").write_bytes(make_pdf(PDF_LINES + ["\f", "PORT ELLIS page two: the channel stays open."],
                                                   title="Harbour dredging report"))
    (folder / "scan.pdf").write_bytes(make_scanned_pdf())
    _make_docx(folder / "vote.docx", ["BRISTOL, 4 May 2024 - Counting ended at dawn.",
                                      "Mayor Ana Diaz won a second term with 12,400 votes."], title="Mayor re-elected")
    (folder / "old.docx").write_bytes(b"\xd0\xcf\x11\xe0 an old binary .doc renamed")
    (folder / "news.rss").write_bytes(rss([
        {"title": "Ferry strike ends", "guid": "ferry-1", "link": "https://news.example/ferry",
         "date": "Tue, 12 Mar 2024 23:30:00 -0500",
         "content": "<p>The ferry strike <b>ended</b> after nine days.</p><p>Crews return on Friday.</p>"},
        {"title": "Notice", "guid": "notice-2", "summary": "Roadworks on the A40 start on Monday &amp; last a week."},
        {"title": "Empty", "guid": "empty-3"},
    ]))
    (folder / "harbour.atom").write_bytes(atom([
        {"title": "Cranes arrive", "id": "urn:harbour:1", "link": "https://harbour.example/cranes",
         "date": "2024-05-02T08:00:00Z", "content": "<p>Two new cranes arrived at Port Ellis.</p>"}]))
    (folder / "sitemap.xml").write_text("<html><body>not a feed</body></html>")
    os.utime(folder / "dredging.pdf", (1_700_000_000, 1_700_000_000))  # 2023-11-14 UTC

    result = load_articles(folder)
    by_title = {a.title: a for a in result.articles}
    assert set(by_title) == {"Harbour dredging report", "Mayor re-elected", "Ferry strike ends", "Notice",
                             "Cranes arrive"}

    pdf = by_title["Harbour dredging report"]
    assert pdf.source == "dredging.pdf" and (pdf.date, pdf.date_source) == ("2023-11-14", "file time")
    assert "dredge the main channel to a depth of 14 metres" in " ".join(pdf.text.split())
    start = pdf.text.index("PORT ELLIS page two")  # the pages are joined by a blank line
    assert pdf.text[start - 2:start] == "\n\n"

    word = by_title["Mayor re-elected"]
    assert word.text == ("BRISTOL, 4 May 2024 - Counting ended at dawn.\n\nMayor Ana Diaz won a second term with "
                         "12,400 votes.\n\nSeats | Votes\nLabour | 12,400")
    assert (word.date, word.date_source) == ("2024-05-04", "dateline")  # not the template's creation time

    ferry = by_title["Ferry strike ends"]
    assert ferry.text == "The ferry strike ended after nine days.\n\nCrews return on Friday."
    assert (ferry.date, ferry.date_source) == ("2024-03-12", "metadata")  # the publisher's own calendar day
    assert ferry.source == "https://news.example/ferry" and article_file(ferry) == "news.rss#ferry-1"
    notice = by_title["Notice"]
    assert notice.source == "news.rss#notice-2" and notice.text == "Roadworks on the A40 start on Monday & last a week."
    assert by_title["Cranes arrive"].date == "2024-05-02"

    problems = "\n".join(result.problems)
    assert "scan.pdf has no text layer (1 page of images: a scan?); run OCR on it" in problems
    assert "old.docx is not a readable Word .docx file" in problems
    assert "sitemap.xml is not an RSS or Atom feed; skipped" in problems
    assert "news.rss#empty-3: the feed item has no text; skipped" in problems
    assert all("\n" not in p for p in result.problems)


def test_fragment_text_keeps_paragraphs_and_collapses_the_page_s_own_line_breaks():
    assert fragment_text("<p>One\n  two</p><p>Three<br>four &amp; five</p><script>x()</script>") == \
        "One two\n\nThree\nfour & five"
    assert fragment_text("plain &lt;text&gt;") == "plain <text>"
    assert fragment_text("   ") == ""


# ----------------------------------------------------------------------------- qa add URL (no index)


def test_a_page_is_saved_with_its_url_title_date_and_author_and_read_back_with_the_url_as_source(site, fetcher,
                                                                                                   tmp_path):
    url = site.url("/news/bridge.html")
    [added] = add_urls(tmp_path, [url], fetcher=fetcher)
    assert added.status == "added" and added.path == record_path(url)
    record = json.loads((tmp_path / added.path).read_text())
    assert record["url"] == url and record["title"] == "Kestrel Bridge opens to traffic"
    assert record["author"] == "Jane Roe" and record["date"] == "2024-03-12"
    assert "480 metres long" in record["text"] and "Copyright" not in record["text"] and "Sport" not in record["text"]

    [article] = load_articles(tmp_path).articles
    assert article.source == url and article.duplicates == (added.path,) and article_file(article) == added.path
    assert (article.date, article.date_source) == ("2024-03-12", "metadata")
    i = article.text.index("480 metres")
    assert article.text[i:i + 10] == "480 metres"

    # again: nothing fetched, nothing written; a redirect to the same page leads to the same record
    hits = len(site.hits)
    [again] = add_urls(tmp_path, [url], fetcher=fetcher)
    assert again.status == "known" and len(site.hits) == hits
    [moved] = add_urls(tmp_path, [site.url("/old/bridge")], fetcher=fetcher)
    assert moved.status == "known" and moved.path == added.path
    assert len(list((tmp_path / "web").rglob("*.json"))) == 1


def test_a_pdf_served_over_http_is_added_and_a_scan_is_refused_in_one_line(site, fetcher, tmp_path):
    added = add_urls(tmp_path, [site.url("/reports/dredging.pdf"), site.url("/reports/scan.pdf")], fetcher=fetcher)
    assert [a.status for a in added] == ["added", "failed"]
    assert added[1].message == (f"{site.url('/reports/scan.pdf')}: has no text layer (1 page of images: a scan?); "
                                "run OCR on it (e.g. ocrmypdf) and add the result")
    [article] = load_articles(tmp_path).articles
    assert article.source == site.url("/reports/dredging.pdf") and article.title == "Harbour dredging report"
    assert "at a cost of 22 million euros" in " ".join(article.text.split())


def test_each_failure_is_one_clear_line_and_never_stops_the_others(site, fetcher, tmp_path):
    paths = ["/private/secret.html", "/download", "/slow.html", "/big.html", "/big-stream.html", "/gone.html",
             "/news/council.html"]
    urls = [site.url(p) for p in paths] + ["ftp://files.example/a.txt", "http://127.0.0.1:1/closed.html",
                                           site.url("/news/bridge.html")]
    results = add_urls(tmp_path, urls, fetcher=fetcher)
    by_url = {r.url: r for r in results}
    assert [by_url[u].status for u in urls] == ["failed"] * 6 + ["added", "failed", "failed", "added"]
    messages = {p: by_url[site.url(p)].message for p in paths}
    assert "robots.txt does not allow" in messages["/private/secret.html"]
    assert "redirected to" in messages["/download"] and "application/zip, not a web page" in messages["/download"]
    assert "did not answer within 0.5 s" in messages["/slow.html"]
    assert "over the 64 KB limit" in messages["/big.html"] and "over the 64 KB limit" in messages["/big-stream.html"]
    assert "HTTP 404" in messages["/gone.html"]
    assert "is not a web address" in by_url["ftp://files.example/a.txt"].message
    assert "could not reach 127.0.0.1" in by_url["http://127.0.0.1:1/closed.html"].message
    for r in results:
        assert "\n" not in r.message and r.url in r.message
    assert "/private/secret.html" not in site.hits  # robots.txt was asked, the page never
    titles = {a.title for a in load_articles(tmp_path).articles}
    assert titles == {"Council approves new library", "Kestrel Bridge opens to traffic"}


def test_robots_txt_is_read_once_per_site_and_a_server_error_on_it_means_do_not_fetch(tmp_path):
    routes = {"/robots.txt": Response(b"", "text/plain", status=503), "/a.html": Response(BRIDGE_HTML.encode())}
    with serve(routes) as s, Fetcher(FAST) as f:
        with pytest.raises(FetchError, match="robots.txt could not be read .HTTP 503"):
            f.fetch(s.url("/a.html"))
        assert not f.allowed(s.url("/b.html"))
        assert s.hits == ["/robots.txt"]
    with serve({"/a.html": Response(BRIDGE_HTML.encode())}) as s, Fetcher(FAST) as f:  # no robots.txt: allowed
        assert f.fetch(s.url("/a.html")).kind == "html"
        assert f.fetch(s.url("/a.html")).final_url == s.url("/a.html")
        assert s.hits.count("/robots.txt") == 1


def test_a_users_file_is_never_replaced_and_a_removed_page_is_not_added_again(site, fetcher, tmp_path):
    url = site.url("/news/council.html")
    mine = tmp_path / record_path(url)
    mine.parent.mkdir(parents=True)
    mine.write_text("my own notes")
    [r] = add_urls(tmp_path, [url], fetcher=fetcher)
    assert r.status == "known" and mine.read_text() == "my own notes"
    removed = tmp_path / ".removed" / record_path(url)
    removed.parent.mkdir(parents=True)
    mine.replace(removed)
    [r] = add_urls(tmp_path, [url], fetcher=fetcher)
    assert r.status == "known" and not mine.exists() and "removed from the articles before; move .removed/" in r.message


# ----------------------------------------------------------------------------- feeds


def _feed_items(site):
    return [
        {"title": "Ferry strike ends", "guid": "ferry-1", "link": site.url("/ferry"),
         "date": "Tue, 12 Mar 2024 23:30:00 -0500",
         "content": "<p>The ferry strike ended after nine days, the union said.</p>"},
        {"title": "Council approves new library", "guid": "lib-2", "link": site.url("/news/council.html"),
         "date": "Thu, 14 Mar 2024 18:00:00 GMT", "summary": "The council voted on a library."},
        {"title": "Market moves", "guid": "market-3", "link": site.url("/slow.html"),
         "date": "Fri, 15 Mar 2024 07:00:00 GMT", "summary": "The Saturday market moves to the quay."},
        {"title": "Secret", "guid": "secret-4", "link": "/private/secret.html",  # relative: read from the feed's URL
         "date": "Fri, 15 Mar 2024 08:00:00 GMT"},
    ]


def test_a_feed_adds_each_item_with_its_date_fetching_summary_only_items_and_rerunning_adds_only_new_ones(
        site, fetcher, tmp_path):
    items = _feed_items(site)
    site.routes["/feed.rss"] = Response(rss(items), "application/rss+xml")
    results = add_urls(tmp_path, [site.url("/feed.rss")], feed=True, fetcher=fetcher)
    by_url = {r.url: r for r in results}
    assert [r.status for r in results] == ["added", "added", "added", "failed"]
    assert "the feed's summary only" in by_url[site.url("/slow.html")].message  # its page timed out
    assert "robots.txt does not allow" in by_url[site.url("/private/secret.html")].message  # no summary to keep
    assert "/ferry" not in site.hits  # the item carried its full text: its page was not fetched

    arts = {a.title: a for a in load_articles(tmp_path).articles}
    assert arts["Ferry strike ends"].text == "The ferry strike ended after nine days, the union said."
    assert (arts["Ferry strike ends"].date, arts["Ferry strike ends"].date_source) == ("2024-03-12", "metadata")
    library = arts["Council approves new library"]
    assert "hold 40,000 books" in library.text and library.source == site.url("/news/council.html")  # fetched page
    assert library.date == "2024-03-14"
    assert arts["Market moves"].text == "The Saturday market moves to the quay."
    record = json.loads((tmp_path / record_path(site.url("/news/council.html"))).read_text())
    assert record["feed"] == site.url("/feed.rss") and record["feed_item"] == "lib-2"

    # the feed gains an item: only that one is added, and nothing already saved is fetched again
    items.insert(0, {"title": "Bridge tolls dropped", "guid": "toll-5", "link": site.url("/tolls"),
                     "date": "Sat, 16 Mar 2024 09:00:00 GMT", "content": "<p>Tolls on the bridge end in May.</p>"})
    site.routes["/feed.rss"] = Response(rss(items), "application/rss+xml")
    hits = len(site.hits)
    again = add_urls(tmp_path, [site.url("/feed.rss")], feed=True, fetcher=fetcher)
    assert [(r.title or r.url, r.status) for r in again][:4] == [
        ("Bridge tolls dropped", "added"), ("Ferry strike ends", "known"),
        ("Council approves new library", "known"), ("Market moves", "known")]
    assert site.hits[hits:] == ["/feed.rss", "/private/secret.html"] or site.hits[hits:] == ["/feed.rss"]
    assert len(load_articles(tmp_path).articles) == 4


def test_an_atom_feed_and_a_feed_given_as_a_page_url_are_read_and_a_page_is_not_a_feed(site, fetcher, tmp_path):
    site.routes["/harbour.atom"] = Response(atom([
        {"title": "Cranes arrive", "id": "urn:harbour:1", "link": site.url("/cranes"), "date": "2024-05-02T08:00:00Z",
         "author": "Sam Vale", "content": "<p>Two new cranes arrived at Port Ellis on Thursday.</p>"},
        {"title": "Pilot boat named", "id": "urn:harbour:2", "link": site.url("/pilot"), "date": "2024-05-01T08:00:00Z",
         "content": "<p>The new pilot boat is named Tern.</p>"}]), "application/atom+xml")
    results = add_urls(tmp_path, [site.url("/harbour.atom")], fetcher=fetcher)  # no --feed: served as a feed
    assert [r.status for r in results] == ["added", "added"]
    arts = {a.title: a for a in load_articles(tmp_path).articles}
    assert arts["Cranes arrive"].date == "2024-05-02" and arts["Cranes arrive"].source == site.url("/cranes")
    assert json.loads((tmp_path / record_path(site.url("/cranes"))).read_text())["author"] == "Sam Vale"
    [r] = add_urls(tmp_path, [site.url("/news/bridge.html")], feed=True, fetcher=fetcher)
    assert r.status == "failed" and r.message.endswith("is not an RSS or Atom feed")


# ----------------------------------------------------------------------------- qa add: the command, with an index


def test_qa_add_indexes_a_page_a_pdf_and_a_feed_and_answers_cite_the_url(site, tmp_path, capsys):
    from qa.cli import main

    from .conftest import SEEDS

    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    where = ["--articles", str(folder), "--index", str(tmp_path / "index"), "-q"]
    site.routes["/feed.rss"] = Response(rss(_feed_items(site)[:2]), "application/rss+xml")
    brief = tmp_path / "brief.docx"
    _make_docx(brief, ["The ferry service to Port Ellis resumes on 3 June."], title="Ferry brief")
    code = main(["add", site.url("/news/bridge.html"), site.url("/reports/dredging.pdf"), site.url("/gone.html"),
                 str(tmp_path / "missing.pdf"), str(brief), "--timeout", "2", *where])
    out, err = capsys.readouterr()
    assert code == 1  # an address and a file failed; the others were added and indexed
    assert err.count("failed: ") == 2 and "HTTP 404" in err and "missing.pdf' does not exist" in err
    assert out.count("added: ") == 2 and "4 added" in out  # the seed article, the two pages and the file
    assert (folder / "brief.docx").read_bytes() == brief.read_bytes()
    code = main(["add", site.url("/feed.rss"), "--feed", *where])
    out, err = capsys.readouterr()
    assert code == 0 and out.count("added: ") == 2 and "2 added" in out
    code = main(["add", site.url("/feed.rss"), "--feed", *where])
    out, err = capsys.readouterr()
    assert code == 0 and out.count("known: ") == 2 and "up to date" in out

    code = main(["ask", "How long is the Kestrel Bridge?", "--json", *where])
    d = json.loads(capsys.readouterr().out)
    assert code == 0 and "480 metres" in d["answer"]
    c = d["citations"][0]
    assert c["source"] == site.url("/news/bridge.html") and c["date"] == "2024-03-12"
    record = json.loads((folder / record_path(site.url("/news/bridge.html"))).read_text())
    assert record["text"][c["start"]:c["end"]] == d["answer"]  # the offsets index the saved (indexed) text

    code = main(["show", site.url("/news/bridge.html"), *where])
    out = capsys.readouterr().out
    assert code == 0 and f"Source: {site.url('/news/bridge.html')}" in out
    assert f"File:   {record_path(site.url('/news/bridge.html'))}" in out


def test_a_chat_open_to_the_network_fetches_no_address_of_this_machine_or_a_private_network(site, tmp_path):
    with Fetcher(FetchSettings(timeout=0.5, local_addresses=False)) as f:
        [r] = add_urls(tmp_path, [site.url("/news/bridge.html")], fetcher=f)
        assert r.status == "failed" and "127.0.0.1 is an address on this machine or a private network" in r.message
        for url in ("http://10.1.2.3/a", "http://169.254.169.254/latest/meta-data/", "http://[::1]/x",
                    "http://[64:ff9b::a01:203]/x"):  # 10.1.2.3 behind the NAT64 prefix
            with pytest.raises(FetchError, match="on this machine or a private network"):
                f.fetch(url)
    assert not (tmp_path / "web").exists()


def test_a_robots_txt_reached_by_a_redirect_is_obeyed():
    routes = {"/robots.txt": Response(status=301, location="/real-robots.txt"),
              "/real-robots.txt": Response(b"User-agent: article-qa\nDisallow: /\n", "text/plain"),
              "/a.html": Response(BRIDGE_HTML.encode())}
    with serve(routes) as s, Fetcher(FAST) as f:
        with pytest.raises(FetchError, match="robots.txt does not allow"):
            f.fetch(s.url("/a.html"))
        assert "/a.html" not in s.hits


def test_a_page_s_charset_comes_from_the_header_else_its_meta_tag_else_utf8():
    from qa.sources.fetch import FetchedPage

    latin = "<html><head><meta charset='iso-8859-1'></head><body>Café Noël</body></html>".encode("latin-1")
    assert "Café Noël" in FetchedPage("u", "u", "html", "text/html", None, latin).text()
    assert "Café Noël" in FetchedPage("u", "u", "html", "text/html", "latin-1", latin).text()
    assert FetchedPage("u", "u", "html", "text/html", "no-such-charset", "é".encode()).text() == "é"
    assert FetchedPage("u", "u", "html", "text/html", None, b"caf\xe9").text() == "caf\ufffd"


def test_a_feed_file_that_gains_an_item_is_updated_in_the_index_by_that_item_alone(tmp_path, embedder):
    from qa import QA
    from qa.articles import article_id

    folder = tmp_path / "articles"
    folder.mkdir()
    items = [{"title": "Ferry strike ends", "guid": "ferry-1", "link": "https://news.example/ferry",
              "date": "Tue, 12 Mar 2024 10:00:00 GMT",
              "content": "<p>The ferry strike ended after nine days, the union said.</p>"},
             {"title": "Roadworks", "guid": "roads-2", "date": "Wed, 13 Mar 2024 10:00:00 GMT",
              "summary": "Roadworks on the A40 start on Monday and last a week."}]
    (folder / "news.rss").write_bytes(rss(items))
    qa = QA(folder, tmp_path / "index", embedder=embedder)
    first = qa.refresh()
    assert first is not None and len(first.added) == 2
    items.append({"title": "Bridge tolls dropped", "guid": "toll-3", "link": "https://news.example/tolls",
                  "date": "Thu, 14 Mar 2024 10:00:00 GMT", "content": "<p>Tolls on the Kestrel Bridge end in May.</p>"})
    (folder / "news.rss").write_bytes(rss(items))
    os.utime(folder / "news.rss", (1_900_000_000, 1_900_000_000))  # a changed file, whatever the clock's grain
    second = qa.refresh()
    assert second is not None
    assert second.added == [article_id("https://news.example/tolls")] and second.unchanged == 2
    assert second.chunks_embedded == 1
    answer = qa.ask("When do the tolls on the Kestrel Bridge end?")
    assert "May" in answer.text
    c = answer.citations[0]
    assert c.source == "https://news.example/tolls" and c.date == "2024-03-14"
    assert qa.snapshot.articles[c.article_id].text[c.start:c.end] == answer.text


def test_a_long_feed_adds_its_new_items_a_run_at_a_time(site, tmp_path):
    items = [{"title": f"Harbour notice {i}", "guid": f"n-{i}", "link": site.url(f"/n{i}"),
              "date": f"Mon, {10 + i} Jun 2024 09:00:00 GMT", "content": f"<p>Berth {i} is closed for repairs.</p>"}
             for i in range(5)]
    site.routes["/long.rss"] = Response(rss(items), "application/rss+xml")
    with Fetcher(FetchSettings(timeout=0.5, max_feed_items=2)) as few:
        first = add_urls(tmp_path, [site.url("/long.rss")], feed=True, fetcher=few)
        assert [r.status for r in first] == ["added", "added", "skipped"]
        assert "the other 3 items wait for the next run" in first[-1].message
        # the next run passes over what it has and adds the next two
        second = add_urls(tmp_path, [site.url("/long.rss")], feed=True, fetcher=few)
        assert [r.status for r in second] == ["known", "known", "added", "added", "skipped"]
    assert sorted(a.title for a in load_articles(tmp_path).articles) == [f"Harbour notice {i}" for i in range(4)]
