"""Confusion-matrix Dice/IoU and HD95 against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from medskills.core.errors import InputError
from medskills.verification.metrics import confusion_matrix, hd95_mm, overlap_per_class


def _dice_by_hand(prediction: np.ndarray, reference: np.ndarray, label_id: int) -> float:
    p, r = prediction == label_id, reference == label_id
    return 2.0 * np.logical_and(p, r).sum() / (p.sum() + r.sum())


def test_confusion_matrix_counts_every_voxel_pair() -> None:
    prediction = np.array([[0, 1, 1], [2, 2, 0]])
    reference = np.array([[0, 1, 2], [2, 0, 0]])
    matrix = confusion_matrix(prediction, reference, num_classes=3)
    assert matrix.sum() == prediction.size
    assert matrix[1, 1] == 1 and matrix[1, 2] == 1 and matrix[2, 2] == 1 and matrix[2, 0] == 1 and matrix[0, 0] == 2


def test_dice_and_iou_match_an_independent_computation(reference_map: tuple[np.ndarray, np.ndarray]) -> None:
    reference = reference_map[0].astype(np.int32)
    prediction = reference.copy()
    prediction[:, :, ::4] = 0  # remove every fourth slice from the prediction
    matrix = confusion_matrix(prediction, reference, num_classes=int(reference.max()) + 1)
    ids = [int(i) for i in np.unique(reference) if i]
    for overlap in overlap_per_class(matrix, ids):
        assert overlap.dice == pytest.approx(_dice_by_hand(prediction, reference, overlap.label_id))
        p, r = prediction == overlap.label_id, reference == overlap.label_id
        assert overlap.iou == pytest.approx(np.logical_and(p, r).sum() / np.logical_or(p, r).sum())


def test_confusion_matrix_in_slabs_equals_one_bincount(monkeypatch: pytest.MonkeyPatch) -> None:
    from medskills.verification import metrics

    rng = np.random.default_rng(0)
    prediction, reference = rng.integers(0, 5, (20, 20, 20)), rng.integers(0, 5, (20, 20, 20))
    expected = np.bincount((prediction * 5 + reference).ravel(), minlength=25).reshape(5, 5)
    monkeypatch.setattr(metrics, "_SLAB_VOXELS", 999)
    assert np.array_equal(confusion_matrix(prediction, reference, num_classes=5), expected)


def test_empty_class_on_both_sides_has_no_dice() -> None:
    matrix = confusion_matrix(np.zeros((2, 2), int), np.zeros((2, 2), int), num_classes=3)
    assert overlap_per_class(matrix, [2])[0].dice is None


def test_confusion_matrix_rejects_shape_mismatch_and_too_small_k() -> None:
    with pytest.raises(InputError, match="differs from reference shape"):
        confusion_matrix(np.zeros((2, 2), int), np.zeros((2, 3), int), num_classes=2)
    with pytest.raises(InputError, match="prediction ids must lie in 0..1"):
        confusion_matrix(np.full((2, 2), 3), np.zeros((2, 2), int), num_classes=2)
    with pytest.raises(InputError, match="reference ids must lie in 0..2"):
        confusion_matrix(np.zeros((2, 2), int), np.full((2, 2), 3), num_classes=3)  # would alias into row 1
    with pytest.raises(InputError, match="found -1"):
        confusion_matrix(np.full((2, 2), -1), np.zeros((2, 2), int), num_classes=3)


def test_hd95_of_identical_masks_is_zero_and_of_a_shift_is_the_shift_in_mm() -> None:
    mask = np.zeros((30, 30, 30), bool)
    mask[10:20, 10:20, 10:20] = True
    assert hd95_mm(mask, mask, (1.0, 1.0, 1.0)) == 0.0
    shifted = np.roll(mask, 2, axis=0)
    assert hd95_mm(shifted, mask, (3.0, 1.0, 1.0)) == pytest.approx(6.0)


def test_hd95_matches_a_brute_force_surface_distance() -> None:
    rng = np.random.default_rng(1)
    first = ndimage.binary_dilation(rng.random((16, 16, 16)) > 0.97, iterations=2)
    second = ndimage.binary_dilation(rng.random((16, 16, 16)) > 0.97, iterations=2)
    spacing = (1.5, 1.0, 2.0)

    def surface_points(mask: np.ndarray) -> np.ndarray:
        return np.argwhere(mask & ~ndimage.binary_erosion(mask)) * np.array(spacing)

    a, b = surface_points(first), surface_points(second)
    distances = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    expected = max(np.percentile(distances.min(1), 95), np.percentile(distances.min(0), 95))
    assert hd95_mm(first, second, spacing) == pytest.approx(expected)


def test_hd95_refuses_an_empty_side() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        hd95_mm(np.zeros((3, 3, 3), bool), np.ones((3, 3, 3), bool), (1.0, 1.0, 1.0))
