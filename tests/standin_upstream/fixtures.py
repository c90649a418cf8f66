"""Pytest fixtures for the stand-in upstream; import them into a ``conftest.py`` to use them.

    from standin_upstream.fixtures import nv_generate_standin  # noqa: F401
"""

from __future__ import annotations

from pathlib import Path

import pytest

from standin_upstream import StandinRoot, build_nv_generate_root


@pytest.fixture
def nv_generate_standin(tmp_path: Path, shared_data: Path) -> StandinRoot:
    """A healthy stand-in NV-Generate-CTMR root with weights and datasets (behaviour switchable)."""
    return build_nv_generate_root(tmp_path, scan_dir=shared_data / "ct_abdomen_3mm")
