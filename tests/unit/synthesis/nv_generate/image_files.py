"""Small generated-image files for the image evidence and image card tests."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

SPACING = (1.0, 1.0, 2.0)


def write_volume(tmp_path: Path, array: np.ndarray, name: str = "v.nii.gz") -> Path:
    """``array`` saved as NIfTI with :data:`SPACING` (mm) on the diagonal of its affine."""
    path = tmp_path / name
    nib.save(nib.Nifti1Image(array, np.diag([*SPACING, 1.0])), str(path))
    return path


def mr_array() -> np.ndarray:
    """A small int16 ramp, as a generated MR image would be stored."""
    return np.arange(8 * 8 * 4, dtype=np.int16).reshape(8, 8, 4)
