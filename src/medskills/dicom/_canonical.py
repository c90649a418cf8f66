"""Reorient a voxel array to the closest canonical RAS+ orientation, once, for every reader."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["CanonicalArray", "to_canonical_ras"]


@dataclass(frozen=True)
class CanonicalArray:
    """An array reoriented to RAS+, its new affine, and where each source axis went.

    ``source_axis_for[k]`` is the source axis now stored along canonical axis ``k``;
    ``is_flipped[k]`` says whether it was reversed on the way.
    """

    array: npt.NDArray[np.float32]
    affine: npt.NDArray[np.float64]
    spacing_mm: tuple[float, float, float]
    source_axis_for: tuple[int, int, int]
    is_flipped: tuple[bool, bool, bool]


def to_canonical_ras(array: npt.NDArray[np.generic], affine: npt.NDArray[np.float64]) -> CanonicalArray:
    """Permute and flip ``array`` (voxel-index order, RAS world ``affine``) to the closest RAS+.

    Only axis permutations and flips are applied (no resampling), as in
    ``nibabel.as_closest_canonical``; the result is a contiguous float32 copy.
    """
    import nibabel as nib

    orientation = nib.orientations.io_orientation(affine)
    canonical = np.array([[0, 1], [1, 1], [2, 1]], dtype=float)
    transform = nib.orientations.ornt_transform(orientation, canonical)
    reoriented = nib.orientations.apply_orientation(array, transform)
    new_affine = affine @ nib.orientations.inv_ornt_aff(transform, array.shape)
    source_axis_for = [0, 0, 0]
    is_flipped = [False, False, False]
    for source_axis, (target_axis, direction) in enumerate(transform):
        source_axis_for[int(target_axis)] = source_axis
        is_flipped[int(target_axis)] = bool(direction < 0)
    spacing = np.sqrt((new_affine[:3, :3] ** 2).sum(axis=0))
    return CanonicalArray(
        array=np.ascontiguousarray(reoriented, dtype=np.float32),
        affine=np.asarray(new_affine, dtype=np.float64),
        spacing_mm=(float(spacing[0]), float(spacing[1]), float(spacing[2])),
        source_axis_for=(source_axis_for[0], source_axis_for[1], source_axis_for[2]),
        is_flipped=(is_flipped[0], is_flipped[1], is_flipped[2]),
    )
