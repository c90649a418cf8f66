"""The MAISI body envelope: the body mask's threshold, closing, per-slice hole filling, largest part, and label 200."""

from __future__ import annotations

import numpy as np
import pytest

from medskills.core.errors import ExitCode, InputError
from medskills.synthesis.nv_generate.body_envelope import (
    AIR_THRESHOLD_HU, BODY_LABEL, CLOSING_SIZE_VOXELS, add_body_envelope, body_mask_from_ct,
)

AIR_HU, TISSUE_HU = -1000.0, 40.0
IDENTITY = np.eye(4)
# Voxel axis 0 runs head-foot (RAS z), axis 2 left-right: a volume stored sagittal-first.
AXIS_0_AXIAL = np.array([[0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])


def _air(shape: tuple[int, int, int]) -> np.ndarray:
    return np.full(shape, AIR_HU, dtype=np.float32)


@pytest.mark.parametrize(("hu", "is_body"), [(AIR_THRESHOLD_HU, False), (AIR_THRESHOLD_HU + 1.0, True)],
                         ids=["at-minus-800", "at-minus-799"])
def test_body_mask_takes_only_voxels_denser_than_minus_800_hu(hu: float, is_body: bool) -> None:
    ct = _air((10, 10, 10))
    ct[3:7, 3:7, 3:7] = hu
    body = body_mask_from_ct(ct, IDENTITY)
    assert body.dtype == np.bool_ and body.shape == ct.shape
    assert int(body.sum()) == (64 if is_body else 0)


@pytest.mark.parametrize(("affine", "is_filled"), [(AXIS_0_AXIAL, True), (IDENTITY, False)],
                         ids=["axis-0-is-head-foot", "axis-2-is-head-foot"])
def test_body_mask_fills_a_tube_only_when_it_runs_along_the_affines_head_foot_axis(
        affine: np.ndarray, is_filled: bool) -> None:
    ct = _air((6, 16, 16))
    ct[:, 2:14, 2:14] = TISSUE_HU
    ct[:, 5:11, 5:11] = AIR_HU  # an air tube along voxel axis 0, open at both ends
    tube_centre = body_mask_from_ct(ct, affine)[:, 8, 8]
    assert (tube_centre.all() if is_filled else not tube_centre.any()), "first and last slices included"


def test_body_mask_keeps_only_the_largest_connected_part() -> None:
    ct = _air((24, 16, 6))
    ct[2:14, 2:14, :] = TISSUE_HU  # the body
    ct[18:21, 2:14, :] = TISSUE_HU  # the couch, 4 voxels away
    body = body_mask_from_ct(ct, IDENTITY)
    assert body[8, 8, 3] and not body[19, 8, 3]
    assert int(body.sum()) == 12 * 12 * 6


def test_body_mask_closes_an_outline_through_voxels_marked_inside() -> None:
    ct = _air((20, 20, 4))
    ct[4:16, 4:16, :] = TISSUE_HU
    ct[6:14, 6:14, :] = AIR_HU  # air-filled organ
    ct[4:6, 8:12, :] = AIR_HU  # a 4-voxel opening in its wall: too wide for the closing
    assert not body_mask_from_ct(ct, IDENTITY)[10, 10, 2]
    inside = np.zeros(ct.shape, dtype=bool)
    inside[4:6, 8:12, :] = True  # e.g. a segmented class known to be in the body
    body = body_mask_from_ct(ct, IDENTITY, inside=inside)
    assert body[10, 10, 2] and body[4, 9, 2]


@pytest.mark.parametrize(("gap", "is_bridged"), [(2, True), (3, False)])
def test_body_mask_closing_bridges_gaps_of_up_to_two_voxels(gap: int, is_bridged: bool) -> None:
    assert CLOSING_SIZE_VOXELS == 3
    ct = _air((26, 20, 8))
    ct[2:10, 2:18, 2:6] = TISSUE_HU
    ct[10 + gap:16 + gap, 2:18, 2:6] = TISSUE_HU
    body = body_mask_from_ct(ct, IDENTITY)
    assert bool(body[10 + gap // 2, 10, 4]) is is_bridged


def test_body_mask_keeps_tissue_that_touches_the_volume_border() -> None:
    body = body_mask_from_ct(np.full((5, 6, 7), TISSUE_HU), IDENTITY)
    assert body.all(), "the closing must not erode the volume's faces"


def test_add_body_envelope_labels_background_inside_the_body_200_and_keeps_every_class() -> None:
    ct = _air((16, 16, 6))
    ct[2:14, 2:14, :] = TISSUE_HU
    labels = np.zeros(ct.shape, dtype=np.uint8)
    labels[5:9, 5:9, 1:5] = 1
    result = add_body_envelope(labels, ct, IDENTITY)
    assert np.array_equal(result.labels == 1, labels == 1), "classes already present are kept"
    assert int((result.labels == BODY_LABEL).sum()) == 12 * 12 * 6 - 4 * 4 * 4
    assert result.labels[0, 0, 0] == 0 and not np.any(labels == BODY_LABEL), "air stays 0; the input is not changed"
    summary = result.summary
    assert (summary.body_voxels, summary.voxels_labelled_body, summary.labelled_voxels_outside_body) == (
        12 * 12 * 6, 12 * 12 * 6 - 64, 0)


def test_add_body_envelope_counts_labelled_voxels_left_outside_the_kept_body() -> None:
    ct = _air((24, 16, 6))
    ct[2:14, 2:14, :] = TISSUE_HU
    labels = np.zeros(ct.shape, dtype=np.uint8)
    labels[19:21, 6:8, 2:4] = 5  # a labelled blob in the air, apart from the body
    result = add_body_envelope(labels, ct, IDENTITY)
    assert result.summary.labelled_voxels_outside_body == 8
    assert np.all(result.labels[19:21, 6:8, 2:4] == 5) and not np.any(result.labels[15:24] == BODY_LABEL)


@pytest.mark.parametrize(("dtype", "result_dtype"), [(np.int8, np.uint16), (np.uint8, np.uint8), (np.int16, np.int16)])
def test_add_body_envelope_widens_only_a_label_type_that_cannot_hold_200(dtype: type, result_dtype: type) -> None:
    ct = _air((8, 8, 4))
    ct[1:7, 1:7, :] = TISSUE_HU
    result = add_body_envelope(np.zeros(ct.shape, dtype=dtype), ct, IDENTITY)
    assert result.labels.dtype == result_dtype and int(result.labels.max()) == BODY_LABEL


@pytest.mark.parametrize(("affine", "axis"), [
    (IDENTITY, 2), (AXIS_0_AXIAL, 0), (np.array([[1.0, 0, 0, 0], [0, 0, 1, 0], [0, -2, 0, 0], [0, 0, 0, 1]]), 1),
], ids=["axial", "sagittal-first", "coronal-with-z-reversed"])
def test_add_body_envelope_records_its_settings_and_the_head_foot_axis(affine: np.ndarray, axis: int) -> None:
    ct = _air((8, 8, 8))
    ct[1:7, 1:7, 1:7] = TISSUE_HU
    summary = add_body_envelope(np.zeros(ct.shape, dtype=np.uint8), ct, affine).summary
    assert (summary.axial_axis, summary.air_threshold_hu, summary.closing_size_voxels) == (axis, -800.0, 3)


def test_add_body_envelope_refuses_a_ct_of_another_shape_with_the_same_voxel_count() -> None:
    with pytest.raises(InputError, match=r"has shape \(6, 5, 4\) but the mask has \(4, 5, 6\); pass the CT") as raised:
        add_body_envelope(np.zeros((4, 5, 6), dtype=np.uint8), _air((6, 5, 4)), IDENTITY)
    assert raised.value.exit_code == ExitCode.USAGE
