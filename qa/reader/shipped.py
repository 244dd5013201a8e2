"""The reader's shipped files: the weights folder and the settings calibrated for it.

    from qa.reader.shipped import weights_available, reader_config
    weights_available()          # config.json and model.safetensors installed in qa/reader/weights/
    reader_config()              # qa/reader/weights/reader_config.json ({} when missing)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from qa.config import WEIGHTS_DIR

READER_CONFIG = "reader_config.json"


def weights_available(weights_dir: str | os.PathLike | None = None) -> bool:
    """Whether the reader's weights are installed (config and safetensors file present)."""
    d = Path(weights_dir) if weights_dir else WEIGHTS_DIR
    return (d / "config.json").is_file() and (d / "model.safetensors").is_file()


def reader_config(weights_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """The settings written by training and calibration next to the weights (``{}`` when there are none)."""
    path = (Path(weights_dir) if weights_dir else WEIGHTS_DIR) / READER_CONFIG
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))
