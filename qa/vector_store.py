"""Which FAISS structure searches the chunk vectors: exact below a size threshold, approximate above.

    from qa.vector_store import VectorIndexSettings, plan_layout, train_layout, build_index
    vs = VectorIndexSettings()                          # exact (flat) below 100,000 vectors, IVF above
    plan = plan_layout(n_vectors, current_layout, vs)   # None: keep the current structure
    layout, trained = train_layout(plan.kind, sample, dim)
    index = build_index(layout, trained, dim, batches, vs)   # batches: (ids, vectors) pairs
    index.search(queries, 10)

Kinds: ``flat`` (exact inner product), ``ivf-flat`` (inverted file over full vectors, recall@10 >= 0.95
at the default ``nprobe``) and, for very large indexes, ``ivf-sq8`` (inverted file over 8-bit scalar
quantised vectors: a quarter of the memory). The vectors themselves are kept by the index's segments,
so a structure is trained on a sample and filled when the index is loaded; changing it never needs the
embedder. It is retrained when the number of vectors grew or shrank ``retrain_growth``-fold since it
was trained, so an index that grows by small updates is retrained only a logarithmic number of times.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

KINDS = ("flat", "ivf-flat", "ivf-sq8")
APPROXIMATE = ("ivf-flat", "ivf-sq8")


@dataclass(frozen=True)
class VectorIndexSettings:
    """When the index turns approximate, and how hard the approximate search looks.

    ``approximate_from``: vectors from which an IVF structure replaces exact search (it goes back to
    exact below half of it); ``compressed_from``: vectors from which the IVF stores 8-bit codes instead
    of float32 vectors; ``nprobe``: inverted lists visited per query (``None``: :func:`default_nprobe`);
    ``retrain_growth``: retrain once the vector count changed this many times since training;
    ``points_per_list``: training sample size per inverted list.

    Why 100,000: on the development machine (quiet) exact search takes 3.8 ms a query over the 34.5k real
    BBC + Reuters vectors and 10 ms over 104k, against ~150 ms for the rest of ``ask()``; an IVF
    visiting a third of its lists takes 1.4-3.3 ms at recall@10 0.97-0.98, so it pays off only from about
    100k vectors, where exact search starts to cost a noticeable share of an answer. Why 1,000,000 for 8-bit codes: float32 vectors take 1.5 KiB each (1.5 GiB a
    million); SQ8 takes a quarter of that for about 0.01 less recall (bench/RESULTS.md).
    """

    approximate_from: int = 100_000
    compressed_from: int = 1_000_000
    nprobe: int | None = None
    retrain_growth: float = 4.0
    points_per_list: int = 40

    def __post_init__(self) -> None:
        if self.approximate_from < 1 or self.compressed_from < 1:
            raise ValueError("approximate_from and compressed_from must be at least 1")
        if self.nprobe is not None and self.nprobe < 1:
            raise ValueError("nprobe must be at least 1")
        if self.retrain_growth <= 1:
            raise ValueError("retrain_growth must be greater than 1")


@dataclass(frozen=True)
class VectorLayout:
    """The structure an index generation uses, as recorded in its manifest (``vector_index``)."""

    kind: str = "flat"
    nlist: int = 0
    trained_on: int = 0
    trained_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> VectorLayout:
        if not d:
            return cls()
        if d.get("kind") not in KINDS:
            raise ValueError(f"unknown vector index kind {d.get('kind')!r}")
        return cls(kind=d["kind"], nlist=int(d.get("nlist", 0)), trained_on=int(d.get("trained_on", 0)),
                   trained_file=d.get("trained_file"))


@dataclass(frozen=True)
class LayoutPlan:
    """A structure to switch to, and why."""

    kind: str
    reason: str


def nlist_for(n: int) -> int:
    """Inverted lists for ``n`` vectors: about 4 * sqrt(n) (FAISS's rule of thumb), at least 8."""
    return max(8, int(round(4 * math.sqrt(max(n, 1)))))


def default_nprobe(nlist: int) -> int:
    """Lists visited per query: a third of them, at least 32. Measured with 1,000 SQuAD questions over
    the 34.5k real BBC + Reuters chunk vectors (and 104k with perturbed copies): recall@10 0.969 / 0.978
    and recall@50 0.964 / 0.973 against exact search; visiting 1/16 gave only 0.83 / 0.87 on the real
    vectors, 1/4 gave 0.953 / 0.963 (bench/RESULTS.md, large index)."""
    return min(nlist, max(32, nlist // 3))


def desired_kind(n: int, current: str, vs: VectorIndexSettings) -> str:
    """The kind for ``n`` vectors, with hysteresis (an approximate index turns exact below half the threshold)."""
    approximate = n >= vs.approximate_from or (current in APPROXIMATE and n >= vs.approximate_from // 2)
    if not approximate:
        return "flat"
    compressed = n >= vs.compressed_from or (current == "ivf-sq8" and n >= vs.compressed_from // 2)
    return "ivf-sq8" if compressed else "ivf-flat"


def plan_layout(n: int, current: VectorLayout, vs: VectorIndexSettings) -> LayoutPlan | None:
    """What to train for an index of ``n`` vectors now using ``current``; ``None``: keep it as it is."""
    kind = desired_kind(n, current.kind, vs)
    if kind != current.kind:
        return LayoutPlan(kind, f"{n} vectors: {current.kind} -> {kind}")
    if kind in APPROXIMATE:
        trained = max(current.trained_on, 1)
        if n > trained * vs.retrain_growth or n * vs.retrain_growth < trained:
            return LayoutPlan(kind, f"{n} vectors, trained on {current.trained_on}: retraining {kind}")
    return None


def training_size(n: int, vs: VectorIndexSettings) -> int:
    """How many vectors to train an IVF of ``n`` vectors on."""
    return min(n, nlist_for(n) * vs.points_per_list)


def _factory(kind: str, nlist: int) -> str:
    return {"ivf-flat": f"IVF{nlist},Flat", "ivf-sq8": f"IVF{nlist},SQ8"}[kind]


def train_layout(kind: str, n: int, sample: np.ndarray, dim: int) -> tuple[VectorLayout, Any]:
    """Train ``kind`` for an index of ``n`` vectors on ``sample``: the layout and the empty trained index
    (``None`` for ``flat``, which needs no training)."""
    import faiss

    if kind == "flat":
        return VectorLayout("flat", trained_on=n), None
    nlist = max(1, min(nlist_for(n), len(sample) // 39))  # FAISS wants >= 39 training points per list
    index = faiss.index_factory(dim, _factory(kind, nlist), faiss.METRIC_INNER_PRODUCT)
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    return VectorLayout(kind, nlist=nlist, trained_on=n), index


def build_index(layout: VectorLayout, trained: Any, dim: int, batches: Iterable[tuple[np.ndarray, np.ndarray]],
                vs: VectorIndexSettings | None = None) -> Any:
    """A searchable FAISS index holding ``batches`` of (chunk ids, vectors); ``trained`` is the empty
    trained index of an approximate layout. Search results carry the chunk ids, and ``reconstruct(chunk id)``
    returns a chunk's vector (decoded from 8-bit codes for ``ivf-sq8``)."""
    import faiss

    vs = vs or VectorIndexSettings()
    if layout.kind == "flat":
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    else:
        if trained is None:
            raise ValueError(f"a {layout.kind} index needs its trained structure")
        index = trained
        ivf = faiss.extract_index_ivf(index)
        ivf.nprobe = min(layout.nlist, vs.nprobe or default_nprobe(layout.nlist))
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct(chunk id) works as on the flat index
    for ids, vectors in batches:
        if len(ids):
            index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.ascontiguousarray(ids, dtype=np.int64))
    return index


def index_memory_bytes(index: Any) -> int:
    """Bytes the index occupies (its serialised size, which is what it holds in memory)."""
    import faiss

    return int(faiss.serialize_index(index).nbytes)


def describe(index: Any) -> str:
    """``flat`` or ``ivf-flat (nlist 744, nprobe 46)``-style description of a built index."""
    import faiss

    ivf = faiss.try_extract_index_ivf(index) if not isinstance(index, faiss.IndexIDMap2) else None
    if ivf is None:
        return "flat (exact)"
    return f"{type(index).__name__} (nlist {ivf.nlist}, nprobe {ivf.nprobe})"
