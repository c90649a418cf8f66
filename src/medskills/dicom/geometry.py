"""Slice geometry of one series: acquisition plane, slice order, spacing and the voxel-to-RAS affine.

Patient coordinates in DICOM are LPS; the affine returned here maps voxel indices
``(column, row, slice)`` to RAS millimetres (NIfTI convention).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from medskills.dicom.errors import DicomErrorCode
from medskills.dicom.headers import DicomInstance

__all__ = [
    "MAX_PLANE_ANGLE_DEG",
    "MAX_TILT_DEG",
    "SPACING_TOLERANCE",
    "AcquisitionPlane",
    "GeometryRefusal",
    "SliceStack",
    "plane_of",
    "stack_slices",
    "voxel_to_ras_affine",
]

MAX_PLANE_ANGLE_DEG = 30.0
MAX_TILT_DEG = 1.0
SPACING_TOLERANCE = 0.1
_GEOMETRY_TOLERANCE = 1e-3
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
_PLANE_BY_NORMAL_AXIS = ("sagittal", "coronal", "axial")  # normal along LPS x, y, z


class AcquisitionPlane(StrEnum):
    """The patient plane the slices lie in, from the slice normal."""

    AXIAL = "axial"
    CORONAL = "coronal"
    SAGITTAL = "sagittal"
    OBLIQUE = "oblique"


class GeometryRefusal(Exception):
    """The slices do not form one regular stack; ``code`` says which rule failed."""

    def __init__(self, code: DicomErrorCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class SliceStack:
    """The instances in order along the slice normal, with the stack's regular spacing in mm."""

    instances: tuple[DicomInstance, ...]
    slice_spacing_mm: float
    plane: AcquisitionPlane
    reasons: tuple[str, ...]


def plane_of(orientation: tuple[float, ...] | None) -> AcquisitionPlane | None:
    """Plane of an ImageOrientationPatient (six direction cosines); None when absent or malformed.

    A normal within :data:`MAX_PLANE_ANGLE_DEG` of a patient axis names that axis's plane; any
    other normal is oblique.
    """
    if orientation is None or len(orientation) != 6:
        return None
    normal = _normal(np.asarray(orientation, dtype=np.float64))
    if normal is None:
        return None
    axis = int(np.argmax(np.abs(normal)))
    angle = float(np.degrees(np.arccos(min(1.0, abs(float(normal[axis]))))))
    return AcquisitionPlane(_PLANE_BY_NORMAL_AXIS[axis]) if angle <= MAX_PLANE_ANGLE_DEG else AcquisitionPlane.OBLIQUE


def stack_slices(instances: tuple[DicomInstance, ...]) -> SliceStack:
    """Check the slices form one regular, untilted stack and order them along the normal.

    Raises:
        GeometryRefusal: ``inconsistent_geometry`` (sizes, spacing, missing tags, duplicates),
            ``mixed_orientation``, ``missing_slices``, ``irregular_slice_spacing``, ``gantry_tilt``.
    """
    reasons: list[str] = []
    first = instances[0]
    if len({(i.rows, i.columns, i.pixel_spacing_mm) for i in instances}) != 1 or first.pixel_spacing_mm is None:
        raise GeometryRefusal(DicomErrorCode.INCONSISTENT_GEOMETRY, "rows, columns or pixel spacing differ between "
                              "slices (or PixelSpacing is missing)")
    reasons.append("consistent rows, columns and pixel spacing")
    if any(i.orientation is None or len(i.orientation) != 6 or i.position_mm is None for i in instances):
        raise GeometryRefusal(DicomErrorCode.INCONSISTENT_GEOMETRY, "ImageOrientationPatient or "
                              "ImagePositionPatient is missing")
    orientations = np.array([i.orientation for i in instances], dtype=np.float64)
    if np.abs(orientations - orientations[0]).max() > _GEOMETRY_TOLERANCE:
        raise GeometryRefusal(DicomErrorCode.MIXED_ORIENTATION, "slices have different ImageOrientationPatient")
    normal = _normal(orientations[0])
    plane = plane_of(first.orientation)
    if normal is None or plane is None:
        raise GeometryRefusal(DicomErrorCode.INCONSISTENT_GEOMETRY, "ImageOrientationPatient is degenerate")
    reasons.append(f"{plane.value} orientation")
    positions = np.array([i.position_mm for i in instances], dtype=np.float64)
    along_normal = positions @ normal
    order = np.argsort(along_normal, kind="stable")
    spacing = _regular_spacing(np.diff(along_normal[order]))
    reasons.append(f"regular slice spacing {spacing:.3g} mm")
    _check_tilt(positions[order], normal, instances)
    reasons.append("no gantry tilt")
    return SliceStack(instances=tuple(instances[int(k)] for k in order), slice_spacing_mm=spacing, plane=plane,
                      reasons=tuple(reasons))


def voxel_to_ras_affine(instances: tuple[DicomInstance, ...]) -> npt.NDArray[np.float64]:
    """Voxel ``(column, row, slice)`` -> RAS mm for ``instances`` in stack order (see :func:`stack_slices`)."""
    first, last = instances[0], instances[-1]
    assert first.orientation is not None and first.position_mm is not None and first.pixel_spacing_mm is not None
    assert last.position_mm is not None
    row_direction = np.asarray(first.orientation[:3])
    column_direction = np.asarray(first.orientation[3:])
    row_spacing, column_spacing = first.pixel_spacing_mm
    origin = np.asarray(first.position_mm)
    if len(instances) > 1:
        slice_step = (np.asarray(last.position_mm) - origin) / (len(instances) - 1)
    else:
        slice_step = np.cross(row_direction, column_direction) * (first.slice_thickness_mm or 1.0)
    affine = np.eye(4)
    affine[:3, 0] = row_direction * column_spacing
    affine[:3, 1] = column_direction * row_spacing
    affine[:3, 2] = slice_step
    affine[:3, 3] = origin
    return np.asarray(_LPS_TO_RAS @ affine, dtype=np.float64)


def _normal(orientation: npt.NDArray[np.float64]) -> npt.NDArray[np.float64] | None:
    normal = np.cross(orientation[:3], orientation[3:])
    length = float(np.linalg.norm(normal))
    return None if length < _GEOMETRY_TOLERANCE else np.asarray(normal / length, dtype=np.float64)


def _regular_spacing(steps: npt.NDArray[np.float64]) -> float:
    if np.any(steps < _GEOMETRY_TOLERANCE):
        raise GeometryRefusal(DicomErrorCode.INCONSISTENT_GEOMETRY, "two slices share one position (duplicates)")
    spacing = float(np.median(steps))
    ratios = steps / spacing
    if np.any(ratios > 1.5):
        missing = int(np.round(ratios[ratios > 1.5] - 1).sum())
        raise GeometryRefusal(DicomErrorCode.MISSING_SLICES, f"about {missing} slice(s) missing (gap of "
                              f"{float(steps.max()):.2f} mm for a {spacing:.2f} mm spacing)")
    if np.abs(ratios - 1.0).max() > SPACING_TOLERANCE:
        raise GeometryRefusal(DicomErrorCode.IRREGULAR_SLICE_SPACING, f"slice spacing varies from "
                              f"{float(steps.min()):.2f} to {float(steps.max()):.2f} mm")
    return spacing


def _check_tilt(ordered_positions: npt.NDArray[np.float64], normal: npt.NDArray[np.float64],
                instances: tuple[DicomInstance, ...]) -> None:
    """Positions must advance along the slice normal; a sheared stack means a tilted gantry."""
    travel = ordered_positions[-1] - ordered_positions[0]
    shear_deg = float(np.degrees(np.arccos(min(1.0, abs(float(travel @ normal)) / float(np.linalg.norm(travel))))))
    tag_tilt = max(abs(i.gantry_tilt_deg) for i in instances)
    if shear_deg > MAX_TILT_DEG:
        raise GeometryRefusal(DicomErrorCode.GANTRY_TILT, f"gantry tilt: the slice stack is sheared by "
                              f"{shear_deg:.1f} deg (GantryDetectorTilt {tag_tilt:g}); resample the series "
                              "without tilt")
