"""Fixtures over the real scans, shared by the unit and integration verifier tests via their conftest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from unit.verification.run_builders import load_nifti


@pytest.fixture(scope="session")
def abdomen(shared_data: Path) -> dict[str, Path]:
    """The ct_abdomen_3mm CT and its TotalSegmentator ``total`` reference."""
    folder = shared_data / "ct_abdomen_3mm"
    return {"image": folder / "image.nii.gz", "reference": folder / "reference_totalsegmentator.nii.gz"}


@pytest.fixture(scope="session")
def reference_map(abdomen: dict[str, Path]) -> tuple[np.ndarray, np.ndarray]:
    """The TotalSegmentator ``total`` map of ct_abdomen_3mm and its affine (3 mm isotropic)."""
    return load_nifti(abdomen["reference"])
