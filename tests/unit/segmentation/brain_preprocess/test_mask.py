"""The brain mask: threshold the probability, keep the largest component, report what was dropped."""

from __future__ import annotations

import numpy as np
import pytest

from medskills.core.errors import InputError
from medskills.segmentation.brain_preprocess.mask import clean_brain_mask


def test_keeps_the_largest_component_and_reports_the_specks() -> None:
    probability = np.zeros((40, 40, 40), dtype=np.float32)
    probability[5:30, 5:30, 5:30] = 0.9
    probability[35, 35, 35] = 0.8
    probability[36:38, 2, 2] = 0.7
    result = clean_brain_mask(probability, threshold=0.5)
    assert result.mask.sum() == 25**3 and not result.mask[35, 35, 35]
    assert result.raw_component_count == 3
    assert result.main_component_fraction == pytest.approx(25**3 / (25**3 + 3))


def test_the_threshold_is_strict() -> None:
    probability = np.full((4, 4, 4), 0.5, dtype=np.float32)
    probability[0, 0, 0] = 0.51
    assert clean_brain_mask(probability, threshold=0.5).mask.sum() == 1


def test_no_brain_is_an_input_error() -> None:
    with pytest.raises(InputError, match="found no brain"):
        clean_brain_mask(np.zeros((4, 4, 4)), threshold=0.5)
