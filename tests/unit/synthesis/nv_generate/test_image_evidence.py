"""Image evidence: one read per file, unreadable files recorded, spacing compared at six decimals."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from medskills.synthesis.nv_generate.image_evidence import ImageKind, inspect_image

SPACING = (1.0, 1.0, 2.0)


def _volume(tmp_path: Path, array: np.ndarray, name: str = "v.nii.gz") -> Path:
    path = tmp_path / name
    nib.save(nib.Nifti1Image(array, np.diag([*SPACING, 1.0])), str(path))
    return path


def _mr() -> np.ndarray:
    return np.arange(8 * 8 * 4, dtype=np.int16).reshape(8, 8, 4)


def test_unreadable_file_is_recorded_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "broken.nii.gz"
    path.write_bytes(b"junk")
    image = inspect_image(path, kind=ImageKind.CT)
    assert not image.is_readable and image.error and image.sha256


def test_spacing_match_uses_six_decimals(tmp_path: Path) -> None:
    image = inspect_image(_volume(tmp_path, _mr()), kind=ImageKind.MR, requested_spacing_mm=(1.0000001, 1.0, 2.0))
    assert image.is_spacing_match_requested
    other = inspect_image(_volume(tmp_path, _mr(), "b.nii.gz"), kind=ImageKind.MR, requested_spacing_mm=(1.01, 1, 2))
    assert other.is_spacing_match_requested is False
