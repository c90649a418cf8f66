"""Chest validation without weights: the HU scale, then lung coverage along the body axis.

The lungs come from :func:`medskills.triage.lungs.segment_lungs` (air components decided one by
one, so lungs cut by the field of view are found while outside air, bowel gas and the airways are
left out). Coverage rules (occupancy and length of the longest run of lung slices) follow the
reference validator, with its per-slice pixel count replaced by an area so the rules hold at any
spacing: a slice counts once it holds 0.5 cm^2 of lung (on ``ct_abdomen_3mm`` this finds the 11
lung-base slices of the TotalSegmentator reference). :class:`ChestCoverage` records which rule
decided, and how each air component was decided.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import numpy.typing as npt

from medskills.core.models import FrozenModel
from medskills.triage.errors import TriageErrorCode, study_error
from medskills.dicom.volume import HUVolume
from medskills.triage.lungs import IN_PLANE_STRUCTURE, LungDetection, LungSegmentation, segment_lungs

__all__ = [
    "AIR_HU_EXPECTED_BELOW",
    "LUNG_LENGTH_MIN_MM",
    "LUNG_OCCUPANCY_MIN",
    "ChestCoverage",
    "ChestRule",
    "body_mask",
    "check_hu_plausible",
    "lung_mask",
    "measure_chest_coverage",
    "validate_chest",
]

BODY_HU_ABOVE = -500.0
AIR_HU_EXPECTED_BELOW = -900.0
AIR_VOXEL_FRACTION_MIN = 0.001
LUNG_OCCUPANCY_MIN = 0.35
LUNG_LENGTH_MIN_MM = 145.0
LUNG_SLICE_AREA_MIN_MM2 = 50.0


class ChestRule(StrEnum):
    """The coverage rule that decided the chest check (``passed`` when none refused it)."""

    LUNG_OCCUPANCY = "lung_occupancy"
    LUNG_LENGTH = "lung_length"
    PASSED = "passed"


class ChestCoverage(FrozenModel):
    """Lung coverage along the superior-inferior axis (axis 2 of the canonical volume)."""

    slice_count: int
    lung_slice_count: int
    longest_run_slices: int
    occupancy: float
    lung_length_mm: float
    lung_volume_ml: float
    decided_by: ChestRule
    lung_detection: LungDetection


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
    filled: npt.NDArray[np.bool_] = ndimage.binary_fill_holes(largest, structure=IN_PLANE_STRUCTURE)
    return filled


def lung_mask(volume: HUVolume) -> npt.NDArray[np.bool_]:
    """The lung voxels of ``volume`` (see :func:`medskills.triage.lungs.segment_lungs`)."""
    return segment_lungs(volume).mask


def measure_chest_coverage(volume: HUVolume, *, lungs: LungSegmentation | None = None) -> ChestCoverage:
    """Count lung slices, measure the longest contiguous run along axis 2 and apply the coverage rules.

    ``lungs`` is the study's segmentation when already computed (:func:`medskills.triage.lungs.study_lungs`).
    """
    segmentation = segment_lungs(volume) if lungs is None else lungs
    voxel_area_mm2 = volume.spacing_mm[0] * volume.spacing_mm[1]
    area_per_slice = segmentation.mask.sum(axis=(0, 1)) * voxel_area_mm2
    is_lung_slice = area_per_slice >= LUNG_SLICE_AREA_MIN_MM2
    run = _longest_run(is_lung_slice)
    slices = int(volume.shape[2])
    occupancy = run / slices if slices else 0.0
    length_mm = run * volume.spacing_mm[2]
    if run == 0 or occupancy < LUNG_OCCUPANCY_MIN:
        decided_by = ChestRule.LUNG_OCCUPANCY
    elif length_mm < LUNG_LENGTH_MIN_MM:
        decided_by = ChestRule.LUNG_LENGTH
    else:
        decided_by = ChestRule.PASSED
    return ChestCoverage(
        slice_count=slices,
        lung_slice_count=int(is_lung_slice.sum()),
        longest_run_slices=run,
        occupancy=occupancy,
        lung_length_mm=length_mm,
        lung_volume_ml=segmentation.detection.lung_volume_ml,
        decided_by=decided_by,
        lung_detection=segmentation.detection,
    )


def validate_chest(volume: HUVolume, *, lungs: LungSegmentation | None = None) -> ChestCoverage:
    """Refuse a volume whose lungs are absent, cover too few slices, or are too short.

    ``lungs`` is the study's segmentation when already computed (shared with the qct member).

    Raises:
        StudyError: ``hu_implausible``, ``lungs_not_found`` (occupancy < 0.35), ``lungs_too_short``
            (< 145 mm).
    """
    check_hu_plausible(volume)
    coverage = measure_chest_coverage(volume, lungs=lungs)
    if coverage.decided_by is ChestRule.LUNG_OCCUPANCY:
        raise study_error(TriageErrorCode.LUNGS_NOT_FOUND,
                          f"lungs not found (rule {ChestRule.LUNG_OCCUPANCY}): the longest run of lung slices "
                          f"covers {coverage.occupancy:.0%} of {coverage.slice_count} slices (at least "
                          f"{LUNG_OCCUPANCY_MIN:.0%} needed); upload a chest CT.")
    if coverage.decided_by is ChestRule.LUNG_LENGTH:
        raise study_error(TriageErrorCode.LUNGS_TOO_SHORT,
                          f"lungs are {coverage.lung_length_mm:.1f} mm long (rule {ChestRule.LUNG_LENGTH}), at "
                          f"least {LUNG_LENGTH_MIN_MM:g} mm needed; the scan does not cover the chest.")
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
