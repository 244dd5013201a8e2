"""The vector index: one class, :class:`VectorIndex`, holds the FAISS structure that searches the chunk
vectors (exact below a size threshold, approximate above), keyed by chunk id.

    from qa.store.vectors import VectorIndex, VectorIndexSettings, plan_layout, train_layout
    vs = VectorIndexSettings()                          # exact (flat) below 100,000 vectors, IVF above
    plan = plan_layout(n_vectors, current_layout, vs)   # None: keep the current structure
    layout, trained = train_layout(plan.kind, n_vectors, sample, dim)
    index = VectorIndex.build(layout, trained, dim, batches, vs)   # batches: (ids, vectors) pairs
    scores, ids = index.search(queries, 10)

Kinds: ``flat`` (exact inner product), ``ivf-flat`` (inverted file over full vectors, recall@10 >= 0.95
at the default ``nprobe``) and, for very large indexes, ``ivf-sq8`` (inverted file over 8-bit scalar
quantised vectors: a quarter of the memory). The vectors themselves are kept by the index's segments,
so a structure is trained on a sample and filled when the index is loaded; changing it never needs the
embedder. It is retrained when the number of vectors grew or shrank ``retrain_growth``-fold since it
was trained, so an index that grows by small updates is retrained only a logarithmic number of times.
FAISS itself is imported only where an index is built or searched.
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

    Why 100,000: exact search time grows with the number of vectors while an IVF visiting a third of its
    lists stays nearly flat at recall@10 above 0.95; the IVF pays off only where exact search starts to
    cost a noticeable share of an answer, from about 100k vectors. Why 1,000,000 for 8-bit codes: float32
    vectors take 1.5 KiB each (1.5 GiB a million); SQ8 takes a quarter of that for a little less recall
    (measurements: bench/RESULTS.md, large index).
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
    """Lists visited per query: a third of them, at least 32. Fewer lists (a quarter, a sixteenth) lost
    recall against exact search on real chunk vectors (bench/RESULTS.md, large index)."""
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


class VectorIndex:
    """A searchable FAISS index of chunk vectors: search results carry chunk ids, and
    :meth:`reconstruct` returns a chunk's vector by id (decoded from 8-bit codes for ``ivf-sq8``).

    A loaded index is never modified: :meth:`updated` returns a copy with vectors removed and added, so
    readers still searching the previous one are not disturbed. ``faiss`` is the FAISS object itself,
    for benchmarks that measure it.
    """

    def __init__(self, faiss_index: Any, layout: VectorLayout | None = None) -> None:
        self.faiss = faiss_index
        self.layout = layout or VectorLayout(trained_on=int(faiss_index.ntotal))

    @classmethod
    def build(cls, layout: VectorLayout, trained: Any, dim: int, batches: Iterable[tuple[np.ndarray, np.ndarray]],
              vs: VectorIndexSettings | None = None) -> VectorIndex:
        """An index holding ``batches`` of (chunk ids, vectors); ``trained`` is the empty trained FAISS index
        of an approximate layout (``None`` for ``flat``)."""
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
            ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]  # reconstruct(chunk id) works as on the flat index
        built = cls(index, layout)
        built._add(batches)
        return built

    def _add(self, batches: Iterable[tuple[np.ndarray, np.ndarray]]) -> None:
        for ids, vectors in batches:
            if len(ids):
                self.faiss.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                        np.ascontiguousarray(ids, dtype=np.int64))

    def updated(self, remove: np.ndarray, add: Iterable[tuple[np.ndarray, np.ndarray]]) -> VectorIndex:
        """A copy without the vectors of chunk ids ``remove``, plus ``add`` (batches of ids and vectors)."""
        import faiss

        copy = VectorIndex(faiss.clone_index(self.faiss), self.layout)
        if len(remove):
            copy.faiss.remove_ids(np.ascontiguousarray(remove, dtype=np.int64))
        copy._add(add)
        return copy

    def __len__(self) -> int:
        return int(self.faiss.ntotal)

    @property
    def dim(self) -> int:
        return int(self.faiss.d)

    def search(self, queries: np.ndarray, k: int, ids: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Scores (inner products) and chunk ids of the ``k`` nearest vectors of each query (id -1: none).

        ``ids``, when given, restricts the search to those chunk ids (a FAISS ID selector, so the ``k``
        nearest among them are found, not the ``k`` nearest overall thinned out). On an approximate index
        the lists probed may hold fewer than ``k`` of them (a narrow date range): the search is then made
        again visiting every list, so a restricted search finds ``min(k, len(ids))`` vectors like an exact one.
        """
        if ids is None:
            return self.faiss.search(queries, k)
        import faiss

        selector = faiss.IDSelectorBatch(np.ascontiguousarray(ids, dtype=np.int64))
        ivf = faiss.try_extract_index_ivf(self.faiss) if not isinstance(self.faiss, faiss.IndexIDMap2) else None
        params: Any = faiss.SearchParametersIVF() if ivf is not None else faiss.SearchParameters()
        params.sel = selector  # ``selector`` stays referenced here while FAISS searches with it
        if ivf is None:
            return self.faiss.search(queries, k, params=params)
        params.nprobe = int(ivf.nprobe)  # the parameters replace the index's own nprobe (default 1)
        scores, found = self.faiss.search(queries, k, params=params)
        if params.nprobe < ivf.nlist and (found >= 0).sum(axis=1).min() < min(k, len(ids)):
            params.nprobe = int(ivf.nlist)
            scores, found = self.faiss.search(queries, k, params=params)
        return scores, found

    def reconstruct(self, chunk_id: int) -> np.ndarray:
        return self.faiss.reconstruct(int(chunk_id))

    def flat_contents(self) -> tuple[np.ndarray, np.ndarray]:
        """The chunk ids and vectors of an exact (``IndexIDMap2``) index, in insertion order."""
        import faiss

        return faiss.vector_to_array(self.faiss.id_map).astype(np.int64), self.faiss.index.reconstruct_n(0, len(self))

    def memory_bytes(self) -> int:
        """Bytes the index occupies (its serialised size, which is what it holds in memory)."""
        return index_memory_bytes(self.faiss)

    def describe(self) -> str:
        """``flat (exact)`` or an ``IndexIVFFlat (nlist 744, nprobe 46)``-style description."""
        return describe(self.faiss)


def serialize(trained: Any) -> bytes:
    """A trained FAISS structure as the bytes of its file."""
    import faiss

    return faiss.serialize_index(trained).tobytes()


def read_trained(path: str) -> Any:
    """A trained FAISS structure from its file."""
    import faiss

    return faiss.read_index(path)


def index_memory_bytes(index: Any) -> int:
    """Bytes a FAISS index occupies (its serialised size, which is what it holds in memory)."""
    import faiss

    return int(faiss.serialize_index(index).nbytes)


def describe(index: Any) -> str:
    """``flat (exact)`` or ``IndexIVFFlat (nlist 744, nprobe 46)``-style description of a FAISS index."""
    import faiss

    ivf = faiss.try_extract_index_ivf(index) if not isinstance(index, faiss.IndexIDMap2) else None
    if ivf is None:
        return "flat (exact)"
    return f"{type(index).__name__} (nlist {ivf.nlist}, nprobe {ivf.nprobe})"
