"""The ``qa`` command line: the argument parser and :func:`main`; the commands are in :mod:`qa.commands`.

    qa index [--articles DIR] [--index DIR] [--force] [--ray [ADDRESS]]   # build or update the index
    qa add https://example.com/news/story [--feed]                        # fetch a page (or a feed) and index it
    qa ask "Who is Venezuela's opposition leader?" [--json] [-k N]        # answer one question
    qa ask "What did the council decide?" --since 2024-03-01 --until 2024-03-31   # from March's articles
    qa show ARTICLE_ID                                                    # one article: title, date, source, text
    qa batch questions.txt -o answers.jsonl [--ray [ADDRESS]]             # answer a file of questions
    qa eval gold.jsonl [--report PATH]                                    # measure answer quality
    qa feedback-to-gold feedback.jsonl -o gold.jsonl                      # the chat's thumbs as gold questions
    qa prepare                                                            # export the models to ONNX now
    qa chat [--host H] [--port P]                                         # serve the web chat

Errors end with a one-line message naming the problem and a non-zero exit status, never a traceback.
Heavy libraries are imported only by the commands that need them.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from qa.batch import DEFAULT_BATCH_SIZE
from qa.commands import COMMANDS
from qa.config import FetchSettings
from qa.errors import QAError
from qa.evaluation.score import DEFAULT_EVAL_BATCH_SIZE

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def _add_folders(p: argparse.ArgumentParser) -> None:
    p.add_argument("--articles", metavar="DIR", type=Path, default=None,
                   help="folder of articles (.txt, .md, .html, .json, .jsonl, .pdf, .docx, .rss, .atom, .xml); "
                        "default: seeds/ or $QA_ARTICLES")
    p.add_argument("--index", metavar="DIR", type=Path, default=None,
                   help="folder where the index is kept; default: vectors/ or $QA_INDEX")
    p.add_argument("-q", "--quiet", action="store_true", help="print only results and errors")


def _add_dates(p: argparse.ArgumentParser, what: str, more: str = "") -> None:
    p.add_argument("--since", metavar="YYYY-MM-DD", default=None,
                   help=f"{what} articles published on or after this date only{more}")
    p.add_argument("--until", metavar="YYYY-MM-DD", default=None,
                   help=f"{what} articles published on or before this date only{more}")


def _add_ray(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ray", metavar="ADDRESS", nargs="?", const="", default=None,
                   help="run on a Ray cluster (needs the [ray] extra): the one at ADDRESS, else $RAY_ADDRESS, a "
                        "cluster started on this machine, or a new local one (write --ray=ADDRESS, or put --ray last)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="with --ray: Ray workers to use (default: one per CPU of the cluster)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa",
        description="Answer questions from a folder of news articles, offline, with exact citations.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("index", help="build or update the index of an articles folder",
                       description="Read every article in the folder and update the index: new and changed "
                                   "articles are embedded, deleted ones removed, unchanged ones kept.")
    _add_folders(p)
    p.add_argument("--force", action="store_true", help="re-read every article even if no file looks changed")
    _add_ray(p)

    p = sub.add_parser("add", help="add web pages, feeds or files to the articles and index them",
                       description="Fetch each URL (a web page, a PDF or Word file, or with --feed an RSS or Atom "
                                   "feed, one article per item) into the articles folder as a JSON record with its "
                                   "URL, copy each FILE there, then update the index. Adding again adds only what is "
                                   "new. Fetching is the one thing that uses the network, and it respects robots.txt. "
                                   "Exit status 1 when some could not be added (the others were).")
    p.add_argument("targets", metavar="URL_OR_FILE", nargs="+", help="web addresses (http:// or https://) or files")
    p.add_argument("--feed", action="store_true", help="the URLs are RSS or Atom feeds: add each item as an article")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help=f"give up on a page after this long (default {FetchSettings.timeout:g})")
    _add_folders(p)

    p = sub.add_parser("ask", help="answer a question from the articles",
                       description="Answer QUESTION with a short span from the articles and its citations. "
                                   "The index is created or refreshed first when needed.")
    p.add_argument("question", metavar="QUESTION", help="the question, in plain English (quote it)")
    _add_folders(p)
    p.add_argument("-k", type=int, default=None, metavar="N", help="how many passages to retrieve (default 5)")
    p.add_argument("--json", action="store_true", help="print the answer, citations and passages as JSON")
    _add_dates(p, "answer from")

    p = sub.add_parser("show", help="show one article: its title, date, source and text",
                       description="Print the indexed article ARTICLE_ID (as a citation names it; its file path "
                                   "relative to the articles folder works too): title, publication date and where "
                                   "it came from, source file, and text. The index is refreshed first when needed.")
    p.add_argument("article_id", metavar="ARTICLE_ID", help="the article's id, e.g. from qa ask's citations")
    _add_folders(p)

    p = sub.add_parser("batch", help="answer a file of questions",
                       description="Answer every question in INPUT (.txt one per line, .csv with a 'question' "
                                   "column and optional 'id', 'since', 'until', .jsonl of {\"id\",\"question\"} "
                                   "with optional \"since\"/\"until\" dates) and write the "
                                   "answers to OUTPUT (.jsonl or .csv). Rerunning into an existing OUTPUT skips "
                                   "the questions already answered.")
    p.add_argument("input", metavar="INPUT", type=Path, help="the questions file")
    p.add_argument("-o", "--output", metavar="OUTPUT", type=Path, required=True, help="where to write the answers")
    _add_folders(p)
    p.add_argument("-k", type=int, default=None, metavar="N", help="how many passages to retrieve (default 5)")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, metavar="N",
                   help=f"questions answered per batch (default {DEFAULT_BATCH_SIZE})")
    p.add_argument("--overwrite", action="store_true",
                   help="start OUTPUT afresh instead of skipping the questions already answered in it")
    _add_dates(p, "by default, answer from", " (a question's own since/until column or field wins)")
    _add_ray(p)

    p = sub.add_parser("eval", help="measure answer quality on labelled questions",
                       description="Answer the questions of GOLD (.jsonl with question, answers, optional doc_id; "
                                   "or the official SQuAD JSON) and report exact match, F1, no-answer precision "
                                   "and recall, retrieval recall@k and MRR, and latency.")
    p.add_argument("gold", metavar="GOLD", type=Path, help="the labelled questions")
    _add_folders(p)
    p.add_argument("-k", type=int, default=None, metavar="N", help="how many passages to retrieve (default 5)")
    p.add_argument("--report", metavar="PATH", type=Path, default=None,
                   help="report path without suffix; .json and .md are written (default: GOLD's name + "
                        "'-report', next to GOLD). For SQuAD JSON without --articles, the paragraphs are "
                        "written as articles to PATH-articles/ and indexed in PATH-index/")
    p.add_argument("--batch-size", type=int, default=DEFAULT_EVAL_BATCH_SIZE, metavar="N",
                   help=f"questions answered per batch (default {DEFAULT_EVAL_BATCH_SIZE}); 1 measures "
                        "single-question latency")

    p = sub.add_parser("feedback-to-gold", help="turn chat feedback into a gold file for qa eval",
                       description="Read the chat's thumbs up/down feedback (FEEDBACK, JSONL) and write gold "
                                   "questions for qa eval: a thumbs-up answer becomes the accepted answer (its "
                                   "first citation's source the doc_id), a thumbs-up no-answer an unanswerable "
                                   "question. Thumbs-down rows are skipped (the right answer is unknown).")
    p.add_argument("feedback", metavar="FEEDBACK", type=Path, help="the feedback file (.jsonl)")
    p.add_argument("-o", "--output", metavar="GOLD", type=Path, required=True, help="the gold file to write (.jsonl)")
    p.add_argument("--review", metavar="PATH", type=Path, default=None,
                   help="also write the thumbs-down questions here (answers: null, rejected_answer) to label by hand")

    sub.add_parser("prepare", help="export the models to ONNX now, so that no question waits for it",
                   description="Export the embedder and the span reader that the settings use to ONNX Runtime "
                               "(once; cached under ~/.cache/article-qa or $QA_CACHE_DIR). make install runs it; "
                               "without it the first question exports them.")

    p = sub.add_parser("chat", help="serve the web chat",
                       description="Serve the chat page over the articles folder (default http://127.0.0.1:7860).")
    _add_folders(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port to listen on (default 7860)")
    return parser


def _error(message: str) -> int:
    print(f"qa: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if getattr(args, "quiet", False) else logging.INFO,
                        format="%(message)s", stream=sys.stderr)
    for noisy in ("faiss", "faiss.loader", "sentence_transformers", "bm25s", "httpx", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # pypdf warns about each oddity of a damaged PDF; the file's one-line problem says what matters
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        return COMMANDS[args.command](args)
    except QAError as e:
        return _error(str(e))
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as e:
        return _error(f"{e.strerror or e}: {e.filename or ''}".strip(": "))


if __name__ == "__main__":
    raise SystemExit(main())
