"""Errors that carry a message meant for a person: what went wrong and what to do."""

from __future__ import annotations


class QAError(Exception):
    """Base class; the CLI prints ``str(error)`` as a one-line message and exits non-zero."""


class ArticlesNotFoundError(QAError):
    """The articles folder is missing or holds no readable article."""


class IndexBusyError(QAError):
    """Another process is writing the index."""


class IndexUnusableError(QAError):
    """The index on disk cannot be used (corrupt, incompatible)."""


class InvalidQuestionError(QAError):
    """The question is empty or otherwise unusable."""


class IndexLocationError(QAError):
    """The index folder cannot be used where it is (a file stands there, or it lies inside the articles folder)."""


class OutsideFolderError(QAError):
    """A path names a file outside the articles folder."""


class InvalidDateError(QAError, ValueError):
    """A ``since``/``until`` date is not an ISO date (``YYYY-MM-DD``), or the range is empty."""


class InvalidSettingError(QAError, ValueError):
    """A setting (an argument or an environment variable) names something that does not exist."""
