from __future__ import annotations

import pytest

from qa.store.vectors import VectorIndexSettings, VectorLayout, default_nprobe, desired_kind, nlist_for, plan_layout


def test_exact_below_the_threshold_ivf_above_compressed_for_very_large():
    vs = VectorIndexSettings(approximate_from=1000, compressed_from=100_000)
    assert desired_kind(999, "flat", vs) == "flat"
    assert desired_kind(1000, "flat", vs) == "ivf-flat"
    assert desired_kind(100_000, "ivf-flat", vs) == "ivf-sq8"


def test_hysteresis_keeps_a_structure_near_the_threshold():
    vs = VectorIndexSettings(approximate_from=1000, compressed_from=100_000)
    assert desired_kind(600, "ivf-flat", vs) == "ivf-flat"  # a few removals do not flip it back
    assert desired_kind(499, "ivf-flat", vs) == "flat"
    assert desired_kind(60_000, "ivf-sq8", vs) == "ivf-sq8"


def test_retrained_only_after_the_size_changed_several_fold():
    vs = VectorIndexSettings(approximate_from=1000, retrain_growth=4.0)
    trained = VectorLayout("ivf-flat", nlist=126, trained_on=1000, trained_file="ivf-gen-000001.faiss")
    assert plan_layout(3900, trained, vs) is None
    plan = plan_layout(4100, trained, vs)
    assert plan is not None and plan.kind == "ivf-flat" and "retraining" in plan.reason
    assert plan_layout(600, trained, vs) is None
    assert plan_layout(400, trained, vs).kind == "flat"
    assert plan_layout(10, VectorLayout(), vs) is None  # small and exact: nothing to train


def test_nprobe_default_and_layout_round_trip():
    assert nlist_for(10_000) == 400 and default_nprobe(400) == 133 and default_nprobe(60) == 32
    assert default_nprobe(20) == 20
    layout = VectorLayout("ivf-sq8", nlist=4000, trained_on=1_000_000, trained_file="ivf-gen-000007.faiss")
    assert VectorLayout.from_dict(layout.to_dict()) == layout
    assert VectorLayout.from_dict(None) == VectorLayout()
    with pytest.raises(ValueError, match="unknown vector index kind"):
        VectorLayout.from_dict({"kind": "hnsw"})
    with pytest.raises(ValueError, match="nprobe"):
        VectorIndexSettings(nprobe=0)
