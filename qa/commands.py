"""The ``qa`` command's commands, one function each (:mod:`qa.cli` parses the arguments and calls them).

Each takes the parsed arguments and returns the exit status; a problem the person can fix is raised as a
:class:`~qa.errors.QAError`, which :func:`qa.cli.main` prints as one line. Arguments are checked before any
model loads. The engine is reached through the package's lazily imported names (``qa.QA``,
``qa.clean_question``), so that importing this module, and so running ``qa --help``, loads no library.
Two optional extras are imported inside the commands that use them: Ray (``qa index --ray``,
``qa batch --ray``: :mod:`qa.distributed`) and Gradio (``qa chat``: :mod:`ui.app`).
"""

from __future__ import annotations

import difflib
import json
import logging
import sys
from pathlib import Path

import qa as package
from qa.answer_file import OUTPUT_SUFFIXES
from qa.articles import KINDS, SUPPORTED_SUFFIXES, article_file, is_url
from qa.batch import run_batch
from qa.config import FetchSettings, Settings
from qa.errors import QAError
from qa.evaluation.gold import load_gold, write_squad_articles
from qa.evaluation.report import report_base, summary_table, write_report
from qa.evaluation.score import evaluate
from qa.feedback import feedback_to_gold
from qa.sources.fetch import Fetcher
from qa.sources.web import add_urls
from qa.textio import answer_record, read_questions
from qa.timecues import check_range
from qa.types import Article, confidence_level, date_label

#: asked once before a batch, so that loading the models is not counted as answering
WARM_UP_QUESTION = "What is this article about?"


def _engine(args, **kw):
    """The :class:`qa.engine.QA` over the folders of ``args`` (defaults from the settings)."""
    return package.QA(args.articles, args.index, settings=Settings(), **kw)


def _check_k(args) -> None:
    if args.k is not None and args.k < 1:
        raise QAError("-k must be at least 1")


def _check_dates(args) -> None:
    """``--since``/``--until`` checked before any model loads: a mistyped date fails at once, in one line."""
    try:
        check_range(args.since, args.until)
    except ValueError as e:
        raise QAError(f"--{e}") from None


def _check_workers(args) -> None:
    if args.workers is not None and args.workers < 1:
        raise QAError("--workers must be at least 1")


# ---------------------------------------------------------------------------------------------- qa index


def cmd_index(args) -> int:
    """``qa index``: bring the index up to date with the folder (on a Ray cluster with ``--ray``)."""
    encoder = None
    if args.ray is not None:  # chunk and embed on a Ray cluster; the index is written here, as always
        from qa.distributed import require_ray
        from qa.distributed.encoder import RayChunkEncoder

        require_ray()
        _check_workers(args)
        encoder = RayChunkEncoder(Settings(), address=args.ray or None, workers=args.workers)
    engine = _engine(args, encoder=encoder)
    _print_report(engine, engine.refresh(force=args.force, progress=None if not args.quiet else False))
    return 0


def _print_report(engine, report) -> None:
    """What an update of the index did, or that it was up to date already."""
    if report is None:
        print(f"Index in '{engine.settings.index_dir}' is up to date ({len(engine.snapshot.articles)} articles).")
        return
    for problem in report.problems:
        print(f"skipped: {problem}", file=sys.stderr)
    if report.rebuilt:
        print(f"Rebuilt the index: {report.rebuilt}")
    if report.recovered:
        print(f"Recovered the index: {report.recovered}")
    print(f"Indexed '{engine.settings.articles_dir}' into '{engine.settings.index_dir}': {report.summary()}.")


# ---------------------------------------------------------------------------------------------- qa add

#: ``qa add``'s exit status when some of what it was given could not be added (the rest was)
EXIT_SOME_FAILED = 1


def cmd_add(args) -> int:
    """``qa add URL... [--feed]`` (and files): fetch each page or feed into the articles folder, copy each file
    there, then update the index once. One that fails is reported in one line; the others are added."""
    if args.timeout is not None and args.timeout <= 0:
        raise QAError("--timeout must be a positive number of seconds")
    urls = [t for t in args.targets if "://" in t]
    files = [t for t in args.targets if "://" not in t]
    engine = _engine(args)
    folder = engine.settings.articles_dir
    settings = FetchSettings() if args.timeout is None else FetchSettings(timeout=args.timeout)
    def say(r) -> None:  # each page or feed item as it is done: a long feed shows its progress
        print(f"{r.status}: {r.message}", file=sys.stderr if r.status == "failed" else sys.stdout, flush=True)

    with Fetcher(settings) as fetcher:
        results = add_urls(folder, urls, feed=args.feed, fetcher=fetcher, progress=say)
    failed = sum(r.status == "failed" for r in results)
    good = []
    for name in files:  # checked one by one, so that one bad file does not stop the others
        path = Path(name)
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            print(f"failed: '{name}' is not an article file; use {KINDS}", file=sys.stderr)
        elif not path.is_file():
            print(f"failed: '{name}' does not exist or is not a file (a web address starts with http:// or "
                  "https://)", file=sys.stderr)
        else:
            good.append(path)
            continue
        failed += 1
    try:
        # copies the files (never over another file), then updates the index, as a refresh would
        report = engine.add(good) if good else engine.refresh(progress=None if not args.quiet else False)
    except QAError as e:
        if not good:
            raise
        print(f"failed: {e}", file=sys.stderr)
        failed += len(good)
        report = engine.refresh(progress=None if not args.quiet else False)
    _print_report(engine, report)
    return EXIT_SOME_FAILED if failed else 0


# ---------------------------------------------------------------------------------------------- qa ask


def format_answer(answer) -> str:
    """An answer for the terminal: the answer (or the message and closest passages), confidence, citations."""
    lines = [answer.time_cue.describe()] if answer.time_cue.applies else []
    if answer.text is None:
        lines.append(answer.message)
        if answer.passages:
            lines.append("")
            lines.append("Closest passages:")
            for p in answer.passages[:3]:
                lines.append(f"  - {p.title}{_dated(p.date, p.date_source)} [{p.source}, chars {p.start}-{p.end}]: "
                             f"{_short(p.text)}")
        return "\n".join(lines)
    # an evidence sentence is labelled as such, so nobody takes it for a short answer, and a Low span as a
    # possible one
    lines.append(f"{answer.label}: {answer.text}")
    lines.append(f"Confidence: {confidence_level(answer.score)} ({answer.score:.2f})")
    if answer.message and (len(answer.citations) > 1 or answer.alternatives):
        lines.append(answer.message)  # how many articles agree, and what the others say, with their dates
    for i, c in enumerate(answer.citations, 1):
        worded = f", says “{c.text}”" if c.text != answer.text else ""
        lines.append(f"[{i}] {c.title}{_dated(c.date, c.date_source)} ({c.source}, article {c.article_id}, "
                     f"chars {c.start}-{c.end}{worded})")
        lines.append(f"    {_short(answer.context if i == 1 and answer.context else c.passage)}")
    if answer.alternatives:
        lines.append("Other articles say:")
        for alt in answer.alternatives:
            lines.append(f"  {alt.text}")
            for c in alt.citations:
                lines.append(f"    - {c.title}{_dated(c.date, c.date_source)} ({c.source}, article {c.article_id}, "
                             f"chars {c.start}-{c.end})")
    return "\n".join(lines)


def _dated(date: str | None, date_source: str | None) -> str:
    """`` · 2024-03-12`` after a title (`` · 2024-03-12 (file date)`` when only the file time is known)."""
    label = date_label(date, date_source)
    return f" · {label}" if label else ""


def _short(text: str, n: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def cmd_ask(args) -> int:
    """``qa ask QUESTION``: print the answer (``--json``: its record) and its citations."""
    _check_k(args)
    question = package.clean_question(args.question)  # fail fast, before loading any model
    _check_dates(args)
    engine = _engine(args)
    answer = engine.ask(question, k=args.k, since=args.since, until=args.until)
    if args.json:
        print(json.dumps(answer_record(answer), ensure_ascii=False, indent=1))
    else:
        print(format_answer(answer))
    # answered from an intact older generation after damage: update from it now, with the answer already out
    sys.stdout.flush()
    engine.finish_update()
    return 0


# ---------------------------------------------------------------------------------------------- qa show

#: how many close matches an unknown article id lists
CLOSE_MATCHES = 5


def format_article(article: Article) -> str:
    """An article for the terminal: title, date and where it came from, source file, id, then its text."""
    when = {None: "unknown", "metadata": f"{article.date} (from the article's metadata)",
            "dateline": f"{article.date} (from its dateline)",
            "file time": f"{article.date} (file date: when the file was last modified; the article gives none)",
            }.get(article.date_source, f"{article.date} ({article.date_source})")
    lines = [f"Title:  {article.title}", f"Date:   {when}", f"Source: {article.source}"]
    also = article.duplicates
    if is_url(article.source):  # an article from the web: the file in the folder that holds it
        lines.append(f"File:   {article_file(article)}")
        also = tuple(d for d in also if d != article_file(article))
    lines.append(f"Id:     {article.id}")
    if also:
        lines.append(f"Also:   {', '.join(also)}")
    return "\n".join([*lines, "", article.text])


def find_article(articles: dict[str, Article], wanted: str) -> Article:
    """The article whose id is ``wanted`` (or whose source is, e.g. ``storm.txt`` or ``feed.jsonl#3``, or one of
    its duplicates' paths); else a :class:`QAError` naming close matches, or saying how to find ids."""
    if wanted in articles:
        return articles[wanted]
    # a duplicate is indexed once, under its first path: its other paths lead to it too
    by_source = {path: a for a in articles.values() for path in (*a.duplicates, a.source)}
    if wanted in by_source:
        return by_source[wanted]
    keys = [*articles, *by_source]
    close = [k for k in keys if k.startswith(wanted)] if wanted else []
    close = close or difflib.get_close_matches(wanted, keys, CLOSE_MATCHES)
    if close:
        shown = ", ".join(f"{k} ({articles[k].source})" if k in articles else k for k in close[:CLOSE_MATCHES])
        raise QAError(f"no article '{wanted}'; close matches: {shown}")
    raise QAError(f"no article '{wanted}'; an answer's citations name article ids (`qa ask QUESTION` or "
                  "`qa ask --json`), and a file's path relative to the articles folder works too")


def cmd_show(args) -> int:
    """``qa show ARTICLE_ID``: print one indexed article with its title, date, source and text."""
    engine = _engine(args)
    print(format_article(find_article(dict(engine.snapshot.articles), args.article_id.strip())))
    return 0


# ---------------------------------------------------------------------------------------------- qa batch


def cmd_batch(args) -> int:
    """``qa batch INPUT -o OUTPUT``: read and check the input first, then load the models and answer (on a Ray
    cluster with ``--ray``)."""
    _check_k(args)
    if args.batch_size < 1:
        raise QAError("--batch-size must be at least 1")
    if args.output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise QAError(f"cannot write answers to '{args.output.name}'; name the output .jsonl or .csv")
    if args.output.resolve() == args.input.resolve():
        raise QAError("the output would overwrite the questions file; choose another output name")
    _check_dates(args)
    questions = read_questions(args.input).questions

    def load():
        engine = _engine(args)
        engine.refresh(progress=False if args.quiet else None)
        engine.ask(WARM_UP_QUESTION)  # loads the embedder and the reader now, so start-up is not counted as answering
        return engine

    answer_batches = None
    if args.ray is not None:  # answer on a Ray cluster; the output is written here, as always
        from qa.distributed.batch import RayBatchAnswerer

        answer_batches = RayBatchAnswerer(args.articles, args.index, address=args.ray or None,
                                          workers=args.workers, k=args.k, progress=not args.quiet)
    summary = run_batch(load, questions, args.output, k=args.k, since=args.since, until=args.until,
                        batch_size=args.batch_size,
                        overwrite=args.overwrite, progress=not args.quiet, answer_batches=answer_batches)
    print(f"Wrote '{args.output}': {summary.line()}.")
    return 0


# ---------------------------------------------------------------------------------------------- qa eval


def cmd_eval(args) -> int:
    """``qa eval GOLD``: check the gold file, index the articles, answer, score, write the report."""
    _check_k(args)
    batch_size = args.batch_size
    if batch_size < 1:
        raise QAError("--batch-size must be at least 1")
    base = report_base(args.gold, args.report)
    gold = load_gold(args.gold)
    articles, index = args.articles, args.index
    if gold.articles is not None and articles is None:
        articles = write_squad_articles(gold.articles, base.with_name(base.name + "-articles"))
        if index is None:
            index = base.with_name(base.name + "-index")
        if not args.quiet:
            print(f"Wrote the {len(gold.articles)} SQuAD paragraphs as articles to '{articles}'.", file=sys.stderr)
    engine = package.QA(articles, index, settings=Settings())
    engine.refresh(progress=False if args.quiet else None)
    report = evaluate(engine, gold.questions, k=args.k, batch_size=batch_size, progress=not args.quiet)
    report["gold"] = str(args.gold)
    json_path, md_path = write_report(report, base)
    print("\n".join(summary_table(report)))
    print(f"\nReport: '{json_path}' (per question) and '{md_path}'.")
    return 0


def cmd_feedback_to_gold(args) -> int:
    """``qa feedback-to-gold FEEDBACK.jsonl -o gold.jsonl [--review PATH]``."""
    summary = feedback_to_gold(args.feedback, args.output, review=args.review)
    print(f"Wrote '{args.output}': {summary.line()}.")
    return 0


# ---------------------------------------------------------------------------------------------- qa prepare, qa chat


def cmd_prepare(args) -> int:
    """``qa prepare``: export the models the settings use to ONNX now."""
    from qa.prepare import prepare  # the exporters' modules load numpy and onnx: not for every command

    for what, where, seconds in prepare():
        print(f"{what}: {f'ready in {where}' if where else 'runs on PyTorch, nothing to export'} ({seconds:.1f} s)")
    return 0


def cmd_chat(args) -> int:
    """``qa chat``: check the port, index the folder, serve the page, block until interrupted; says what it
    is doing at each step, since the first start can take a while."""
    from ui.app import build_app, chat_app, check_port, launch, watch_folder  # Gradio: an optional extra, and heavy

    host = args.host or "127.0.0.1"
    port = args.port
    check_port(host, port)
    logging.getLogger("transformers").setLevel(logging.ERROR)  # its advice on long inputs is not for users
    engine = _engine(args, auto_refresh=False)
    print(f"Articles: {engine.settings.articles_dir}\nIndex:    {engine.settings.index_dir}\n"
          "Loading the index and bringing it up to date with the folder…", flush=True)
    report = engine.refresh()
    for problem in report.problems if report is not None else []:
        print(f"skipped: {problem}", file=sys.stderr)
    n = len(engine.snapshot.articles)
    print("Preparing the page (suggested questions follow in the background)…", flush=True)
    # open to other machines: nobody there may make the server fetch what only it can reach (its own services)
    local = host in ("127.0.0.1", "localhost", "::1")
    demo = build_app(engine, fetch_settings=FetchSettings(local_addresses=local))
    chat = chat_app(demo)
    watcher = watch_folder(engine, chat)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"Serving the chat over {n} article{'s' if n != 1 else ''} at http://{shown}:{port} (Ctrl+C to stop).",
          flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"Listening on {host}: other machines can reach this page.")
    try:
        launch(demo, host, port, quiet=True)
    except OSError as e:
        raise QAError(f"cannot listen on {host}:{port} ({e}); choose another --port") from e
    finally:
        watcher.stop()
        chat.close()
    return 0


COMMANDS = {"index": cmd_index, "add": cmd_add, "ask": cmd_ask, "show": cmd_show, "batch": cmd_batch, "eval": cmd_eval,
            "chat": cmd_chat, "feedback-to-gold": cmd_feedback_to_gold, "prepare": cmd_prepare}
