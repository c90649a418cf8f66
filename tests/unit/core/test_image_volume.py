"""The one volume type and NIfTI reader: stated orientation and units, exact canonical reorientation."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medskills.core.errors import InputError
from medskills.core.image_volume import (
    ImageVolume,
    VolumeOrientation,
    VolumeUnits,
    canonical_transform,
    read_nifti,
)


def test_on_disk_and_canonical_reads_of_a_real_lps_scan(shared_data: Path) -> None:
    path = shared_data / "ct_chest_crop_1p5mm" / "image.nii.gz"
    stored = nib.load(path)
    on_disk = read_nifti(path, orientation=VolumeOrientation.ON_DISK, units=VolumeUnits.HU)
    assert nib.aff2axcodes(on_disk.affine) == nib.aff2axcodes(stored.affine) != ("R", "A", "S")
    assert on_disk.array.dtype == stored.get_data_dtype() and on_disk.units is VolumeUnits.HU
    canonical = read_nifti(path, orientation=VolumeOrientation.CANONICAL_RAS)
    reference = nib.as_closest_canonical(stored)
    np.testing.assert_array_equal(canonical.array, np.asarray(reference.dataobj))
    np.testing.assert_allclose(canonical.affine, reference.affine)
    assert canonical.spacing_mm == pytest.approx((1.5, 1.5, 1.5)) and canonical.units is VolumeUnits.UNKNOWN


@pytest.mark.parametrize("axes", [(0, 1, 2), (2, 0, 1), (1, 2, 0)])
@pytest.mark.parametrize("signs", [(1, 1, 1), (-1, 1, -1), (-1, -1, 1)])
def test_writing_through_the_source_view_fills_the_canonical_grid_like_nibabel(axes: tuple[int, int, int],
                                                                              signs: tuple[int, int, int]) -> None:
    source = np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5)
    affine = np.eye(4)
    affine[:3, :3] = np.eye(3)[:, list(axes)] * np.array(signs) * np.array([0.5, 1.0, 2.0])
    transform = canonical_transform(affine, source.shape)
    reference = nib.as_closest_canonical(nib.Nifti1Image(source, affine))
    canonical = np.empty(transform.canonical_shape, dtype=np.float32)
    transform.source_view(canonical)[...] = source
    np.testing.assert_array_equal(canonical, np.asarray(reference.dataobj))
    np.testing.assert_array_equal(transform.apply(source), canonical)
    np.testing.assert_allclose(transform.canonical_affine, reference.affine)


def test_a_volume_whose_spacing_disagrees_with_its_affine_is_refused() -> None:
    with pytest.raises(ValueError, match="disagrees with the affine"):
        ImageVolume(array=np.zeros((2, 2, 2)), affine=np.eye(4), spacing_mm=(1.0, 1.0, 2.0), units=VolumeUnits.HU,
                    orientation=VolumeOrientation.ON_DISK)


def test_a_folder_given_for_a_nifti_file_is_refused_as_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder; a NIfTI file"):
        read_nifti(tmp_path, orientation=VolumeOrientation.ON_DISK)


def test_missing_and_multi_volume_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_nifti(tmp_path / "absent.nii.gz", orientation=VolumeOrientation.ON_DISK)
    nib.save(nib.Nifti1Image(np.zeros((3, 3, 3, 2), np.int16), np.eye(4)), tmp_path / "4d.nii.gz")
    with pytest.raises(InputError, match=r"\(3, 3, 3, 2\)"):
        read_nifti(tmp_path / "4d.nii.gz", orientation=VolumeOrientation.CANONICAL_RAS)
