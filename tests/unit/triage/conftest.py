"""Fixtures for the triage model tests (tiny members are built by ``triage_models_support``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread() -> None:
    """Tiny networks run fastest, and fairest to the other jobs on the machine, on one thread."""
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(1)


@pytest.fixture
def tmp_pack_root(tmp_path: Path) -> Path:
    """An empty directory to build a pack in."""
    root = tmp_path / "pack"
    root.mkdir()
    return root
