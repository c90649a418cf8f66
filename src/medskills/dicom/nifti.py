"""Read a NIfTI CT (``.nii`` or ``.nii.gz``) as the canonical :class:`HUVolume`, with study error codes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medskills.core.errors import InputError, study_error
from medskills.core.image_volume import (
    VolumeOrientation,
    open_nifti,
    read_nifti,
    spacing_from_affine,
    to_canonical_ras,
)
from medskills.dicom.archive import ArchiveLimits
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


def read_nifti_volume(path: Path, *, limits: ArchiveLimits | None = None) -> HUVolume:
    """Load ``path`` (core's :func:`read_nifti`) as float32 HU in closest-canonical RAS+ orientation.

    The voxel values are taken as HU after the header's scaling (``scl_slope``/``scl_inter``);
    use :func:`medskills.triage.chest.check_hu_plausible` to refuse volumes that are not HU.
    With ``limits`` (an upload), the voxel bytes the header declares are held to the same caps as a
    ZIP's contents before anything is decompressed: a 1 MB ``.nii.gz`` can declare gigabytes of zeros.

    Raises:
        StudyError: ``unsupported_file_type`` for a name not ending ``.nii``/``.nii.gz``;
            ``nifti_too_large`` past ``limits``; ``invalid_nifti`` when it is missing, unreadable or
            not a single 3D volume.
    """
    path = Path(path)
    if not path.name.lower().endswith(NIFTI_SUFFIXES):
        raise study_error(DicomErrorCode.UNSUPPORTED_FILE_TYPE,
                          f"{path.name}: expected a NIfTI file ending in .nii or .nii.gz.")
    if limits is not None:
        _check_declared_size(path, limits)
    try:
        on_disk = read_nifti(path, orientation=VolumeOrientation.ON_DISK)
    except InputError as err:
        raise study_error(DicomErrorCode.INVALID_NIFTI, f"{path.name}: {err}") from err
    array, affine = to_canonical_ras(on_disk.array, on_disk.affine)  # one float32 copy
    name = nifti_study_name(path)
    return HUVolume(array=array, affine=affine, spacing_mm=spacing_from_affine(affine), study_uid=f"nifti_{name}",
                    series_uid=f"nifti_{name}_series", source_path=path)


def _check_declared_size(path: Path, limits: ArchiveLimits) -> None:
    """Refuse, from the header alone, voxels that would expand past ``limits`` (absolute size, or ratio to the
    file's size); an unreadable header is left to :func:`read_nifti` to report."""
    try:
        image, shape = open_nifti(path)
    except InputError:  # read_nifti reports it, with its study error code
        return
    declared = int(np.prod(shape, dtype=np.int64)) * image.header.get_data_dtype().itemsize
    stored = path.stat().st_size
    if declared > limits.max_uncompressed_bytes:
        raise study_error(DicomErrorCode.NIFTI_TOO_LARGE,
                          f"{path.name} declares {declared} bytes of voxels, more than the limit of "
                          f"{limits.max_uncompressed_bytes}; crop or resample the volume, or raise "
                          "MEDSKILLS_ZIP_MAX_UNCOMPRESSED_BYTES.")
    if stored and declared / stored > limits.max_compression_ratio:
        raise study_error(DicomErrorCode.NIFTI_TOO_LARGE,
                          f"{path.name} expands {declared / stored:.0f}x ({stored} bytes declaring {declared}), past "
                          f"the {limits.max_compression_ratio:g}x limit for compressed uploads; a CT does not "
                          "compress that well. Check the file, or raise MEDSKILLS_ZIP_MAX_COMPRESSION_RATIO.")
