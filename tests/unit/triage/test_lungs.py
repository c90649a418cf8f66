"""Lung segmentation rules: border air, airways and bullae, and the coarser grid of thin scans."""

from __future__ import annotations

import numpy as np
import pytest

from dicom_support.builders import chest_phantom, with_array
from medskills.dicom import HUVolume
from medskills.triage.lungs import ComponentRule, analysis_strides, segment_lungs


def test_air_at_the_border_mixed_with_tissue_is_refused_as_border_air() -> None:
    phantom = chest_phantom(lung_slices=(10, 11))
    array = phantom.array.copy()
    rng = np.random.default_rng(1)
    corner = array[:20, :10, :]  # outside the body ellipse: air under the table, blurred by a blanket
    mixed = rng.random(corner.shape) < 0.6
    corner[mixed] = -800.0
    corner[~mixed] = -1000.0
    array[20:22, :12, :] = 40.0  # the table walls it off from the rest of the outside air
    array[:22, 10:12, :] = 40.0
    segmentation = segment_lungs(with_array(phantom, array))
    assert segmentation.detection.components_by_rule[ComponentRule.BORDER_AIR] >= 1
    assert not segmentation.mask[:20, :10, :].any()


def test_a_tube_of_pure_air_into_the_lung_is_airway_and_leaves_the_mask() -> None:
    phantom = chest_phantom()
    array = phantom.array.copy()
    array[26:30, 46:50, 40:80] = -1000.0  # a trachea-like tube from the top slice into the right-hand lung
    segmentation = segment_lungs(with_array(phantom, array))
    assert not segmentation.mask[26:30, 46:50, 40:80].any()
    assert segmentation.detection.airway_volume_ml == pytest.approx(4 * 4 * 40 * 27 / 1000.0, rel=0.05)
    assert segmentation.mask[20, 48, 40]  # the lung around it stays


def test_a_short_pure_air_pocket_inside_the_lung_stays_lung() -> None:
    phantom = chest_phantom()
    array = phantom.array.copy()
    array[26:30, 46:50, 40:45] = -1000.0  # 15 mm long: a bulla, not an airway (airways are >= 30 mm)
    segmentation = segment_lungs(with_array(phantom, array))
    assert segmentation.mask[26:30, 46:50, 40:45].all() and segmentation.detection.airway_volume_ml == 0.0


def test_a_thin_scan_is_decided_on_a_coarser_grid_and_trimmed_to_full_resolution_air() -> None:
    assert analysis_strides((0.7, 0.7, 1.0)) == (2, 2, 2) and analysis_strides((0.7, 0.7, 1.25)) == (2, 2, 1)
    assert analysis_strides((3.0, 3.0, 3.0)) == (1, 1, 1)
    phantom = chest_phantom()
    fine = np.repeat(np.repeat(phantom.array, 2, axis=0), 2, axis=1)
    thin = HUVolume(array=fine, affine=np.diag([0.7, 0.7, 3.0, 1.0]), spacing_mm=(0.7, 0.7, 3.0),
                    study_uid="s", series_uid="s.1")
    mask = segment_lungs(thin).mask
    expected = np.repeat(np.repeat(segment_lungs(phantom).mask, 2, axis=0), 2, axis=1)
    assert mask.shape == fine.shape and np.array_equal(mask, expected & (fine < -400))
