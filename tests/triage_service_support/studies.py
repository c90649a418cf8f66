"""Study archives for the service tests: a synthetic chest series zipped, and the real chest crop as DICOM."""

from __future__ import annotations

from pathlib import Path

from dicom_support.builders import chest_phantom, write_volume_series, zip_folder
from medskills.dicom import read_nifti_volume

CHEST_CROP = ("ct_chest_crop_1p5mm", "image.nii.gz")
CHEST_CROP_STUDY_UID = "1.2.826.0.1.88"


def chest_zip(folder: Path) -> Path:
    """A ZIP of a synthetic chest series (80 slices, lungs over 180 mm) that passes the chest rules."""
    series = folder / "chest_series"
    series.mkdir(parents=True, exist_ok=True)
    write_volume_series(series, chest_phantom())
    return zip_folder(series, folder / "chest.zip")


def chest_crop_series(folder: Path, shared_data: Path) -> Path:
    """The real chest crop (``../shared/data/ct_chest_crop_1p5mm``) written as an axial CT DICOM series folder.

    The HU values are kept exactly (stored as int16 with intercept -1024); the headers are the
    builder's (one series, kernel B70f), not the scanner's, which the NIfTI does not carry.
    """
    series = folder / "chest_crop_series"
    series.mkdir(parents=True, exist_ok=True)
    volume = read_nifti_volume(shared_data.joinpath(*CHEST_CROP))
    write_volume_series(series, volume, study_uid=CHEST_CROP_STUDY_UID, series_uid=f"{CHEST_CROP_STUDY_UID}.1")
    return series


def chest_crop_zip(folder: Path, shared_data: Path) -> Path:
    """``chest.zip``: the real chest crop as a zipped DICOM series (see :func:`chest_crop_series`)."""
    return zip_folder(chest_crop_series(folder, shared_data), folder / "chest.zip")
