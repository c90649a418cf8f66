"""Read IMAGE once (NIfTI file or DICOM series folder) and check it is something the bundle can use.

The bundle swallows loader errors and exits 0 with no output for unreadable, non-positive or
non-finite inputs, so every such case is caught here, before any subprocess.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from medskills.core.errors import InputError
from medskills.core.preflight import PreflightCollector
from medskills.core.volumes import Geometry, IntensitySummary, geometry_of, read_volume, summarize_intensity
from medskills.segmentation.labels import SegmentationModality
from medskills.segmentation.models import InputKind

if TYPE_CHECKING:
    from medskills.dicom import DicomSeries

__all__ = ["LoadedInput", "check_input_values", "load_input"]

SPACING_RANGE_MM = (0.1, 10.0)
CT_MIN_HU_EXPECTED_BELOW = -500.0
_FIELD = "IMAGE"


@dataclass(frozen=True)
class LoadedInput:
    """The input volume read once. ``array`` and ``affine`` are in the grid the bundle will read."""

    path: Path
    kind: InputKind
    array: npt.NDArray[np.generic]
    affine: npt.NDArray[np.float64]
    geometry: Geometry
    intensity: IntensitySummary
    series: DicomSeries | None = None
    header_codes: tuple[int, int] | None = None


def load_input(path: Path, collector: PreflightCollector) -> LoadedInput | None:
    """Read a NIfTI file or a DICOM series folder; record why not and return None when it fails."""
    path = Path(path)
    if not path.exists():
        collector.error("input_missing", f"{path} does not exist.", field=_FIELD,
                        fix="pass an existing NIfTI file or a folder holding one DICOM series")
        return None
    if path.is_dir():
        return _load_dicom_series(path, collector)
    return _load_nifti(path, collector)


def _load_nifti(path: Path, collector: PreflightCollector) -> LoadedInput | None:
    import nibabel as nib

    try:
        header_image = nib.load(str(path))
        if not isinstance(header_image, nib.Nifti1Image | nib.Nifti2Image):
            raise TypeError(f"{type(header_image).__name__} is not a NIfTI image")
        shape = tuple(int(n) for n in header_image.shape)
        codes = (int(header_image.header["sform_code"]), int(header_image.header["qform_code"]))
    except Exception as err:  # nibabel raises many types for foreign or corrupt files
        collector.error("input_unreadable", f"{path} is not a readable NIfTI file ({type(err).__name__}: {err}).",
                        field=_FIELD, fix="pass a .nii/.nii.gz file, or a folder with one DICOM series")
        return None
    if not (len(shape) == 3 or (len(shape) == 4 and shape[3] == 1)):
        collector.error("input_not_3d", f"{path} has shape {shape}; one 3D volume is required (the bundle would "
                        "treat a 4th axis as channels and fail).", field=_FIELD,
                        fix="split multi-frame or multi-echo series and pass one 3D volume")
        return None
    try:
        volume = read_volume(path)
    except InputError as err:
        collector.error("input_unreadable", str(err), field=_FIELD, fix="re-export the volume as NIfTI")
        return None
    return LoadedInput(path=path, kind=InputKind.NIFTI, array=volume.array, affine=volume.affine,
                       geometry=volume.geometry, intensity=summarize_intensity(volume.array), header_codes=codes)


def _load_dicom_series(path: Path, collector: PreflightCollector) -> LoadedInput | None:
    from medskills.dicom import read_dicom_series

    try:
        series = read_dicom_series(path)
    except InputError as err:
        collector.error("input_unreadable", f"{path}: not one readable DICOM series: {err}", field=_FIELD,
                        fix="pass a folder holding exactly one DICOM series, or a NIfTI file")
        return None
    usable = [c for c in series.selection.candidates if c.rejection_code is None] if series.selection else []
    if len(usable) > 1:
        chosen = series.selection.chosen_series_uid if series.selection else None
        others = ", ".join(f"{c.series_uid} ({c.slice_count} slices)" for c in usable if c.series_uid != chosen)
        collector.warning("input_several_series", f"{path} holds {len(usable)} usable DICOM series; the one with "
                          f"the most slices, {chosen}, is segmented and {others} left out.", field=_FIELD,
                          fix="to segment another, pass a folder holding only that series")
    volume = series.volume
    geometry = geometry_of(volume.array.shape, volume.affine, str(volume.array.dtype))
    return LoadedInput(path=path, kind=InputKind.DICOM_SERIES, array=volume.array, affine=volume.affine,
                       geometry=geometry, intensity=summarize_intensity(volume.array), series=series)


def check_input_values(loaded: LoadedInput, *, modality: SegmentationModality | None, collector: PreflightCollector) -> None:
    """Finite values, something above 0, an invertible affine, a plausible spacing, a real orientation."""
    intensity = loaded.intensity
    if not intensity.is_finite:
        collector.error("input_not_finite", f"{loaded.path} has {intensity.nonfinite_voxels} NaN/inf voxels.",
                        field=_FIELD, fix="replace non-finite voxels (e.g. with the background value) first")
    if intensity.maximum is None or intensity.maximum <= 0:
        collector.error("input_not_positive", f"{loaded.path} has no voxel above 0 (max {intensity.maximum}); the "
                        "bundle crops to values > 0 and would exit 0 without writing anything.", field=_FIELD,
                        fix="check the intensities: CT must be in HU, MRI must have positive signal")
    _check_affine(loaded, collector)
    if (modality is SegmentationModality.CT_BODY and intensity.minimum is not None
            and intensity.minimum > CT_MIN_HU_EXPECTED_BELOW):
        collector.warning("input_ct_not_hu", f"minimum value {intensity.minimum:g} is above "
                          f"{CT_MIN_HU_EXPECTED_BELOW:g}; a CT in HU has air near -1000 (offset or not CT?).",
                          field=_FIELD)


def _check_affine(loaded: LoadedInput, collector: PreflightCollector) -> None:
    rotation_zoom = loaded.affine[:3, :3]
    if not np.all(np.isfinite(loaded.affine)) or abs(float(np.linalg.det(rotation_zoom))) < 1e-9:
        collector.error("input_affine_singular", f"{loaded.path} has a non-invertible affine; voxels cannot be placed "
                        "in the patient.", field=_FIELD, fix="repair the header (sform/qform) or re-export")
        return
    low, high = SPACING_RANGE_MM
    spacing = loaded.geometry.spacing_mm
    if not all(low <= s <= high for s in spacing):
        collector.error("input_spacing_out_of_range", f"voxel spacing {tuple(round(s, 4) for s in spacing)} mm is "
                        f"outside {low}-{high} mm.", field=_FIELD,
                        fix="check the header's pixdim / the DICOM PixelSpacing and SliceThickness")
    if loaded.header_codes == (0, 0):
        collector.error("input_no_orientation", f"{loaded.path} has sform_code = qform_code = 0: its orientation is "
                        "unknown, so left and right may be swapped.", field=_FIELD,
                        fix="convert the DICOM again with a tool that writes the patient orientation")
