"""Average the weights of readers fine-tuned from the same start (a uniform "model soup").

Wortsman et al. (2022), *Model soups: averaging weights of multiple fine-tuned models improves
accuracy without increasing inference time*. Two stage-2 readers continued from the same stage-1
weights on different data sit in one basin; their average keeps most of what each learnt at the cost
of one model. The reader shipped from 2026-11-29 to 2026-12-02 was such an average; the one shipped
since is a single run, which refused more deleted-answer questions than its average with stage 2
(see ``MODEL_CARD.md``)::

    python -m training.soup --out /tmp/soup /tmp/stage2/export /tmp/stage2-cut/export
    python -m training.evaluate --weights /tmp/soup --calibrate --news   # re-fit the null threshold and confidence

The tokenizer, model config and ``reader_config.json`` are copied from the first folder; the
calibration in ``reader_config.json`` belongs to that folder's model until re-fitted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

WEIGHTS_FILE = "model.safetensors"


def average_weights(sources: Sequence[str | os.PathLike], out: str | os.PathLike) -> Path:
    """Write the element-wise mean of the ``model.safetensors`` in ``sources`` to ``out`` (in the first
    source's dtype), with the first source's other files. Raises ``ValueError`` unless every source
    holds the same tensors with the same shapes.

    >>> average_weights(["/tmp/a/export", "/tmp/b/export"], "/tmp/soup")  # doctest: +SKIP
    PosixPath('/tmp/soup')
    """
    from safetensors.torch import load_file, save_file

    if not sources:
        raise ValueError("no weights folders to average")
    dirs = [Path(s) for s in sources]
    for d in dirs:
        if not (d / WEIGHTS_FILE).is_file():
            raise ValueError(f"{d} holds no {WEIGHTS_FILE}; pass reader weights folders (an export dir)")
    states = [load_file(str(d / WEIGHTS_FILE)) for d in dirs]
    first = states[0]
    for d, state in zip(dirs[1:], states[1:]):
        if state.keys() != first.keys() or any(state[k].shape != first[k].shape for k in first):
            raise ValueError(f"{d} is not the same network as {dirs[0]}: their tensors differ")
    mean = {k: _mean([s[k] for s in states]).to(first[k].dtype).contiguous() for k in first}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for f in dirs[0].iterdir():
        if f.is_file() and f.name != WEIGHTS_FILE and (out / f.name).resolve() != f.resolve():
            shutil.copy2(f, out / f.name)
    tmp = out / (WEIGHTS_FILE + ".tmp")
    save_file(mean, str(tmp), metadata={"format": "pt"})
    os.replace(tmp, out / WEIGHTS_FILE)  # the old weights stay whole until the new ones are
    return out


def _mean(tensors):
    """The element-wise mean, summed in float64."""
    total = tensors[0].double()
    for t in tensors[1:]:
        total = total + t.double()
    return total / len(tensors)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sources", nargs="+", help="reader weights folders fine-tuned from the same start")
    ap.add_argument("--out", required=True, help="folder for the averaged reader (may be one of the sources)")
    args = ap.parse_args(argv)
    try:
        out = average_weights(args.sources, args.out)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"averaged {len(args.sources)} readers into {out}; re-fit its calibration with "
          f"python -m training.evaluate --weights {out} --calibrate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
