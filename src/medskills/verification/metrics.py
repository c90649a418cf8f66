"""Overlap and distance metrics between a predicted and a reference label map.

Dice and IoU for every class come from one confusion matrix, built with one ``np.bincount`` over
``prediction * K + reference`` (in slabs of 4 Mi voxels, in the narrowest unsigned type that holds
K*K, which keeps memory traffic low).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from medskills.core.errors import InputError

__all__ = ["ClassOverlap", "confusion_matrix", "hd95_mm", "overlap_per_class"]

_SLAB_VOXELS = 1 << 22


@dataclass(frozen=True)
class ClassOverlap:
    """Overlap of one class: voxel counts on each side, Dice and IoU (None when both sides are empty)."""

    label_id: int
    prediction_voxels: int
    reference_voxels: int
    intersection_voxels: int
    dice: float | None
    iou: float | None


def confusion_matrix(
    prediction: npt.NDArray[np.integer], reference: npt.NDArray[np.integer], *, num_classes: int
) -> npt.NDArray[np.int64]:
    """Count voxels per (predicted id, reference id) pair; ``matrix[p, r]``.

    Args:
        prediction: non-negative integer ids, any shape.
        reference: same shape as ``prediction``.
        num_classes: K, larger than every id on either side.

    Raises:
        InputError: the shapes differ or an id is >= ``num_classes``.
    """
    if prediction.shape != reference.shape:
        raise InputError(f"prediction shape {prediction.shape} differs from reference shape {reference.shape}; "
                         "resample one onto the other's grid before comparing.")
    for name, labels in (("prediction", prediction), ("reference", reference)):
        if labels.size and not 0 <= int(labels.min()) <= int(labels.max()) < num_classes:
            raise InputError(f"{name} ids must lie in 0..{num_classes - 1} (found {int(labels.min())}.."
                             f"{int(labels.max())}); pass a larger num_classes.")
    index_dtype = _index_dtype(num_classes * num_classes)
    flat_prediction, flat_reference = prediction.reshape(-1), reference.reshape(-1)
    counts = np.zeros(num_classes * num_classes, dtype=np.int64)
    for start in range(0, flat_prediction.size, _SLAB_VOXELS):
        combined = flat_prediction[start:start + _SLAB_VOXELS].astype(index_dtype)
        combined *= num_classes
        np.add(combined, flat_reference[start:start + _SLAB_VOXELS], out=combined, casting="unsafe")
        counts += np.bincount(combined, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def _index_dtype(bins: int) -> np.dtype[np.unsignedinteger[Any]]:
    for candidate in (np.uint16, np.uint32):
        if bins <= np.iinfo(candidate).max:
            return np.dtype(candidate)
    return np.dtype(np.uint64)


def overlap_per_class(matrix: npt.NDArray[np.int64], class_ids: list[int]) -> list[ClassOverlap]:
    """Dice = 2|P∩R| / (|P|+|R|) and IoU = |P∩R| / |P∪R| for each id, read off the confusion matrix."""
    prediction_totals = matrix.sum(axis=1)
    reference_totals = matrix.sum(axis=0)
    result = []
    for label_id in class_ids:
        intersection = int(matrix[label_id, label_id])
        predicted, referenced = int(prediction_totals[label_id]), int(reference_totals[label_id])
        union = predicted + referenced - intersection
        result.append(ClassOverlap(
            label_id=label_id,
            prediction_voxels=predicted,
            reference_voxels=referenced,
            intersection_voxels=intersection,
            dice=2.0 * intersection / (predicted + referenced) if union else None,
            iou=intersection / union if union else None,
        ))
    return result


def hd95_mm(
    prediction_mask: npt.NDArray[np.bool_],
    reference_mask: npt.NDArray[np.bool_],
    spacing_mm: tuple[float, float, float],
) -> float:
    """95th-percentile symmetric surface distance in mm (the larger of the two directed values).

    Surfaces are the mask minus its erosion; distances come from Euclidean distance transforms with
    ``sampling=spacing_mm`` (voxel-index axis order). Both masks must be non-empty; the work is done
    on the bounding box of their union, padded by one voxel.
    """
    from scipy import ndimage

    if not prediction_mask.any() or not reference_mask.any():
        raise ValueError("hd95_mm needs a non-empty prediction and reference; it is defined for classes in both.")
    box = _padded_box(prediction_mask | reference_mask)
    prediction_crop, reference_crop = prediction_mask[box], reference_mask[box]
    prediction_surface = prediction_crop & ~ndimage.binary_erosion(prediction_crop)
    reference_surface = reference_crop & ~ndimage.binary_erosion(reference_crop)
    to_reference = ndimage.distance_transform_edt(~reference_surface, sampling=spacing_mm)
    to_prediction = ndimage.distance_transform_edt(~prediction_surface, sampling=spacing_mm)
    forward = np.percentile(to_reference[prediction_surface], 95)
    backward = np.percentile(to_prediction[reference_surface], 95)
    return float(max(forward, backward))


def _padded_box(mask: npt.NDArray[np.bool_]) -> tuple[slice, ...]:
    coordinates = [np.flatnonzero(mask.any(axis=tuple(a for a in range(mask.ndim) if a != axis)))
                   for axis in range(mask.ndim)]
    return tuple(slice(max(int(c[0]) - 1, 0), int(c[-1]) + 2) for c in coordinates)
