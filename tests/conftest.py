"""Shared test fixtures: paths to the real scans in ../shared/data and a clean environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from collection_rules import shared_node_ids, slow_first

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MEDSKILLS_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")).resolve()
SHARED_UPSTREAMS = REPO_ROOT.parent / "shared" / "upstreams"
REAL_CTMR_BUNDLE = SHARED_UPSTREAMS / "NV-Segment-CTMR" / "NV-Segment-CTMR"

os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse tests that share a node id (pytest-xdist would run one of them); start slow tests first."""
    shared = shared_node_ids(items)
    if shared:
        raise pytest.UsageError(f"these node ids are held by more than one test, give each its own id: {shared}")
    items[:] = slow_first(items)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real scans folder; tests that need it skip with a clear reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real scans not found at {SHARED_DATA}; put ../shared/data beside the checkout "
                    "or set MEDSKILLS_SHARED_DATA")
    return SHARED_DATA


@pytest.fixture(scope="session")
def real_ctmr_bundle() -> Path:
    """The unmodified NV-Segment-CTMR bundle root of ../shared/upstreams (read only; copy it to change it)."""
    if not (REAL_CTMR_BUNDLE / "configs" / "inference.json").is_file():
        pytest.skip(f"real NV-Segment-CTMR snapshot not found at {REAL_CTMR_BUNDLE}; put ../shared beside the "
                    "checkout")
    return REAL_CTMR_BUNDLE


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the developer's upstream roots and caches out of tests."""
    for name in ("NV_GENERATE_ROOT", "NV_SEGMENT_CTMR_ROOT", "MONAI_DATA_DIRECTORY", "MEDSKILLS_ALLOW_NO_GPU"):
        monkeypatch.delenv(name, raising=False)
    cache = tmp_path_factory.getbasetemp() / "medskills-cache"
    monkeypatch.setenv("MEDSKILLS_WEIGHT_HASH_CACHE", str(cache / "sha256_cache.json"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
