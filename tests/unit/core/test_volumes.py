from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from medskills.core.errors import InputError
from medskills.core.volumes import (
    as_label_map,
    compare_geometry,
    label_statistics,
    read_volume,
    summarize_intensity,
    write_nifti,
)


def test_label_statistics_match_an_independent_count_on_the_real_reference(shared_data: Path) -> None:
    loaded = read_volume(shared_data / "ct_abdomen_3mm" / "reference_totalsegmentator.nii.gz")
    labels = as_label_map(loaded.array, where="reference")
    stats = label_statistics(labels, loaded.geometry.spacing_mm)
    ids, counts = np.unique(labels, return_counts=True)
    expected = {int(i): int(c) for i, c in zip(ids, counts, strict=True) if i != 0}
    assert {e.label_id: e.voxel_count for e in stats.labels} == expected
    voxel_ml = float(np.prod(loaded.geometry.spacing_mm)) / 1000
    liver = stats.by_id()[5]  # TotalSegmentator "liver"
    assert liver.volume_ml == pytest.approx(expected[5] * voxel_ml, rel=1e-6)
    assert stats.foreground_voxels + stats.background_voxels == labels.size


def test_read_volume_keeps_dtype_and_reports_ras_geometry(shared_data: Path) -> None:
    loaded = read_volume(shared_data / "ct_abdomen_3mm" / "image.nii.gz")
    assert loaded.geometry.shape == (122, 101, 30)
    assert loaded.geometry.spacing_mm == pytest.approx((3.0, 3.0, 3.0), abs=1e-3)
    assert loaded.geometry.axis_codes == "RAS"
    assert loaded.array.dtype == np.int16


def test_read_volume_rejects_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_volume(tmp_path / "nope.nii.gz")


def test_read_volume_rejects_a_corrupt_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.nii.gz"
    bad.write_bytes(b"not a nifti")
    with pytest.raises(InputError, match="not a readable NIfTI"):
        read_volume(bad)


def test_as_label_map_casts_integral_floats() -> None:
    labels = as_label_map(np.array([[[0.0, 3.0], [200.0, 1.0]]], dtype=np.float32), where="x")
    assert labels.dtype == np.int32 and labels.max() == 200


def test_as_label_map_rejects_non_integral_values() -> None:
    with pytest.raises(InputError, match="not integral"):
        as_label_map(np.array([[[0.0, 1.5]]], dtype=np.float32), where="pred.nii.gz")


def test_as_label_map_rejects_negative_ids() -> None:
    with pytest.raises(InputError, match="negative"):
        as_label_map(np.array([[[-1, 2]]], dtype=np.int16), where="x")


def test_summarize_intensity_counts_nonfinite_voxels() -> None:
    summary = summarize_intensity(np.array([1.0, np.nan, 3.0, np.inf], dtype=np.float32))
    assert summary.nonfinite_voxels == 2 and not summary.is_finite
    assert (summary.minimum, summary.maximum, summary.mean) == (1.0, 3.0, 2.0)


def test_compare_geometry_detects_shape_spacing_and_affine_differences(tmp_path: Path) -> None:
    affine = np.diag([1.5, 1.5, 2.0, 1.0])
    first = write_nifti(tmp_path / "a.nii.gz", np.zeros((4, 4, 4), np.float32), affine)
    shifted = affine.copy()
    shifted[0, 3] = 0.5
    second = write_nifti(tmp_path / "b.nii.gz", np.zeros((4, 4, 5), np.float32), shifted)
    same = compare_geometry(read_volume(first).geometry, read_volume(first).geometry)
    different = compare_geometry(read_volume(first).geometry, read_volume(second).geometry)
    assert same.is_match
    assert not different.is_shape_match and not different.is_affine_match and different.is_spacing_match
    assert different.affine_max_abs_diff == pytest.approx(0.5)


@pytest.mark.parametrize(("values", "message"), [
    (np.array([[[0, 4294967295]]], dtype=np.uint32), "label id 4294967295 is too large"),
    (np.array([[[0, 2**32 + 5]]], dtype=np.int64), "label id 4294967301 is too large"),
    (np.array([[[0, -(2**33)]]], dtype=np.int64), "negative ids (min -8589934592)"),
    (np.array([[[0.0, 3e9]]], dtype=np.float64), "label id 3e+09 is too large"),
    (np.array([[[0.0, -3e9]]], dtype=np.float64), "negative ids (min -3e+09)"),
], ids=["uint32-max", "int64-wraps-to-5", "int64-negative", "float-large", "float-negative"])
def test_as_label_map_refuses_ids_outside_int32_with_their_true_values(values: np.ndarray, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        as_label_map(values, where="mask.nii.gz")


@pytest.mark.parametrize("dtype", [np.complex64, np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])],
                         ids=["complex", "rgb"])
def test_as_label_map_refuses_values_that_are_not_one_number_a_voxel(dtype: np.dtype) -> None:
    with pytest.raises(InputError, match="a label map holds one whole number a voxel"):
        as_label_map(np.zeros((2, 2, 2), dtype=dtype), where="mask.nii.gz")
