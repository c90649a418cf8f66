"""Volume assembly: slice order from positions, HU rescale, RAS affine, deterministic UIDs."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from dicom_support.builders import write_series
from medskills.core.errors import StudyError
from medskills.dicom import DicomErrorCode, read_dicom_files, read_dicom_series


def test_slices_are_sorted_by_position_and_rescaled_to_hu(tmp_path: Path) -> None:
    paths = write_series(tmp_path)
    shuffled = list(paths)
    random.Random(3).shuffle(shuffled)
    series = read_dicom_files(shuffled)
    volume = series.volume
    # pixel value 100*k + column - 1024; RAS flips the column axis (LPS row direction +x is patient left)
    assert volume.shape == (20, 24, 24)
    assert volume.array[19, 0, :].tolist() == [100.0 * k - 1024 for k in range(24)]
    assert volume.array[:, 5, 3].tolist() == [300.0 + c - 1024 for c in range(19, -1, -1)]
    assert volume.spacing_mm == pytest.approx((0.7, 0.8, 1.5))
    assert [p.name for p in series.source_paths] == [p.name for p in paths]


def test_affine_places_the_first_voxel_in_ras(tmp_path: Path) -> None:
    write_series(tmp_path, origin_mm=(-10.0, -20.0, -100.0))
    volume = read_dicom_series(tmp_path).volume
    # the last column (index 19) of slice 0 in LPS is x = -10 + 19 * 0.7; RAS x is its negation
    expected_origin = [10.0 - 19 * 0.7, 20.0 - 23 * 0.8, -100.0]
    np.testing.assert_allclose(volume.affine[:3, 3], expected_origin, atol=1e-6)
    np.testing.assert_allclose(np.diag(volume.affine)[:3], [0.7, 0.8, 1.5], atol=1e-6)


def test_a_flipped_orientation_with_a_downward_normal_still_ends_up_ras(tmp_path: Path) -> None:
    # normal (0, 0, -1): sorting along the normal puts the most superior file first; RAS reverses it
    write_series(tmp_path, slice_step_mm=-1.5, orientation=(-1, 0, 0, 0, 1, 0))
    series = read_dicom_series(tmp_path)
    affine = series.volume.affine
    assert affine[2, 2] > 0 and affine[0, 0] > 0 and affine[1, 1] > 0
    assert [p.name for p in series.source_paths] == [f"slice_{k:04d}.dcm" for k in range(24)]
    assert series.volume.array[0, 0, :].tolist() == [100.0 * k - 1024 for k in range(24)]


def test_blank_uids_get_a_stable_derived_uid(tmp_path: Path) -> None:
    write_series(tmp_path, study_uid="", series_uid="")
    first = read_dicom_series(tmp_path).volume
    second = read_dicom_series(tmp_path).volume
    assert first.series_uid.startswith("2.25.") or first.series_uid.count(".") > 3
    assert (first.study_uid, first.series_uid) == (second.study_uid, second.series_uid)
    assert first.study_uid != first.series_uid


def test_a_truncated_slice_is_reported_as_truncated(tmp_path: Path) -> None:
    paths = write_series(tmp_path)
    data = paths[5].read_bytes()
    paths[5].write_bytes(data[: len(data) - 300])
    with pytest.raises(StudyError) as caught:
        read_dicom_series(tmp_path)
    assert caught.value.error_code == DicomErrorCode.TRUNCATED_FILE and "slice_0005.dcm" in str(caught.value)


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StudyError) as caught:
        read_dicom_series(tmp_path / "absent")
    assert caught.value.error_code == DicomErrorCode.NO_DICOM_SERIES
    shutil.rmtree(tmp_path)


@pytest.mark.parametrize("syntax_name", ["JPEGBaseline8Bit", "JPEGLosslessSV1", "JPEGLSLossless", "JPEG2000Lossless",
                                         "JPEG2000", "RLELossless"])
def test_compressed_transfer_syntaxes_have_a_decoder_installed(syntax_name: str) -> None:
    import pydicom.uid
    from pydicom.pixels import get_decoder

    assert get_decoder(getattr(pydicom.uid, syntax_name)).is_available


def test_a_sagittal_series_lands_where_nibabel_puts_it(tmp_path: Path) -> None:
    import nibabel as nib
    import pydicom

    paths = write_series(tmp_path, orientation=(0, 1, 0, 0, 0, -1), slice_step_mm=2.0)
    volume = read_dicom_series(tmp_path).volume
    # the plain stack: voxel (column, row, slice) in file order, which is the order along the normal here
    stack = np.stack([pydicom.dcmread(p).pixel_array.T.astype(np.float32) - 1024 for p in paths], axis=-1)
    first = pydicom.dcmread(paths[0])
    affine = np.eye(4)
    affine[:3, 0] = np.array([0, 1, 0]) * 0.7
    affine[:3, 1] = np.array([0, 0, -1]) * 0.8
    affine[:3, 2] = np.array([-1, 0, 0]) * 2.0
    affine[:3, 3] = [float(v) for v in first.ImagePositionPatient]
    reference = nib.as_closest_canonical(nib.Nifti1Image(stack, np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine))
    np.testing.assert_array_equal(volume.array, np.asarray(reference.dataobj))
    np.testing.assert_allclose(volume.affine, reference.affine, atol=1e-6)
    assert nib.aff2axcodes(volume.affine) == ("R", "A", "S")
