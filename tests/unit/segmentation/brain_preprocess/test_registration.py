"""Affine registration and resampling (SimpleITK): a known world shift is found in RAS, with the right sign."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medskills.segmentation.brain_preprocess.models import BrainPreprocessParameters
from medskills.segmentation.brain_preprocess.registration import (
    register_to_template,
    resample_isotropic,
    resample_to_template,
    write_transform,
)

pytest.importorskip("SimpleITK", reason="pip install 'medskills[brain]'")

_SHIFT_RAS_MM = np.array([3.0, -2.0, 1.5])


def _blob(shape: tuple[int, int, int] = (40, 40, 40)) -> np.ndarray:
    """An off-centre ellipsoid with an intensity ramp: no symmetry that could hide a sign error."""
    grid = np.stack(np.meshgrid(*(np.arange(n, dtype=np.float32) for n in shape), indexing="ij"))
    centre = np.array([18.0, 21.0, 19.0])[:, None, None, None]
    radii = np.array([10.0, 7.0, 5.0])[:, None, None, None]
    inside = (((grid - centre) / radii) ** 2).sum(axis=0) <= 1.0
    return np.where(inside, 0.5 + grid[0] / 80.0, 0.0).astype(np.float32)


def test_a_known_shift_is_recovered_as_the_template_to_input_translation(tmp_path: Path) -> None:
    template = _blob()
    template_affine = np.diag([1.0, 1.0, 1.0, 1.0])
    template_affine[:3, 3] = [-20.0, -20.0, -20.0]
    moving_affine = template_affine.copy()
    moving_affine[:3, 3] += _SHIFT_RAS_MM  # the same head, moved by the shift in world (RAS) space
    transform, record = register_to_template(template, moving_affine, template, template_affine,
                                             BrainPreprocessParameters())
    matrix = np.asarray(record.template_to_input_ras)
    np.testing.assert_allclose(matrix[:3, 3], _SHIFT_RAS_MM, atol=0.3)
    np.testing.assert_allclose(matrix[:3, :3], np.eye(3), atol=0.03)
    back = resample_to_template(template, moving_affine, transform, template.shape, template_affine,
                                is_label_map=False)
    assert np.abs(back - template).mean() < 0.02
    saved = write_transform(transform, tmp_path / "to_template.tfm")
    assert saved.is_file() and [p.name for p in tmp_path.iterdir()] == ["to_template.tfm"]


def test_resampling_to_1mm_keeps_the_field_of_view() -> None:
    affine = np.diag([2.0, 2.0, 3.0, 1.0])
    affine[:3, 3] = [-10.0, 5.0, 0.0]
    image = np.ones((10, 12, 8), dtype=np.float32)
    resampled, new_affine = resample_isotropic(image, affine, BrainPreprocessParameters())
    assert resampled.shape == (20, 24, 24) and resampled.dtype == np.float32
    np.testing.assert_allclose(np.diag(new_affine)[:3], [1.0, 1.0, 1.0])
    np.testing.assert_allclose(new_affine[:3, 3], affine[:3, 3])
