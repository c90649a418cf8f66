"""The generated-image card: a triptych of the first readable image and the request and gate tables."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from medskills.core.models import Status
from medskills.synthesis.nv_generate.image_card import write_image_card
from medskills.synthesis.nv_generate.image_evidence import ImageKind, inspect_image, summarize_images

SPACING = (1.0, 1.0, 2.0)


def _volume(tmp_path: Path, array: np.ndarray, name: str = "v.nii.gz") -> Path:
    path = tmp_path / name
    nib.save(nib.Nifti1Image(array, np.diag([*SPACING, 1.0])), str(path))
    return path


def _mr() -> np.ndarray:
    return np.arange(8 * 8 * 4, dtype=np.int16).reshape(8, 8, 4)


def test_card_shows_a_triptych(tmp_path: Path) -> None:
    image = inspect_image(_volume(tmp_path, _mr()), kind=ImageKind.MR)
    output = summarize_images(tmp_path, [image], kind=ImageKind.MR)
    path, error = write_image_card(tmp_path, title="t", subtitle="s", status=Status.PASSED, output=output,
                                   request_rows=[["a", "b"]], gates=[])
    assert error is None and "data:image/png;base64" in path.read_text()
