"""Chest validation without weights: body mask, lung mask by HU, and the coverage rules.

The lungs are the large air-like regions enclosed by the body: outside air is removed by filling
the body outline slice by slice. Bowel gas is told apart by its connected components: gas is mostly
pure air (below -950 HU) while aerated parenchyma sits between -950 and -600 HU, so a component
counts as lung only when most of its voxels are parenchyma-like and it reaches a lung-sized area
on some slice. (Severe emphysema, mostly below -950 HU, would be missed: a documented limit.)
Coverage rules (occupancy and length of the longest run of lung slices) follow the reference
validator. Its per-slice pixel count is replaced by areas so the rules hold at any spacing: a
component must reach 8 cm^2 on some slice to be lung, and a slice counts once it holds 0.5 cm^2
of lung (on ``ct_abdomen_3mm`` this finds the 11 lung-base slices of the reference label map).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from medskills.core.models import FrozenModel
from medskills.triage.errors import TriageErrorCode, study_error
from medskills.dicom.volume import HUVolume

__all__ = [
    "AIR_HU_EXPECTED_BELOW",
    "LUNG_LENGTH_MIN_MM",
    "LUNG_OCCUPANCY_MIN",
    "ChestCoverage",
    "body_mask",
    "check_hu_plausible",
    "lung_mask",
    "measure_chest_coverage",
    "validate_chest",
]

BODY_HU_ABOVE = -500.0
LUNG_HU_BELOW = -400.0
AIR_HU_EXPECTED_BELOW = -900.0
AIR_VOXEL_FRACTION_MIN = 0.001
LUNG_OCCUPANCY_MIN = 0.35
LUNG_LENGTH_MIN_MM = 145.0
LUNG_COMPONENT_AREA_MIN_MM2 = 800.0
LUNG_SLICE_AREA_MIN_MM2 = 50.0
PARENCHYMA_HU_RANGE = (-950.0, -600.0)
PARENCHYMA_FRACTION_MIN = 0.5
_IN_PLANE = np.zeros((3, 3, 3), dtype=bool)
_IN_PLANE[:, :, 1] = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)


class ChestCoverage(FrozenModel):
    """Lung coverage along the superior-inferior axis (axis 2 of the canonical volume)."""

    slice_count: int
    lung_slice_count: int
    longest_run_slices: int
    occupancy: float
    lung_length_mm: float
    lung_volume_ml: float


def body_mask(volume: HUVolume) -> npt.NDArray[np.bool_]:
    """The patient: the largest soft-tissue component, its holes (lungs, gut) filled slice by slice."""
    from scipy import ndimage

    tissue = volume.array > BODY_HU_ABOVE
    labels, count = ndimage.label(tissue)
    if count == 0:
        return np.zeros(volume.shape, dtype=bool)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    largest = labels == int(np.argmax(sizes))
    return ndimage.binary_fill_holes(largest, structure=_IN_PLANE)


def lung_mask(volume: HUVolume, *, body: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[np.bool_]:
    """Air-like voxels inside the body, keeping the components that look like lung (see module doc)."""
    from scipy import ndimage

    body = body_mask(volume) if body is None else body
    air = (volume.array < LUNG_HU_BELOW) & body
    labels, count = ndimage.label(air)
    if count == 0:
        return np.zeros(volume.shape, dtype=bool)
    voxel_area_mm2 = volume.spacing_mm[0] * volume.spacing_mm[1]
    per_slice = _component_area_per_slice(labels, count) * voxel_area_mm2
    low, high = PARENCHYMA_HU_RANGE
    parenchyma = (volume.array > low) & (volume.array < high)
    parenchyma_fraction = (np.bincount(labels.ravel(), weights=parenchyma.ravel(), minlength=count + 1)
                           / np.maximum(per_slice.sum(axis=1) / voxel_area_mm2, 1))
    is_lung = (per_slice.max(axis=1) >= LUNG_COMPONENT_AREA_MIN_MM2) & (parenchyma_fraction >= PARENCHYMA_FRACTION_MIN)
    is_lung[0] = False
    return is_lung[labels]


def _component_area_per_slice(labels: npt.NDArray[np.int32], count: int) -> npt.NDArray[np.int64]:
    """Voxel count of each component on each axial slice, in one bincount pass."""
    slices = labels.shape[2]
    slice_index = np.broadcast_to(np.arange(slices, dtype=np.int64), labels.shape)
    flat = labels.astype(np.int64).ravel() * slices + slice_index.ravel()
    return np.bincount(flat, minlength=(count + 1) * slices).reshape(count + 1, slices)


def measure_chest_coverage(volume: HUVolume) -> ChestCoverage:
    """Count lung slices and measure the longest contiguous run along axis 2."""
    lungs = lung_mask(volume)
    voxel_area_mm2 = volume.spacing_mm[0] * volume.spacing_mm[1]
    area_per_slice = lungs.sum(axis=(0, 1)) * voxel_area_mm2
    is_lung_slice = area_per_slice >= LUNG_SLICE_AREA_MIN_MM2
    run = _longest_run(is_lung_slice)
    slices = int(volume.shape[2])
    return ChestCoverage(
        slice_count=slices,
        lung_slice_count=int(is_lung_slice.sum()),
        longest_run_slices=run,
        occupancy=run / slices if slices else 0.0,
        lung_length_mm=run * volume.spacing_mm[2],
        lung_volume_ml=float(lungs.sum()) * voxel_area_mm2 * volume.spacing_mm[2] / 1000.0,
    )


def validate_chest(volume: HUVolume) -> ChestCoverage:
    """Refuse a volume whose lungs are absent, cover too few slices, or are too short.

    Raises:
        StudyError: ``hu_implausible``, ``lungs_not_found`` (occupancy < 0.35), ``lungs_too_short``
            (< 145 mm).
    """
    check_hu_plausible(volume)
    coverage = measure_chest_coverage(volume)
    if coverage.longest_run_slices == 0 or coverage.occupancy < LUNG_OCCUPANCY_MIN:
        raise study_error(TriageErrorCode.LUNGS_NOT_FOUND,
                          f"lungs not found: the longest run of lung slices covers {coverage.occupancy:.0%} of "
                          f"{coverage.slice_count} slices (at least {LUNG_OCCUPANCY_MIN:.0%} needed); upload a "
                          "chest CT.")
    if coverage.lung_length_mm < LUNG_LENGTH_MIN_MM:
        raise study_error(TriageErrorCode.LUNGS_TOO_SHORT,
                          f"lungs are {coverage.lung_length_mm:.1f} mm long, at least {LUNG_LENGTH_MIN_MM:g} mm "
                          "needed; the scan does not cover the chest.")
    return coverage


def check_hu_plausible(volume: HUVolume) -> None:
    """A CT in HU has air near -1000; refuse volumes without it (not HU, or not CT)."""
    array = volume.array
    air_fraction = float(np.count_nonzero(array < AIR_HU_EXPECTED_BELOW)) / max(array.size, 1)
    if air_fraction < AIR_VOXEL_FRACTION_MIN:
        raise study_error(TriageErrorCode.HU_IMPLAUSIBLE,
                          f"only {air_fraction:.4%} of voxels are below {AIR_HU_EXPECTED_BELOW:g} HU (minimum "
                          f"{float(array.min()):g}); air near -1000 HU must be present. Is this CT in Hounsfield "
                          "units?")


def _longest_run(flags: npt.NDArray[np.bool_]) -> int:
    padded = np.concatenate(([0], flags.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[0::2]).max()) if edges.size else 0
