"""The engine: keeps the index in step with the articles folder and answers questions.

    from qa import QA
    qa = QA("seeds", "vectors")                  # folders; defaults are seeds/ and vectors/
    answer = qa.ask("Who slipped out of Venezuela last week?")
    print(answer.text, answer.citations[0].title)
    qa.add(["new_article.txt"])                  # copied into the folder and indexed at once
    answers = qa.ask_many(["Who is Maduro?", "What did Russia vow?"])

The index refreshes itself when files in the folder change (checked at most every
``settings.refresh_interval`` seconds), re-embedding only new or changed articles.

A question is never held up by an update that cannot happen: when the update cannot be written (full
disk, read-only folder) or another process holds the write lock, ``ask`` warns once and answers from the
index as it is; the failed update is not retried until the folder changes again or
``RETRY_FAILED_UPDATE_S`` have passed. When the live generation is damaged, ``ask`` answers from the
newest intact one first and the next refresh (or :meth:`QA.finish_update`, which ``qa ask`` calls after
printing the answer) updates the index from it. ``refresh()`` (``qa index``) waits for the lock and
raises instead.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from qa.answerers.agreement import fold
from qa.answerers.gate import GatedAnswerer, NoAnswerGate
from qa.answerers.protocol import Answerer, no_answer, passages_to_read
from qa.answerers.sentence import SentenceAnswerer
from qa.articles import KINDS, REMOVED_DIR, SUPPORTED_SUFFIXES, article_file, folder_fingerprint, load_articles
from qa.config import Settings
from qa.embedders import Embedder, get_embedder
from qa.encoding import ChunkEncoder
from qa.errors import (
    ArticlesNotFoundError,
    IndexBusyError,
    IndexLocationError,
    IndexUnusableError,
    InvalidDateError,
    InvalidQuestionError,
    InvalidSettingError,
    OutsideFolderError,
    QAError,
)
from qa.reader import SpanReader, weights_available
from qa.retrieval import HybridRetriever, close_candidates
from qa.store import ChunkIndex, IndexSnapshot, SyncReport
from qa.timecues import check_range, time_cue
from qa.types import CALLER_RANGE, NO_CUE, Answer, Article, Passage, TimeCue

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
RETRY_FAILED_UPDATE_S = 300.0


@dataclass(frozen=True)
class FailedUpdate:
    """An update that could not be written: questions skip it while the folder is unchanged, until ``retry_at``."""

    fingerprint: dict[str, list[int]]
    retry_at: float  # time.monotonic()
    message: str


#: what ``$QA_ANSWERER`` may name
ANSWERERS = ("auto", "reader", "sentence")


def default_answerer(embedder: Embedder, name: str | None = None) -> Answerer:
    """The trained span reader (behind its calibrated no-answer gate) when its weights are installed,
    else the sentence answerer. ``$QA_ANSWERER`` = ``reader`` or ``sentence`` forces one."""
    name = name or os.environ.get("QA_ANSWERER", "").strip() or "auto"
    if name not in ANSWERERS:
        raise InvalidSettingError(f"unknown answerer '{name}' (from QA_ANSWERER): use one of {', '.join(ANSWERERS)}")
    if name in ("auto", "reader"):
        if weights_available():
            gate = NoAnswerGate.load()
            if gate is None:
                return SpanReader()
            # the gate decides whether to answer, so the reader always proposes its best span
            return GatedAnswerer(SpanReader(abstain=False), gate)
        if name == "reader":
            raise QAError("the span reader's weights are not installed; reinstall the package")
    return SentenceAnswerer(embedder)


def clean_question(question: str) -> str:
    if not isinstance(question, str):
        raise InvalidQuestionError("the question must be text")
    q = " ".join(question.split())
    if not q:
        raise InvalidQuestionError("the question is empty; type a question about the articles")
    if len(q) > MAX_QUESTION_CHARS:
        raise InvalidQuestionError(
            f"the question is {len(q)} characters long; ask it in at most {MAX_QUESTION_CHARS} characters"
        )
    return q


class QA:
    """Question answering over one articles folder and its index."""

    def __init__(self, articles_dir: str | Path | None = None, index_dir: str | Path | None = None, *,
                 settings: Settings | None = None, embedder: Embedder | None = None,
                 answerer: Answerer | None = None, auto_refresh: bool = True,
                 encoder: ChunkEncoder | None = None) -> None:
        settings = settings or Settings()
        if articles_dir is not None:
            settings.articles_dir = Path(articles_dir)
        if index_dir is not None:
            settings.index_dir = Path(index_dir)
        self.settings = settings
        self.embedder = embedder or get_embedder(settings.embedder)
        self._answerer = answerer
        self.auto_refresh = auto_refresh
        self.index = ChunkIndex(settings.index_dir, settings, self.embedder, encoder=encoder)
        self._retriever: HybridRetriever | None = None
        self._lock = threading.RLock()
        self._checked_at = 0.0
        self.last_report: SyncReport | None = None
        self.failed_update: FailedUpdate | None = None
        self._warned: str | None = None  # the last warning given for answering without an update
        self._deferred: str | None = None  # the intact generation answered from before updating from it

    # ------------------------------------------------------------ components
    @property
    def answerer(self) -> Answerer:
        if self._answerer is None:
            with self._lock:
                if self._answerer is None:
                    self._answerer = default_answerer(self.embedder)
        return self._answerer

    @property
    def snapshot(self) -> IndexSnapshot:
        return self.retriever.snapshot

    @property
    def retriever(self) -> HybridRetriever:
        if self._retriever is None:
            self._refresh(answering=True)
        elif self.auto_refresh and self._due() and self._lock.acquire(blocking=False):
            # when another thread is already indexing, answer from the current index meanwhile
            try:
                self._refresh(answering=True)
            finally:
                self._lock.release()
        assert self._retriever is not None
        return self._retriever

    def _due(self) -> bool:
        return time.monotonic() - self._checked_at >= self.settings.refresh_interval

    def articles(self) -> list[Article]:
        """The indexed articles."""
        return list(self.snapshot.articles.values())

    # ------------------------------------------------------------ indexing
    def refresh(self, force: bool = False, progress: bool | None = None) -> SyncReport | None:
        """Bring the index in step with the folder; returns what changed (``None`` when nothing did).

        ``force`` re-reads every article even when no file looks changed. Waits for another writer (up to
        the index's lock timeout) and raises when the update cannot be written.
        """
        return self._refresh(force, progress)

    def finish_update(self) -> SyncReport | None:
        """Run the update deferred so that a question could be answered first from an intact generation
        (after damage to the live one); like a question's refresh, it warns instead of raising when the
        update cannot be written. Does nothing when no update is deferred."""
        if self._deferred is None:
            return None
        return self._refresh(answering=True)

    def _refresh(self, force: bool = False, progress: bool | None = None, answering: bool = False) -> SyncReport | None:
        """``answering``: a question waits, so a usable index is answered from rather than held up by an update
        that cannot happen now (lock held elsewhere, disk full or read-only), and an index recovered from
        damage answers before it is updated."""
        with self._lock:
            self._checked_at = time.monotonic()
            folder = self.settings.articles_dir
            if not folder.is_dir():
                raise ArticlesNotFoundError(
                    f"articles folder '{folder}' does not exist; create it and add {KINDS} "
                    "articles, or point --articles at your folder"
                )
            self._check_index_location()
            fingerprint = folder_fingerprint(folder)
            snap = self._retriever.snapshot if self._retriever else None
            live = self.index.current_generation()
            if snap is None or snap.generation != live:
                snap = self._load_quietly()
            usable = snap is not None and self.index.compatible(snap) is None
            recovered = snap is not None and snap.generation != live  # CURRENT is damaged: an older generation loaded
            if not recovered:
                self._deferred = None
            # an index written before dates were recorded is updated once even when no file changed
            current = snap is not None and snap.fingerprint == fingerprint and not snap.manifest.undated
            if not force and usable and not recovered and current:
                self._set_snapshot(snap)
                return None
            can_wait = not (answering and usable)
            if not can_wait:
                assert snap is not None
                if recovered and self._deferred != snap.generation:
                    # answer first; the next refresh, due at once, updates from this generation
                    self._deferred = snap.generation
                    self._checked_at = float("-inf")
                    self._set_snapshot(snap)
                    return None
                failed = self.failed_update
                if failed is not None and failed.fingerprint == fingerprint and time.monotonic() < failed.retry_at:
                    self._set_snapshot(snap)
                    return None
            try:
                if not can_wait and self.index.busy():  # before reading every article for nothing
                    raise IndexBusyError(f"another process is updating the index in '{self.index.dir}'")
                loaded = load_articles(folder, progress=progress)
                if not loaded.articles:
                    detail = (
                        f" ({len(loaded.problems)} files could not be read: {loaded.problems[0]})"
                        if loaded.problems else ""
                    )
                    raise ArticlesNotFoundError(
                        f"no readable articles in '{folder}'{detail}; add {KINDS} files"
                    )
                report = self.index.sync(loaded.articles, fingerprint, loaded.problems, progress,
                                         lock_timeout=None if can_wait else 0)
            except (IndexBusyError, OSError) as e:
                if can_wait:
                    raise
                assert snap is not None
                self._answer_without_update(snap, fingerprint, e)
                return None
            self.failed_update = None
            self._warned = None
            self._deferred = None
            self.last_report = report
            self._set_snapshot(self.index.load())
            return report

    def _answer_without_update(self, snap: IndexSnapshot, fingerprint: dict[str, list[int]], error: Exception) -> None:
        """Keep answering from ``snap``; warn once per cause, and remember a write failure so that the
        following questions do not redo the same work (embedding) only to fail the same way."""
        index_dir = self.settings.index_dir
        if isinstance(error, IndexBusyError):
            message = (f"another process is updating the index in '{index_dir}'; answering from the index as it "
                       "was until that update is done")
        else:
            assert isinstance(error, OSError)
            cause = error.strerror or str(error)
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                todo = "free disk space there, then run `qa index`"
            elif error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                todo = f"make '{index_dir}' writable (or point --index at a writable folder), then run `qa index`"
            else:
                todo = "fix that, then run `qa index`"
            message = (f"cannot update the index in '{index_dir}' ({cause}); answering from the index as it was, "
                       f"without the latest changes to the articles; {todo}")
            self.failed_update = FailedUpdate(fingerprint, time.monotonic() + RETRY_FAILED_UPDATE_S, message)
        if message != self._warned:
            self._warned = message
            log.warning("%s", " ".join(message.split()))
        self._set_snapshot(snap)

    def _check_index_location(self) -> None:
        """Refuse an index folder inside the articles folder: every refresh would read the index's own
        files as articles and write a new generation. A hidden folder is fine (it is never read)."""
        folder, index_dir = self.settings.articles_dir, self.settings.index_dir
        try:
            inside = index_dir.resolve().relative_to(folder.resolve())
        except ValueError:
            return
        if not any(part.startswith(".") for part in inside.parts):
            raise IndexLocationError(
                f"the index folder '{index_dir}' is inside the articles folder '{folder}', so its files would be "
                f"read as articles; point --index elsewhere, or use a hidden folder such as '{folder / '.index'}'"
            )

    def _load_quietly(self) -> IndexSnapshot | None:
        try:
            return self.index.load()
        except IndexUnusableError as e:
            log.warning("%s; it will be rebuilt", e)
            return None

    def _set_snapshot(self, snap: IndexSnapshot | None) -> None:
        if snap is None:
            return
        if self._retriever is None or self._retriever.snapshot.generation != snap.generation:
            self._retriever = HybridRetriever(snap, self.embedder, self.settings)
        else:
            self._retriever.snapshot = snap  # same generation, newer manifest (e.g. file times recorded)

    def add(self, paths: Iterable[str | Path]) -> SyncReport | None:
        """Copy article files into the articles folder and index them. Existing files are never
        overwritten: a name already taken by another file gets a numbered suffix."""
        folder = self.settings.articles_dir
        folder.mkdir(parents=True, exist_ok=True)
        for path in map(Path, paths):
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                raise QAError(
                    f"'{path.name}' is not an article file; use one of {', '.join(sorted(SUPPORTED_SUFFIXES))}"
                )
            if not path.is_file():
                raise QAError(f"'{path}' does not exist or is not a file")
            target = folder / path.name
            n = 1
            while target.exists() and not _same_file(target, path):
                target = folder / f"{path.stem}-{n}{path.suffix}"
                n += 1
            if not target.exists():
                shutil.copy2(path, target)
        return self.refresh()

    def remove(self, sources: Iterable[str]) -> SyncReport | None:
        """Take articles out of the index by source path (relative to the folder), article id or URL.

        The files are moved to ``<folder>/.removed/``, not deleted, so nothing is lost.
        """
        folder = self.settings.articles_dir
        snap = self.snapshot
        # an article from the web is named by its id or URL; its file is what moves
        by_name = {name: article_file(a) for a in snap.articles.values() for name in (a.id, a.source)}
        for src in sources:
            src = by_name.get(src, src)
            if "#" in src:
                raise QAError(f"'{src}' is one record of a JSON file; edit that file to remove it")
            rel = _inside(folder, src)
            path = folder / rel
            if not path.is_file():
                raise QAError(f"no article file '{src}' in '{folder}'")
            dest = folder / REMOVED_DIR / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.exists():
                dest = dest.with_name(f"{dest.stem}-{int(time.time())}{dest.suffix}")
            path.replace(dest)
        return self.refresh()

    # ------------------------------------------------------------ answering
    def search(self, question: str, k: int | None = None, *, since: str | None = None,
               until: str | None = None) -> list[Passage]:
        """The passages most likely to answer ``question``, best first (``since``/``until``: as :meth:`ask`)."""
        q = clean_question(question)
        retriever = self.retriever
        return retriever.search(q, k or self.settings.k, self._times(retriever, [q], since, until)[0])

    def ask(self, question: str, *, k: int | None = None, since: str | None = None,
            until: str | None = None) -> Answer:
        """Answer one question from the articles (``answer.text is None`` when they do not say).

        ``since``/``until`` (ISO dates ``YYYY-MM-DD``, inclusive, either may be left out) answer from the
        articles published in that range only; an article without a date is then left out. Without them, a
        time cue in the question (:mod:`qa.timecues`: "in March 2019", "last week", "latest") sets the range
        or prefers newer articles; a range the cue sets is dropped when no article lies in it (the question's
        year may be when something happened, not when it was reported), while the caller's range never is.
        The question the reader reads is the question as asked.
        """
        return self.ask_many([question], k=k, since=since, until=until)[0]

    def ask_many(self, questions: Sequence[str], *, k: int | None = None,
                 since: str | Sequence[str | None] | None = None,
                 until: str | Sequence[str | None] | None = None) -> list[Answer]:
        """Answer several questions, embedding and searching them in one batch. ``since``/``until`` (as in
        :meth:`ask`) is one date for all questions or a list with one per question (``None``: none)."""
        qs = [clean_question(q) for q in questions]
        k = k or self.settings.k
        retriever = self.retriever
        answerer = self.answerer
        if not qs:
            return []
        times = self._times(retriever, qs, since, until)
        t0 = time.perf_counter()
        # an answerer that re-ranks (the span reader) reads more passages than the k it returns
        passages = retriever.search_many(qs, passages_to_read(answerer, k), times=times)
        t1 = time.perf_counter()
        if len(qs) > 1:
            answers = answerer.answer_many(qs, passages)
        else:
            answers = [answerer.answer(qs[0], passages[0]) if passages[0] else no_answer(qs[0], passages[0])]
        answers = [_newest_answer(answerer, a, p) if t.prefer_recent else a
                   for a, p, t in zip(answers, passages, times, strict=True)]
        t2 = time.perf_counter()
        timings = {"retrieve_s": (t1 - t0) / len(qs), "read_s": (t2 - t1) / len(qs)}
        return [replace(a, passages=_top_passages(a, k), timings={**a.timings, **timings}, time_cue=t)
                for a, t in zip(answers, times, strict=True)]

    @staticmethod
    def _times(retriever: HybridRetriever, qs: Sequence[str], since: str | Sequence[str | None] | None,
               until: str | Sequence[str | None] | None) -> list[TimeCue]:
        """Each question's date range and recency preference: the caller's range where given, else its cue's."""
        sinces, untils = _per_question(since, len(qs), "since"), _per_question(until, len(qs), "until")
        newest = retriever.newest_date
        out = []
        for q, s, u in zip(qs, sinces, untils, strict=True):
            try:
                s, u = check_range(s, u)
            except ValueError as e:
                raise InvalidDateError(str(e)) from None
            cue = time_cue(q, newest)
            if s is not None or u is not None:
                cue = TimeCue(s, u, cue.prefer_recent, CALLER_RANGE)
            elif cue.filters:
                held = retriever.count_in_range(cue)
                if held == 0:
                    cue = replace(cue, dropped=True)
                elif held == retriever.count_in_range(NO_CUE):
                    # every article is in the range: it leaves nothing out, so there is nothing to tell
                    cue = TimeCue(prefer_recent=cue.prefer_recent)
            out.append(cue)
        return out


def _newest_answer(answerer: Answerer, answer: Answer, passages: Sequence[Passage]) -> Answer:
    """For a "latest" question: the answer of the newest article among the close candidates
    (:func:`qa.retrieval.close_candidates`) that answers it, when newer than the article ``answer`` cites.

    Retrieval already puts the close candidates newest first, but a reader that re-ranks by how well a span
    fits can still prefer an older article that words the fact more plainly; each newer close passage is read
    alone, newest first, and the first that the answerer answers from wins; so are the passages of the different
    answers other articles give (:attr:`Answer.alternatives`). Its passage leads the answer's
    passages; the others follow in their order. What the replaced answer said is kept
    (:func:`qa.answerers.agreement.fold`): its articles are cited too where they say the same, and it becomes
    the first alternative where it clearly differs.
    """
    if not answer.found or not answer.citations:
        return answer  # the articles do not say: no single passage is asked to say otherwise
    cited = answer.citations[0]
    # the passages of other articles' different answers are candidates too: each was read as close behind
    quoted = {(c.article_id, c.passage_start) for alt in answer.alternatives for c in alt.citations}
    candidates = {id(p): p for p in close_candidates(passages)}
    candidates.update({id(p): p for p in passages if (p.article_id, p.start) in quoted})
    for p in sorted(candidates.values(), key=lambda p: (p.date or "", p.score), reverse=True):
        if p.article_id == cited.article_id or (p.date or "") <= (cited.date or ""):
            break
        alt = answerer.answer(answer.question, [p])
        if alt.found:
            return replace(fold(alt, answer), passages=(p, *(o for o in passages if o is not p)),
                           timings=answer.timings)
    return answer


def _per_question(value: str | Sequence[str | None] | None, n: int, name: str) -> list[str | None]:
    if value is None or isinstance(value, str):
        return [value] * n
    values = list(value)
    if len(values) != n:
        raise InvalidDateError(f"{name} gives {len(values)} dates for {n} questions; give one date or one per question")
    return values


def _top_passages(answer: Answer, k: int) -> tuple[Passage, ...]:
    """The answer's first ``k`` passages, plus any further passage one of its citations quotes."""
    cited = {(c.article_id, c.passage_start) for c in answer.citations}
    return tuple(p for i, p in enumerate(answer.passages) if i < k or (p.article_id, p.start) in cited)


def _inside(folder: Path, source: str) -> Path:
    """``source`` as a path relative to ``folder``; raises when it leads outside (``..``, an absolute path,
    a linked folder), so that nothing from elsewhere is moved into the folder."""
    rel = Path(os.path.normpath(source))
    outside = OutsideFolderError(
        f"'{source}' is not inside the articles folder '{folder}'; only its articles can be removed"
    )
    if rel.is_absolute() or rel.parts[:1] == ("..",):
        raise outside
    try:
        (folder / rel).parent.resolve().relative_to(folder.resolve())
    except ValueError as e:
        raise outside from e
    return rel


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return False


_default: QA | None = None
_default_lock = threading.Lock()


def ask(question: str, *, k: int | None = None, since: str | None = None, until: str | None = None) -> Answer:
    """Answer ``question`` from the default articles folder (``seeds/``, or ``$QA_ARTICLES``).

        >>> from qa import ask
        >>> a = ask("Who slipped out of Venezuela last week?")
        >>> a.text, a.citations[0].title
    """
    global _default
    with _default_lock:
        if _default is None:
            _default = QA()
    return _default.ask(question, k=k, since=since, until=until)
