"""N4 bias-field correction: a smooth multiplicative field over a flat brain is taken out; outside is zero."""

from __future__ import annotations

import numpy as np
import pytest

from medskills.segmentation.brain_preprocess.bias_field import correct_bias_field
from medskills.segmentation.brain_preprocess.models import BrainPreprocessParameters

pytest.importorskip("SimpleITK", reason="pip install 'medskills[brain]'")


def test_a_smooth_field_over_a_flat_tissue_is_removed() -> None:
    shape = (48, 48, 48)
    grid = np.stack(np.meshgrid(*(np.arange(n, dtype=np.float32) for n in shape), indexing="ij"))
    brain = (((grid - 23.5) / np.array([20.0, 18.0, 16.0])[:, None, None, None]) ** 2).sum(axis=0) <= 1.0
    field = np.exp(0.4 * (grid[0] - 24) / 24 - 0.2 * (grid[2] - 24) / 24)  # up to about +-50 % across the head
    image = np.where(brain, 100.0 * field, 7.0).astype(np.float32)
    affine = np.diag([3.0, 3.0, 3.0, 1.0])

    corrected = correct_bias_field(image, brain, affine, BrainPreprocessParameters())

    def variation(values: np.ndarray) -> float:
        return float(values.std() / values.mean())

    assert corrected.dtype == np.float32 and corrected.shape == shape
    assert not corrected[~brain].any()
    assert variation(image[brain]) > 0.15
    assert variation(corrected[brain]) < variation(image[brain]) / 4
