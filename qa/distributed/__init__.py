"""Scale out on a Ray cluster: chunk and embed articles, and answer question files, on many workers.

    from qa.distributed import connect
    from qa.distributed.encoder import RayChunkEncoder
    connect()                                    # a running cluster ($RAY_ADDRESS), else a local one
    qa = QA("archive", "archive-index", encoder=RayChunkEncoder(Settings()))
    qa.refresh()                                 # new and changed articles are embedded on the cluster

or from the command line: ``qa index --ray [ADDRESS]`` and ``qa batch IN -o OUT --ray [ADDRESS]``.

Ray is an optional extra (``pip install '.[ray]'``). Nothing outside this package imports it, and this
module imports it only inside :func:`require_ray`, so the single-machine path never loads it.
"""

from __future__ import annotations

import os
from typing import Any

from qa.errors import QAError

RAY_MISSING = ("--ray needs Ray, which is not installed; install the extra with "
               "pip install 'article-qa[ray]' (in a checkout: pip install -e '.[ray]')")


def require_ray():
    """The ``ray`` module, or a :class:`QAError` saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401  (the [data] extra: pyarrow)
    except ImportError as e:
        raise QAError(RAY_MISSING) from e
    return ray


def connect(address: str | None = None, **init_kwargs: Any):
    """Join the Ray cluster at ``address`` (e.g. ``ray://head:10001`` or ``auto``); without one, a running
    cluster named by ``$RAY_ADDRESS`` or started on this machine, else a new local one. Returns ``ray``.

    Does nothing when this process is already connected.
    """
    ray = require_ray()
    if not ray.is_initialized():
        try:
            ray.init(address=address or None, log_to_driver=False, **init_kwargs)
        except ConnectionError as e:
            raise QAError(f"cannot reach the Ray cluster at '{address}' ({e}); start it with 'ray start --head' "
                          "or pass its address to --ray") from e
    return ray


#: How often a dead worker is restarted (and its batch rerun) before a job gives up.
DEFAULT_RETRIES = 3


def pool_size(ray, workers: int | None, cpus_per_worker: int, jobs: int) -> int:
    """Workers for ``jobs`` batches: ``workers`` if given, else one per ``cpus_per_worker`` CPUs of the
    cluster; never more than there are batches, never fewer than one."""
    n = workers or max(1, int(ray.cluster_resources().get("CPU", 1)) // cpus_per_worker)
    return max(1, min(n, jobs))


def limit_threads(n: int) -> None:
    """Make this (worker) process use ``n`` CPU threads for embedding and reading, so that several
    workers on one machine do not oversubscribe its cores. Call before the models are loaded."""
    n = max(1, int(n))
    for var in ("QA_BULK_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    os.environ.setdefault("QA_QUERY_THREADS", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(n)
