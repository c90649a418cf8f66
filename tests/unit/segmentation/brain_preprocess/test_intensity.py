"""White-matter peak normalisation: the last peak of the brain histogram becomes the reference value."""

from __future__ import annotations

import numpy as np
import pytest

from pretrained_support import needs_brain_extra

from medskills.core.errors import InputError
from medskills.segmentation.brain_preprocess.intensity import normalise_white_matter, white_matter_peak
from medskills.segmentation.brain_preprocess.models import BrainPreprocessParameters

pytestmark = needs_brain_extra
PARAMETERS = BrainPreprocessParameters()


def _t1_like_brain(rng: np.random.Generator) -> np.ndarray:
    """CSF, grey and white matter as three Gaussian intensity classes, white matter brightest and largest."""
    return np.concatenate([rng.normal(30, 4, 20_000), rng.normal(70, 5, 60_000), rng.normal(100, 5, 90_000)])


def test_peak_is_the_white_matter_class_not_the_largest_or_first() -> None:
    values = _t1_like_brain(np.random.default_rng(0))
    assert white_matter_peak(values, PARAMETERS) == pytest.approx(100, abs=4)


def test_normalised_image_is_in_unit_range_and_zero_outside_the_brain() -> None:
    rng = np.random.default_rng(1)
    image = np.zeros((60, 60, 60), dtype=np.float32)
    brain = np.zeros(image.shape, dtype=bool)
    brain[5:55, 5:55, 5:55] = True
    image[brain] = rng.permutation(_t1_like_brain(rng))[: brain.sum()]
    image[~brain] = 250.0  # skull left over outside the mask must not count
    normalised, peak = normalise_white_matter(image, brain, PARAMETERS)
    assert peak == pytest.approx(100, abs=4)
    assert normalised.dtype == np.float32 and normalised.min() == 0.0 and normalised.max() == 1.0
    assert not normalised[~brain].any()
    # the white-matter peak sits at 110 / (99.9th percentile of the scaled brain) of the range
    ceiling = np.percentile(image[brain] * 110 / peak, 99.9)
    assert np.median(normalised[brain & (image > 90)]) == pytest.approx(110 / ceiling, abs=0.03)


def test_a_flat_brain_cannot_be_normalised() -> None:
    with pytest.raises(InputError, match="fewer than two distinct intensities"):
        white_matter_peak(np.full(1000, 5.0), PARAMETERS)
