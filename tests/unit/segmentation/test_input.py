"""Segmentation reads any DICOM series through the general DICOM layer: MR, and planes other than axial.

The series are real scans from ../shared/data written out as DICOM slices (tests/dicom_support);
the chest-CT triage policy refuses the same series (tests/unit/triage/test_series_policy.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from dicom_support.builders import write_nifti_as_series
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import Settings
from medskills.segmentation.models import SegmentationRequest
from medskills.segmentation.preflight import PreflightOutcome, preflight_segmentation

NO_GPU = DeviceInfo(cuda_available=False, torch_version="test")


def _preflight(settings: Settings, image: Path, modality: str) -> PreflightOutcome:
    request = SegmentationRequest(image_path=image, modality=modality, output_dir=image.parent / "out", device="cpu")
    return preflight_segmentation(request, settings=settings, device_info=NO_GPU,
                                  memory_probe=lambda _: (10**12, "test probe"))


@pytest.fixture()
def ready(bundle_layout: Path, settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(bundle_layout)


@pytest.mark.parametrize(("scan", "modality", "plane", "bundle_modality"), [
    ("mr_body_3mm", "MR", "axial", "MRI_BODY"),
    ("ct_abdomen_3mm", "CT", "sagittal", "CT_BODY"),
])
def test_a_dicom_series_of_any_modality_and_plane_passes_preflight_with_its_real_voxels(
        ready: Settings, shared_data: Path, tmp_path: Path, scan: str, modality: str, plane: str,
        bundle_modality: str) -> None:
    source = shared_data / scan / "image.nii.gz"
    folder = tmp_path / f"{scan}_{plane}"
    folder.mkdir()
    written = write_nifti_as_series(folder, source, modality=modality, plane=plane)
    outcome = _preflight(ready, folder, bundle_modality)
    assert [check.code for check in outcome.report.errors] == []
    summary = outcome.plan.input
    assert summary is not None and summary.kind == "dicom_series" and summary.source_instance_count == len(written)
    reference = nib.as_closest_canonical(nib.load(source))
    assert outcome.loaded is not None
    np.testing.assert_array_equal(outcome.loaded.array, np.asarray(reference.dataobj))
    np.testing.assert_allclose(outcome.loaded.affine, reference.affine, atol=1e-4)


def test_a_folder_of_two_usable_series_warns_which_one_is_segmented_and_which_is_left_out(
        ready: Settings, shared_data: Path, tmp_path: Path) -> None:
    from dicom_support.builders import write_series

    folder = tmp_path / "two_series"
    folder.mkdir()
    write_series(folder, slices=24, study_uid="9.1", series_uid="9.1.1", prefix="a")
    write_series(folder, slices=12, study_uid="9.1", series_uid="9.1.2", prefix="b")
    outcome = _preflight(ready, folder, "CT_BODY")
    [warning] = [check for check in outcome.report.warnings if check.code == "input_several_series"]
    assert "holds 2 usable DICOM series" in warning.message and "9.1.1, is segmented" in warning.message
    assert "9.1.2 (12 slices) left out" in warning.message and "only that series" in (warning.fix or "")
