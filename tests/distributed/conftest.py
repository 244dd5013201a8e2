"""A local Ray cluster (2 CPUs, small object store) per test module, and a small corpus with facts.

Without Ray installed these tests skip, except under ``QA_REQUIRE_RAY=1`` (set by ``.ci/run``), where
they fail: CI installs the [ray] extra (``make test``) and must run them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ..conftest import write_articles

OBJECT_STORE_BYTES = 200 * 1024 * 1024

#: (town, mayor, export, year founded, lake, festival): each fact appears in exactly one article.
TOWNS = [
    ("Marrowdale", "Elsa Brandt", "copper", 1887, "Lake Senn", "the Lantern Walk"),
    ("Quillfort", "Tomas Okafor", "salt", 1902, "Lake Varro", "the Kite Regatta"),
    ("Brinmoor", "Ada Lindqvist", "timber", 1851, "Lake Ostra", "the Cheese Fair"),
    ("Ketterby", "Ravi Menon", "wool", 1799, "Lake Hallin", "the Bell Parade"),
    ("Solenne", "Maud Ferreira", "olive oil", 1923, "Lake Pell", "the Night Market"),
    ("Carrow Ness", "Ilya Petrov", "granite", 1866, "Lake Dunmere", "the Boat Blessing"),
    ("Westerholt", "Grace Achebe", "barley", 1810, "Lake Ivel", "the Harvest Run"),
    ("Pennick", "Jonas Weber", "tin", 1894, "Lake Corran", "the Fire Dance"),
]


def town_article(town: str, mayor: str, export: str, year: int, lake: str, festival: str) -> str:
    """A news-style article of two chunks (default chunking) about one made-up town."""
    return (
        f"{town} elects a new mayor\n\n"
        f"{mayor} was elected mayor of {town} on Sunday after a campaign that focused on the town's ageing "
        f"harbour, its schools and the price of housing. Turnout was the highest in two decades, officials "
        f"said, and the count finished shortly before midnight. {mayor} thanked volunteers who had knocked on "
        f"doors in every district, and promised to publish the council's accounts every month.\n\n"
        f"{town} was founded in {year} by families who came to work in the {export} trade. For more than a "
        f"century {export} was shipped from its quays to the rest of the country, and the old warehouses on "
        f"the waterfront still carry the names of the merchants who built them. Today the town exports "
        f"{export} mainly by rail, and the harbour is used by fishing boats and pleasure craft.\n\n"
        f"The town sits on the northern shore of {lake}, which freezes in most winters. Residents skate on "
        f"the ice when it is thick enough, and the council measures it every morning in January. Scientists "
        f"from the regional university have warned that the winters are getting shorter and the ice thinner.\n\n"
        f"Every summer {town} holds {festival}, which draws visitors from across the region. Last year more "
        f"than forty thousand people attended, filling every hotel room within twenty miles. The new mayor "
        f"said the festival would continue, but that its budget would be reviewed along with every other "
        f"line of spending, and that local businesses would be asked to contribute more of the cost.\n"
    )


def write_corpus(folder: Path, towns=TOWNS) -> Path:
    return write_articles(folder, {f"{t[0].lower().replace(' ', '_')}.txt": town_article(*t) for t in towns})


@pytest.fixture(scope="session")
def ray_module():
    """The ``ray`` module; skips (fails under ``QA_REQUIRE_RAY=1``) when it is not installed."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as e:
        if os.environ.get("QA_REQUIRE_RAY") == "1":
            pytest.fail(f"QA_REQUIRE_RAY=1 but Ray is not installed ({e}); run: pip install -e '.[ray]'")
        pytest.skip("Ray is not installed (pip install -e '.[ray]')")
    return ray


@pytest.fixture(scope="module")
def ray_cluster(ray_module):
    """A fresh local Ray cluster for the module (never an existing one), shut down afterwards."""
    ray = ray_module
    if ray.is_initialized():
        ray.shutdown()
    ray.init(address="local", num_cpus=2, object_store_memory=OBJECT_STORE_BYTES, include_dashboard=False,
             log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write_corpus(tmp_path / "articles")


@pytest.fixture(scope="module")
def local_index(tmp_path_factory, embedder):
    """The corpus indexed on one machine (the reference the Ray path must reproduce)."""
    from qa import QA

    base = tmp_path_factory.mktemp("local")
    write_corpus(base / "articles")
    qa = QA(base / "articles", base / "index", embedder=embedder)
    qa.refresh()
    return qa


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
