"""The ``qa`` command: index a folder of articles and answer questions about them.

    qa index [--articles DIR] [--index DIR]
    qa ask "Who is Venezuela's opposition leader?" [--articles DIR] [--index DIR] [--json] [-k N]
    qa prepare        # export the models to ONNX ahead of the first question (make install runs it)

Errors end with a one-line message naming the problem and a non-zero exit status, never a traceback.
Heavy libraries are imported only by the commands that need them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from qa.answer_types import confidence_level  # light: regular expressions only

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def _add_folders(p: argparse.ArgumentParser) -> None:
    p.add_argument("--articles", metavar="DIR", type=Path, default=None,
                   help="folder of articles (.txt, .md, .html, .json, .jsonl); default: seeds/ or $QA_ARTICLES")
    p.add_argument("--index", metavar="DIR", type=Path, default=None,
                   help="folder where the index is kept; default: vectors/ or $QA_INDEX")
    p.add_argument("-q", "--quiet", action="store_true", help="print only results and errors")


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

    p = sub.add_parser("ask", help="answer a question from the articles",
                       description="Answer QUESTION with a short span from the articles and its citations. "
                                   "The index is created or refreshed first when needed.")
    p.add_argument("question", metavar="QUESTION", help="the question, in plain English (quote it)")
    _add_folders(p)
    p.add_argument("-k", type=int, default=None, metavar="N", help="how many passages to retrieve (default 5)")
    p.add_argument("--json", action="store_true", help="print the answer, citations and passages as JSON")

    p = sub.add_parser("batch", help="answer a file of questions",
                       description="Answer every question in INPUT (.txt one per line, .csv with a 'question' "
                                   "column and optional 'id', .jsonl of {\"id\",\"question\"}) and write the "
                                   "answers to OUTPUT (.jsonl or .csv). Rerunning into an existing OUTPUT skips "
                                   "the questions already answered.")
    p.add_argument("input", metavar="INPUT", type=Path, help="the questions file")
    p.add_argument("-o", "--output", metavar="OUTPUT", type=Path, required=True, help="where to write the answers")
    _add_folders(p)
    p.add_argument("-k", type=int, default=None, metavar="N", help="how many passages to retrieve (default 5)")
    p.add_argument("--batch-size", type=int, default=32, metavar="N", help="questions answered per batch (default 32)")
    p.add_argument("--overwrite", action="store_true",
                   help="start OUTPUT afresh instead of skipping the questions already answered in it")
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
    p.add_argument("--batch-size", type=int, default=16, metavar="N",
                   help="questions answered per batch (default 16); 1 measures single-question latency")

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


def _qa(args, encoder=None):
    from qa.config import Settings
    from qa.engine import QA

    return QA(args.articles, args.index, settings=Settings(), encoder=encoder)


def cmd_index(args) -> int:
    encoder = None
    if args.ray is not None:  # chunk and embed on a Ray cluster; the index is written here, as always
        from qa.config import Settings
        from qa.distributed import require_ray
        from qa.distributed.encoder import RayChunkEncoder
        from qa.errors import QAError

        require_ray()
        if args.workers is not None and args.workers < 1:
            raise QAError("--workers must be at least 1")
        encoder = RayChunkEncoder(Settings(), address=args.ray or None, workers=args.workers)
    qa = _qa(args, encoder)
    report = qa.refresh(force=args.force, progress=None if not args.quiet else False)
    if report is None:
        print(f"Index in '{qa.settings.index_dir}' is up to date ({len(qa.snapshot.articles)} articles).")
    else:
        for problem in report.problems:
            print(f"skipped: {problem}", file=sys.stderr)
        if report.rebuilt:
            print(f"Rebuilt the index: {report.rebuilt}")
        if report.recovered:
            print(f"Recovered the index: {report.recovered}")
        print(f"Indexed '{qa.settings.articles_dir}' into '{qa.settings.index_dir}': {report.summary()}.")
    return 0


def format_answer(answer) -> str:
    lines = []
    if answer.text is None:
        lines.append(answer.message)
        if answer.passages:
            lines.append("")
            lines.append("Closest passages:")
            for p in answer.passages[:3]:
                lines.append(f"  - {p.title} [{p.source}, chars {p.start}-{p.end}]: {_short(p.text)}")
        return "\n".join(lines)
    # an evidence sentence is labelled as such, so nobody takes it for a short answer
    lines.append(f"{'From the article' if answer.kind == 'evidence' else 'Answer'}: {answer.text}")
    lines.append(f"Confidence: {confidence_level(answer.score)} ({answer.score:.2f})")
    for i, c in enumerate(answer.citations, 1):
        lines.append(f"[{i}] {c.title} ({c.source}, article {c.article_id}, chars {c.start}-{c.end})")
        lines.append(f"    {_short(answer.context if i == 1 and answer.context else c.passage)}")
    return "\n".join(lines)


def _short(text: str, n: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def cmd_ask(args) -> int:
    from qa.engine import clean_question
    from qa.errors import QAError

    if args.k is not None and args.k < 1:
        raise QAError("-k must be at least 1")
    question = clean_question(args.question)  # fail fast, before loading any model
    qa = _qa(args)
    answer = qa.ask(question, k=args.k)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(format_answer(answer))
    # answered from an intact older generation after damage: update from it now, with the answer already out
    sys.stdout.flush()
    qa.finish_update()
    return 0


def _error(message: str) -> int:
    print(f"qa: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def cmd_batch(args) -> int:
    from qa.batch import run_batch_command

    return run_batch_command(args)


def cmd_eval(args) -> int:
    from qa.evaluation import run_eval_command

    return run_eval_command(args)


def cmd_feedback_to_gold(args) -> int:
    from qa.evaluation import run_feedback_command

    return run_feedback_command(args)


def cmd_prepare(args) -> int:
    from qa.prepare import run_prepare_command

    return run_prepare_command(args)


def cmd_chat(args) -> int:
    from ui.app import run_chat_command

    return run_chat_command(args)


COMMANDS = {"index": cmd_index, "ask": cmd_ask, "batch": cmd_batch, "eval": cmd_eval, "chat": cmd_chat,
            "feedback-to-gold": cmd_feedback_to_gold, "prepare": cmd_prepare}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if getattr(args, "quiet", False) else logging.INFO,
                        format="%(message)s", stream=sys.stderr)
    for noisy in ("faiss", "faiss.loader", "sentence_transformers", "bm25s", "httpx", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from qa.errors import QAError

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
