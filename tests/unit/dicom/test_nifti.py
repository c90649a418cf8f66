"""NIfTI reading: .nii and .nii.gz both work, into RAS+, with clear codes for bad files."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medskills.core.errors import StudyError
from medskills.dicom import ArchiveLimits, DicomErrorCode, read_nifti_volume


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_both_suffixes_read_into_ras(tmp_path: Path, suffix: str) -> None:
    array = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    affine = np.diag([-2.0, 1.0, 3.0, 1.0])  # LAS
    path = tmp_path / f"scan{suffix}"
    nib.save(nib.Nifti1Image(array, affine), path)
    volume = read_nifti_volume(path)
    assert volume.study_uid == "nifti_scan" and volume.series_uid == "nifti_scan_series"
    assert nib.aff2axcodes(volume.affine) == ("R", "A", "S") and volume.spacing_mm == (2.0, 1.0, 3.0)
    np.testing.assert_array_equal(volume.array, array[::-1].astype(np.float32))


def test_a_corrupt_nifti_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "broken.nii.gz"
    path.write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(StudyError) as caught:
        read_nifti_volume(path)
    assert caught.value.error_code == DicomErrorCode.INVALID_NIFTI


def test_a_4d_nifti_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "multi.nii"
    nib.save(nib.Nifti1Image(np.zeros((3, 3, 3, 2), dtype=np.int16), np.eye(4)), path)
    with pytest.raises(StudyError) as caught:
        read_nifti_volume(path)
    assert caught.value.error_code == DicomErrorCode.INVALID_NIFTI and "(3, 3, 3, 2)" in str(caught.value)


def test_a_wrong_suffix_is_unsupported(tmp_path: Path) -> None:
    with pytest.raises(StudyError) as caught:
        read_nifti_volume(tmp_path / "scan.mha")
    assert caught.value.error_code == DicomErrorCode.UNSUPPORTED_FILE_TYPE


def _zeros(path: Path, shape: tuple[int, ...]) -> Path:
    nib.save(nib.Nifti1Image(np.zeros(shape, dtype=np.int16), np.eye(4)), path)
    return path


def test_a_nifti_declaring_more_voxel_bytes_than_the_limit_is_refused_before_decompression(tmp_path: Path) -> None:
    path = _zeros(tmp_path / "big.nii.gz", (64, 64, 64))  # 524288 bytes of voxels
    with pytest.raises(StudyError) as caught:
        read_nifti_volume(path, limits=ArchiveLimits(max_uncompressed_bytes=500_000))
    assert caught.value.error_code == DicomErrorCode.NIFTI_TOO_LARGE
    assert "declares 524288 bytes of voxels, more than the limit of 500000" in str(caught.value)


def test_a_nifti_that_expands_past_the_compression_ratio_is_refused(tmp_path: Path) -> None:
    path = _zeros(tmp_path / "bomb.nii.gz", (64, 64, 64))  # zeros compress about 500x
    with pytest.raises(StudyError) as caught:
        read_nifti_volume(path, limits=ArchiveLimits(max_compression_ratio=200.0))
    assert caught.value.error_code == DicomErrorCode.NIFTI_TOO_LARGE and "past the 200x limit" in str(caught.value)


def test_a_nifti_within_the_limits_is_read(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(rng.integers(-1000, 1000, (16, 16, 16)).astype(np.int16), np.eye(4)), path)
    assert read_nifti_volume(path, limits=ArchiveLimits()).shape == (16, 16, 16)
