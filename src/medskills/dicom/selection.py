"""Score the candidate series of one study and choose one, recording why each was kept or refused.

Hard rules refuse a series (not CT, too few slices, not axial, localizer/derived, inconsistent
geometry, missing or irregular slices, gantry tilt). Among the usable ones the preference is:
slice thickness within 0.5-3 mm, then a lung kernel, then the most slices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medskills.core.models import FrozenModel
from medskills.dicom.errors import SeriesSelectionError, TriageErrorCode
from medskills.dicom.headers import DicomInstance, SeriesGroup
from medskills.dicom.kernels import KernelClass, classify_kernel

__all__ = [
    "DEFAULT_MIN_SLICES",
    "PREFERRED_THICKNESS_MM",
    "SelectedSeries",
    "SeriesCandidate",
    "SeriesSelection",
    "select_series",
]

DEFAULT_MIN_SLICES = 20
PREFERRED_THICKNESS_MM = (0.5, 3.0)
MAX_AXIAL_ANGLE_DEG = 30.0
MAX_TILT_DEG = 1.0
SPACING_TOLERANCE = 0.1
_EXCLUDED_IMAGE_TYPES = ("LOCALIZER", "DERIVED", "SECONDARY")
_GEOMETRY_TOLERANCE = 1e-3


class SeriesCandidate(FrozenModel):
    """One series as judged by selection; ``rejection_code`` is set when it cannot be used."""

    series_uid: str
    slice_count: int
    modality: str
    kernel: str
    kernel_class: KernelClass
    slice_thickness_mm: float | None
    slice_spacing_mm: float | None
    reasons: list[str]
    rejection_code: TriageErrorCode | None = None


class SeriesSelection(FrozenModel):
    """The chosen series (if any) and every candidate with its reasons."""

    chosen_series_uid: str | None
    candidates: list[SeriesCandidate]


@dataclass(frozen=True)
class SelectedSeries:
    """The chosen group, its instances sorted along the slice normal, and the report."""

    group: SeriesGroup
    instances: tuple[DicomInstance, ...]
    slice_spacing_mm: float
    selection: SeriesSelection


@dataclass(frozen=True)
class _Judged:
    candidate: SeriesCandidate
    group: SeriesGroup
    ordered: tuple[DicomInstance, ...]
    rank: tuple[int, int, int]


class _Rejected(Exception):
    def __init__(self, code: TriageErrorCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def select_series(groups: list[SeriesGroup], *, min_slices: int = DEFAULT_MIN_SLICES) -> SelectedSeries:
    """Judge every series and return the best usable one.

    Raises:
        SeriesSelectionError: no series is usable; the code is the refusal of the largest series,
            and ``selection`` carries every candidate's reasons.
    """
    judged = [_judge(group, min_slices=min_slices) for group in groups]
    usable = [j for j in judged if j.candidate.rejection_code is None]
    best = max(usable, key=lambda j: j.rank) if usable else None
    candidates = [j.candidate for j in judged]
    selection = SeriesSelection(chosen_series_uid=best.group.series_uid if best else None, candidates=candidates)
    if best is None:
        largest = max(judged, key=lambda j: j.candidate.slice_count)
        code = largest.candidate.rejection_code or TriageErrorCode.NO_USABLE_SERIES
        summary = "; ".join(f"series {c.series_uid or '<blank>'} ({c.slice_count} slices): {c.reasons[-1]}"
                            for c in candidates)
        raise SeriesSelectionError(f"no usable CT series in the study: {summary}", error_code=code,
                                   selection=selection)
    assert best.candidate.slice_spacing_mm is not None
    return SelectedSeries(group=best.group, instances=best.ordered, slice_spacing_mm=best.candidate.slice_spacing_mm,
                          selection=selection)


def _judge(group: SeriesGroup, *, min_slices: int) -> _Judged:
    instances = group.instances
    first = instances[0]
    kernel_class = classify_kernel(first.kernel)
    thickness = first.slice_thickness_mm
    reasons: list[str] = []
    ordered: tuple[DicomInstance, ...] = instances
    spacing: float | None = None
    code: TriageErrorCode | None = None
    try:
        _check_content(instances, min_slices=min_slices, reasons=reasons)
        ordered, spacing = _check_geometry(instances, reasons=reasons)
    except _Rejected as rejected:
        code = rejected.code
        reasons.append(f"refused: {rejected.reason}")
    thickness_ok = thickness is not None and PREFERRED_THICKNESS_MM[0] <= thickness <= PREFERRED_THICKNESS_MM[1]
    if code is None:
        low, high = PREFERRED_THICKNESS_MM
        reasons.append(f"slice thickness {thickness} mm {'within' if thickness_ok else 'outside'} the preferred "
                       f"{low}-{high} mm")
        reasons.append(f"kernel {first.kernel or '<none>'!r} classified {kernel_class.value}")
    kernel_rank = {KernelClass.LUNG: 2, KernelClass.SOFT_TISSUE: 1, KernelClass.UNKNOWN: 0}[kernel_class]
    candidate = SeriesCandidate(
        series_uid=group.series_uid, slice_count=len(instances), modality=first.modality, kernel=first.kernel,
        kernel_class=kernel_class, slice_thickness_mm=thickness, slice_spacing_mm=spacing, reasons=reasons,
        rejection_code=code,
    )
    return _Judged(candidate=candidate, group=group, ordered=ordered,
                   rank=(int(thickness_ok), kernel_rank, len(instances)))


def _check_content(instances: tuple[DicomInstance, ...], *, min_slices: int, reasons: list[str]) -> None:
    modalities = {i.modality for i in instances}
    if modalities != {"CT"}:
        raise _Rejected(TriageErrorCode.NOT_CT, f"modality {', '.join(sorted(modalities))} is not CT")
    reasons.append("modality CT")
    excluded = sorted({t for i in instances for t in i.image_type if t in _EXCLUDED_IMAGE_TYPES})
    if excluded:
        raise _Rejected(TriageErrorCode.NOT_ORIGINAL_IMAGE, f"image type {'/'.join(excluded)} (not an original "
                        "axial acquisition)")
    if any(i.number_of_frames > 1 for i in instances):
        raise _Rejected(TriageErrorCode.MULTIFRAME_UNSUPPORTED, "multi-frame instances are not supported; export "
                        "the series as one file per slice")
    if len(instances) < min_slices:
        raise _Rejected(TriageErrorCode.NOT_ENOUGH_SLICES, f"{len(instances)} slices, at least {min_slices} needed")
    reasons.append(f"{len(instances)} slices (>= {min_slices})")
    if len({(i.rows, i.columns, i.pixel_spacing_mm) for i in instances}) != 1 or instances[0].pixel_spacing_mm is None:
        raise _Rejected(TriageErrorCode.INCONSISTENT_GEOMETRY, "rows, columns or pixel spacing differ between "
                        "slices (or PixelSpacing is missing)")
    reasons.append("consistent rows, columns and pixel spacing")


def _check_geometry(instances: tuple[DicomInstance, ...], *,
                    reasons: list[str]) -> tuple[tuple[DicomInstance, ...], float]:
    if any(i.orientation is None or len(i.orientation) != 6 or i.position_mm is None for i in instances):
        raise _Rejected(TriageErrorCode.INCONSISTENT_GEOMETRY, "ImageOrientationPatient or ImagePositionPatient "
                        "is missing")
    orientations = np.array([i.orientation for i in instances], dtype=np.float64)
    if np.abs(orientations - orientations[0]).max() > _GEOMETRY_TOLERANCE:
        raise _Rejected(TriageErrorCode.MIXED_ORIENTATION, "slices have different ImageOrientationPatient")
    normal = np.cross(orientations[0, :3], orientations[0, 3:])
    normal /= np.linalg.norm(normal)
    axial_angle = float(np.degrees(np.arccos(min(1.0, abs(normal[2])))))
    if axial_angle > MAX_AXIAL_ANGLE_DEG:
        raise _Rejected(TriageErrorCode.NOT_AXIAL, f"slice normal is {axial_angle:.0f} deg from the patient axis "
                        "(a sagittal/coronal reformat)")
    reasons.append("axial orientation")
    positions = np.array([i.position_mm for i in instances], dtype=np.float64)
    along_normal = positions @ normal
    order = np.argsort(along_normal, kind="stable")
    steps = np.diff(along_normal[order])
    if np.any(steps < _GEOMETRY_TOLERANCE):
        raise _Rejected(TriageErrorCode.INCONSISTENT_GEOMETRY, "two slices share one position (duplicates)")
    spacing = float(np.median(steps))
    ratios = steps / spacing
    if np.any(ratios > 1.5):
        missing = int(np.round(ratios[ratios > 1.5] - 1).sum())
        raise _Rejected(TriageErrorCode.MISSING_SLICES, f"about {missing} slice(s) missing (gap of "
                        f"{float(steps.max()):.2f} mm for a {spacing:.2f} mm spacing)")
    if np.abs(ratios - 1.0).max() > SPACING_TOLERANCE:
        raise _Rejected(TriageErrorCode.IRREGULAR_SLICE_SPACING, f"slice spacing varies from {float(steps.min()):.2f}"
                        f" to {float(steps.max()):.2f} mm")
    reasons.append(f"regular slice spacing {spacing:.3g} mm")
    _check_tilt(positions[order], normal, instances)
    reasons.append("no gantry tilt")
    return tuple(instances[int(k)] for k in order), spacing


def _check_tilt(ordered_positions: np.ndarray, normal: np.ndarray, instances: tuple[DicomInstance, ...]) -> None:
    """Positions must advance along the slice normal; a sheared stack means a tilted gantry."""
    travel = ordered_positions[-1] - ordered_positions[0]
    shear_deg = float(np.degrees(np.arccos(min(1.0, abs(float(travel @ normal)) / float(np.linalg.norm(travel))))))
    tag_tilt = max(abs(i.gantry_tilt_deg) for i in instances)
    if shear_deg > MAX_TILT_DEG:
        raise _Rejected(TriageErrorCode.GANTRY_TILT, f"gantry tilt: the slice stack is sheared by {shear_deg:.1f} deg "
                        f"(GantryDetectorTilt {tag_tilt:g}); resample the series without tilt")
