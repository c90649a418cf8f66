"""ct_pair_consistency_v1's geometry and bookkeeping: RAS reorientation, radiological slices, sides, organ names."""

from __future__ import annotations

import numpy as np
import pytest

from medskills.core.label_spaces import LabelSpace
from medskills.verification.ct_pair_consistency_calibration import load_consistency_calibration
from medskills.verification.ct_pair_consistency_measure import OrganLabel, Side, display_slice, measure_side, to_ras_pair
from medskills.verification.ct_pair_consistency_v1 import organs_in_labels


def _lps_pair() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 20x16x6 body at 2 mm stored LPS (voxel i grows toward the patient's left), an organ on the right."""
    affine = np.diag([-2.0, -2.0, 2.0, 1.0])
    image = np.full((20, 16, 6), -1000.0, dtype=np.float32)
    image[2:18, 2:14, :] = 40.0
    labels = np.zeros(image.shape, dtype=np.int32)
    labels[3:6, 5:8, 1:3] = 7  # RAS x = -2 i: the organ at x = -8 mm, the body centre (i 2-17) at -19 mm
    return image, labels, affine


def test_ras_reorientation_maps_slices_back_to_the_file_grid() -> None:
    image, labels, affine = _lps_pair()
    flipped_z = affine @ np.diag([1.0, 1.0, -1.0, 1.0])
    flipped_z[2, 3] = 10.0
    pair = to_ras_pair(image, labels, flipped_z)
    assert [pair.file_slice_index(k) for k in range(6)] == [5, 4, 3, 2, 1, 0]
    assert pair.voxel_volume_ml == pytest.approx(0.008)
    assert np.all(np.diag(pair.affine)[:3] > 0), "the RAS affine has positive axes"


def test_the_displayed_slice_puts_anterior_up_and_the_patients_right_on_the_left() -> None:
    volume = np.zeros((4, 3, 1))
    volume[3, 2, 0] = 1.0  # most right (RAS x), most anterior (RAS y)
    shown = display_slice(volume, 0)
    assert shown.shape == (3, 4) and shown[0, 0] == 1.0


def test_side_offset_is_positive_on_the_expected_side_and_negative_when_flipped() -> None:
    image, labels, affine = _lps_pair()
    pair = to_ras_pair(image, labels, affine)
    organ = OrganLabel("liver", (7,))
    right = measure_side(pair, organ, Side.RIGHT)  # RAS x grows toward the patient's right
    assert right.offset_mm == pytest.approx(11.0)
    assert measure_side(pair, organ, Side.LEFT).offset_mm == pytest.approx(-right.offset_mm)
    flipped = to_ras_pair(image, np.ascontiguousarray(labels[::-1]), affine)
    assert measure_side(flipped, organ, Side.RIGHT).offset_mm < 0


def test_organs_are_named_through_the_label_space_and_the_rest_listed_with_a_reason() -> None:
    labels = np.zeros((4, 4, 2), dtype=np.int32)
    labels[0, 0, 0], labels[1, 1, 0], labels[2, 2, 0], labels[3, 3, 0] = 5, 1, 23, 250
    names = {1: "spleen", 5: "liver", 23: "vertebrae_L1"}
    organs, skipped = organs_in_labels(labels, names, LabelSpace.TOTALSEGMENTATOR, load_consistency_calibration())
    assert organs == [OrganLabel("liver", (5,)), OrganLabel("spleen", (1,))]
    assert skipped == ["vertebrae_L1 (id 23): no LiteMedSAM calibration", "unnamed (id 250): not in the label space"]


def test_every_gated_organ_has_a_threshold_and_the_pancreas_is_reported_only() -> None:
    calibration = load_consistency_calibration()
    assert calibration.slices_per_organ == 3
    assert calibration.organ("pancreas").dice_threshold is None
    gated = {item.anatomy for item in calibration.organs if item.dice_threshold is not None}
    assert gated == {"liver", "spleen", "right kidney", "left kidney", "stomach", "gallbladder", "aorta",
                     "inferior vena cava"}
