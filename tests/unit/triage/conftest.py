"""Tiny, randomly initialised members saved in their published key layouts, and pack builders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from triage_models_support.builders import (
    build_tiny_astra_weights,
    generated_feature_table,
    synthetic_volume,
    write_pack,
)

__all__ = ["build_tiny_astra_weights", "generated_feature_table", "synthetic_volume", "write_pack"]


@pytest.fixture(autouse=True)
def _one_torch_thread() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)


@pytest.fixture
def volume_factory() -> Callable[..., object]:
    return synthetic_volume


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def tmp_pack_root(tmp_path: Path) -> Path:
    root = tmp_path / "pack"
    root.mkdir()
    return root
