"""Reverting template-grid volumes onto the input grid from the metadata alone."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medskills.core.errors import InputError, UsageError
from medskills.core.io import write_json_atomic
from medskills.segmentation.brain_preprocess.models import (
    AffineTransformRecord,
    BrainPreprocessParameters,
    BrainRevertRequest,
    RevertMetadata,
    TemplateIdentity,
)
from medskills.segmentation.brain_preprocess.revert import revert_brain_volume, revert_to_input_grid

TEMPLATE_AFFINE = np.array([[1.0, 0, 0, -10], [0, 1, 0, -12], [0, 0, 1, -8], [0, 0, 0, 1]])
# the input is stored LAS at 2 mm (x flipped), so the revert must undo a flip, a zoom and a shift
INPUT_AFFINE = np.array([[-2.0, 0, 0, 9], [0, 2, 0, -12], [0, 0, 2, -8], [0, 0, 0, 1]])
SHIFT_MM = np.array([3.0, 0.0, -2.0])


def _metadata(tmp_path: Path) -> RevertMetadata:
    template_to_input = np.eye(4)
    template_to_input[:3, 3] = SHIFT_MM
    template = TemplateIdentity(name="test", source_package="test", source_version="0", file_path=tmp_path / "t.nii.gz",
                                sha256="0" * 64, shape=(20, 24, 16), affine=TEMPLATE_AFFINE.tolist())
    transform = AffineTransformRecord(template_to_input_ras=template_to_input.tolist(), itk_matrix_lps=[1.0] * 9,
                                      itk_translation_lps_mm=[0.0] * 3, itk_center_lps_mm=[0.0] * 3,
                                      final_metric_value=0.0, optimizer_stop_condition="test")
    return RevertMetadata(input_path=tmp_path / "in.nii.gz", input_sha256="0" * 64, input_shape=(10, 12, 8),
                          input_affine=INPUT_AFFINE.tolist(), template=template, transform=transform,
                          parameters=BrainPreprocessParameters(), preprocessed_path=tmp_path / "p.nii.gz")


def test_each_input_voxel_takes_the_label_at_its_template_position(tmp_path: Path) -> None:
    metadata = _metadata(tmp_path)
    labels = np.arange(20 * 24 * 16, dtype=np.int32).reshape(20, 24, 16)
    reverted = revert_to_input_grid(labels, metadata, is_label_map=True)
    assert reverted.shape == (10, 12, 8) and reverted.dtype == np.int32
    for voxel in [(0, 0, 0), (3, 5, 2), (9, 11, 7), (4, 1, 6)]:
        world = INPUT_AFFINE @ np.array([*voxel, 1.0])
        template_world = world[:3] - SHIFT_MM
        index = np.rint(np.linalg.inv(TEMPLATE_AFFINE) @ np.array([*template_world, 1.0]))[:3].astype(int)
        expected = labels[tuple(index)] if all(0 <= i < n for i, n in zip(index, labels.shape, strict=True)) else 0
        assert reverted[voxel] == expected


def test_images_are_interpolated_linearly(tmp_path: Path) -> None:
    ramp = np.broadcast_to(np.arange(20, dtype=np.float32)[:, None, None], (20, 24, 16)).copy()
    reverted = revert_to_input_grid(ramp, _metadata(tmp_path), is_label_map=False)
    # input x index i is world x 9 - 2i, template x voxel is world x - 3 + 10
    assert reverted[2, 5, 3] == pytest.approx(9 - 4 - 3 + 10)


def test_revert_command_writes_the_input_grid_and_refuses_other_grids(tmp_path: Path) -> None:
    meta_path = write_json_atomic(tmp_path / "meta.json", _metadata(tmp_path))
    labels = np.zeros((20, 24, 16), dtype=np.uint8)
    labels[8:14, 10:16, 6:10] = 3
    nib.save(nib.Nifti1Image(labels, TEMPLATE_AFFINE), tmp_path / "seg.nii.gz")
    record = revert_brain_volume(BrainRevertRequest(volume_path=tmp_path / "seg.nii.gz", metadata_path=meta_path,
                                                    output_path=tmp_path / "native.nii.gz", is_label_map=True))
    written = nib.load(tmp_path / "native.nii.gz")
    assert written.shape == (10, 12, 8) and np.allclose(written.affine, INPUT_AFFINE)
    assert record.output.label_ids == [0, 3]
    with pytest.raises(UsageError, match="never overwritten"):
        revert_brain_volume(record.request)
    nib.save(nib.Nifti1Image(labels[:, :, :8], TEMPLATE_AFFINE), tmp_path / "other.nii.gz")
    with pytest.raises(InputError, match="not on the template grid"):
        revert_brain_volume(BrainRevertRequest(volume_path=tmp_path / "other.nii.gz", metadata_path=meta_path,
                                               output_path=tmp_path / "x.nii.gz", is_label_map=True))
    with pytest.raises(InputError, match="not a brain preprocessing metadata file"):
        revert_brain_volume(BrainRevertRequest(volume_path=tmp_path / "seg.nii.gz", metadata_path=tmp_path / "seg.nii.gz",
                                               output_path=tmp_path / "y.nii.gz", is_label_map=True))
