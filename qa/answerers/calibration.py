"""The shipped calibration file (``qa/calibration.json``): one section per answerer that refuses.

    from qa.answerers.calibration import calibration_section
    calibration_section("sentence")      # {"threshold": ...} or None when it is missing or unreadable
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qa.config import CALIBRATION_FILE


def calibration_section(key: str, path: Path = CALIBRATION_FILE) -> dict[str, Any] | None:
    """The section ``key`` of the calibration file; ``None`` when the file or the section is missing or
    unreadable (the caller falls back to its defaults)."""
    try:
        section = json.loads(path.read_text())[key]
    except (OSError, KeyError, ValueError, TypeError):
        return None
    return section if isinstance(section, dict) else None
