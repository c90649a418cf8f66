"""Saturated components: metal in tissue, contrast in a vessel, leads on the skin, specks."""

from __future__ import annotations

import numpy as np
import pytest

from medskills.dicom import HUVolume
from medskills.triage.metal import DenseRule, segment_metal


def _scene() -> np.ndarray:
    array = np.full((60, 60, 40), -1000.0, dtype=np.float32)
    array[5:55, 5:55, :] = 40.0  # soft tissue; air outside
    array[30:46, 30:46, 5:35] = 900.0  # a vein full of contrast ...
    array[34:42, 34:42, 8:32] = 3071.0  # ... saturated at its core
    array[10:12, 20, 5:35] = 3071.0  # a wire in soft tissue (2 x 1 voxels, 30 long)
    array[1, 10:20, 10] = 3071.0  # an ECG lead lying in the air beside the skin
    array[20, 45, 20] = 3071.0  # one saturated voxel
    return array


def test_each_saturated_component_is_decided_by_its_neighbourhood_and_size() -> None:
    volume = HUVolume(array=_scene(), affine=np.eye(4), spacing_mm=(1.0, 1.0, 1.0), study_uid="s", series_uid="s.1")
    metal = segment_metal(volume)
    assert sorted(c.rule for c in metal.components) == sorted(
        [DenseRule.DENSE_CONTRAST, DenseRule.METAL, DenseRule.OUTSIDE_BODY, DenseRule.TOO_SMALL])
    assert metal.volume_ml(DenseRule.METAL) == pytest.approx(60 / 1000.0)
    assert metal.volume_ml(DenseRule.DENSE_CONTRAST) == pytest.approx(8 * 8 * 24 / 1000.0)
    codes = {rule: index for index, rule in enumerate(DenseRule, start=1)}
    assert metal.labels[10, 20, 20] == codes[DenseRule.METAL]
    assert metal.labels[38, 38, 20] == codes[DenseRule.DENSE_CONTRAST]
    contrast = next(c for c in metal.components if c.rule is DenseRule.DENSE_CONTRAST)
    wire = next(c for c in metal.components if c.rule is DenseRule.METAL)
    assert contrast.shell_median_hu == 900.0 and wire.shell_median_hu == 40.0
    assert contrast.thickness_mm > wire.thickness_mm


def test_a_scan_without_saturated_voxels_has_no_metal() -> None:
    array = np.full((10, 10, 10), 40.0, dtype=np.float32)
    metal = segment_metal(HUVolume(array=array, affine=np.eye(4), spacing_mm=(1.0, 1.0, 1.0), study_uid="s",
                                   series_uid="s.1"))
    assert metal.components == () and not metal.labels.any() and metal.volume_ml(DenseRule.METAL) == 0.0
