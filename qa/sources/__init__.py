"""Where articles come from besides plain text files: document formats (PDF, Word), feeds (RSS, Atom) and
the web.

- :mod:`qa.sources.documents`: the text of a ``.pdf`` (its text layer) or a ``.docx`` (its paragraphs);
- :mod:`qa.sources.feeds`: the items of an RSS or Atom feed, each with its link, title, date and text;
- :mod:`qa.sources.fetch`: fetching a page or a feed over HTTP, politely (robots.txt, timeouts, a size cap);
- :mod:`qa.sources.web`: ``qa add URL`` and ``qa add FEED_URL --feed``: what is fetched is saved into the
  articles folder as a JSON record with its URL, so the folder stays the one thing the index is built from.

Fetching is the only part of the project that uses the network; reading the folder never does.
"""
