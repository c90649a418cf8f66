"""Read a NIfTI CT (``.nii`` or ``.nii.gz``) as the canonical :class:`HUVolume`, with study error codes."""

from __future__ import annotations

from pathlib import Path

from medskills.core.errors import InputError, study_error
from medskills.core.image_volume import VolumeOrientation, read_nifti, spacing_from_affine, to_canonical_ras
from medskills.dicom.errors import DicomErrorCode
from medskills.dicom.volume import HUVolume

__all__ = ["NIFTI_SUFFIXES", "nifti_study_name", "read_nifti_volume"]

NIFTI_SUFFIXES = (".nii.gz", ".nii")


def nifti_study_name(path: Path) -> str:
    """File name without its NIfTI suffix: ``scan.nii.gz`` -> ``scan``."""
    name = path.name
    for suffix in NIFTI_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def read_nifti_volume(path: Path) -> HUVolume:
    """Load ``path`` (core's :func:`read_nifti`) as float32 HU in closest-canonical RAS+ orientation.

    The voxel values are taken as HU after the header's scaling (``scl_slope``/``scl_inter``);
    use :func:`medskills.triage.chest.check_hu_plausible` to refuse volumes that are not HU.

    Raises:
        StudyError: ``unsupported_file_type`` for a name not ending ``.nii``/``.nii.gz``;
            ``invalid_nifti`` when it is missing, unreadable or not a single 3D volume.
    """
    path = Path(path)
    if not path.name.lower().endswith(NIFTI_SUFFIXES):
        raise study_error(DicomErrorCode.UNSUPPORTED_FILE_TYPE,
                          f"{path.name}: expected a NIfTI file ending in .nii or .nii.gz.")
    try:
        on_disk = read_nifti(path, orientation=VolumeOrientation.ON_DISK)
    except InputError as err:
        raise study_error(DicomErrorCode.INVALID_NIFTI, f"{path.name}: {err}") from err
    array, affine = to_canonical_ras(on_disk.array, on_disk.affine)  # one float32 copy
    name = nifti_study_name(path)
    return HUVolume(array=array, affine=affine, spacing_mm=spacing_from_affine(affine), study_uid=f"nifti_{name}",
                    series_uid=f"nifti_{name}_series", source_path=path)
