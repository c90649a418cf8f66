"""Pytest fixtures for the stand-in upstream; import them into a ``conftest.py`` to use them.

    from standin_upstream.fixtures import nv_generate_standin  # noqa: F401
"""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path

import pytest

from standin_upstream import StandinRoot, build_nv_generate_root

DiskUsage = namedtuple("DiskUsage", "total used free")


def pretend_room_to_extract_masks(patch: pytest.MonkeyPatch) -> None:
    """Make the CT preflight see 100 GB free where upstream would unpack the mask archive (~14 GB).

    Tests of path B without extracted masks are about upstream's path, not this machine's disk; the
    test of the space check itself sets its own numbers.
    """
    from medskills.synthesis.paired_ct import preflight

    patch.setattr(preflight.shutil, "disk_usage", lambda _path: DiskUsage(200e9, 100e9, 100e9))


@pytest.fixture
def nv_generate_standin(tmp_path: Path, shared_data: Path) -> StandinRoot:
    """A healthy stand-in NV-Generate-CTMR root with weights and datasets (behaviour switchable)."""
    return build_nv_generate_root(tmp_path, scan_dir=shared_data / "ct_abdomen_3mm")
