"""Read a NIfTI CT (``.nii`` or ``.nii.gz``) into the canonical :class:`HUVolume`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medskills.core.image_volume import to_canonical_ras
from medskills.dicom.errors import DicomErrorCode, dicom_error
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
    """Load ``path`` as float32 HU in closest-canonical RAS+ orientation.

    The voxel values are taken as HU after the header's scaling (``scl_slope``/``scl_inter``);
    use :func:`medskills.dicom.check_hu_plausible` to refuse volumes that are not HU.

    Raises:
        StudyError: ``unsupported_file_type`` for a name not ending ``.nii``/``.nii.gz``;
            ``invalid_nifti`` when nibabel cannot read it or it is not a single 3D volume.
    """
    import nibabel as nib

    path = Path(path)
    if not path.name.lower().endswith(NIFTI_SUFFIXES):
        raise dicom_error(
            DicomErrorCode.UNSUPPORTED_FILE_TYPE,
            f"{path.name}: expected a NIfTI file ending in .nii or .nii.gz.",
        )
    try:
        image = nib.load(path)
        if not isinstance(image, nib.Nifti1Image | nib.Nifti2Image):
            raise TypeError(f"{type(image).__name__} is not a NIfTI image")
        data = np.asanyarray(image.dataobj)
    except Exception as err:  # nibabel raises many unrelated types for corrupt files
        raise dicom_error(
            DicomErrorCode.INVALID_NIFTI,
            f"{path.name}: not a readable NIfTI file ({type(err).__name__}: {err}).",
        ) from err
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3 or min(data.shape) < 1:
        raise dicom_error(
            DicomErrorCode.INVALID_NIFTI,
            f"{path.name}: expected one 3D volume, got array shape {tuple(data.shape)}.",
        )
    array, affine = to_canonical_ras(data, np.asarray(image.affine, dtype=np.float64))
    spacing = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    name = nifti_study_name(path)
    return HUVolume(
        array=array,
        affine=affine,
        spacing_mm=(float(spacing[0]), float(spacing[1]), float(spacing[2])),
        study_uid=f"nifti_{name}",
        series_uid=f"nifti_{name}_series",
        source_path=path,
    )
