"""Chest validation by HU: lungs found in a phantom chest, refused when short, absent or not HU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dicom_support.builders import chest_phantom, with_array
from medskills.core.errors import StudyError
from medskills.dicom import HUVolume
from medskills.triage.chest import ChestRule, body_mask, lung_mask, measure_chest_coverage, validate_chest
from medskills.triage.errors import TriageErrorCode
from medskills.triage.lungs import BorderFace, ComponentRule


def test_a_chest_phantom_passes_with_its_lung_length() -> None:
    coverage = validate_chest(chest_phantom())
    assert coverage.longest_run_slices == 60 and coverage.lung_length_mm == pytest.approx(180.0)
    assert coverage.occupancy == pytest.approx(0.75)


def test_lungs_shorter_than_145_mm_are_refused_as_too_short() -> None:
    volume = chest_phantom(slices=40, lung_slices=(5, 45 - 5))
    with pytest.raises(StudyError) as caught:
        validate_chest(volume)
    assert caught.value.error_code == TriageErrorCode.LUNGS_TOO_SHORT and "105.0 mm" in str(caught.value)


def test_low_occupancy_is_refused_as_lungs_not_found() -> None:
    volume = chest_phantom(slices=200, lung_slices=(10, 60))
    with pytest.raises(StudyError) as caught:
        validate_chest(volume)
    assert caught.value.error_code == TriageErrorCode.LUNGS_NOT_FOUND


def test_outside_air_and_bowel_gas_are_not_lung() -> None:
    volume = chest_phantom(lung_slices=(10, 11))
    gas = volume.array.copy()
    gas[40:56, 40:56, 20:60] = -1000.0  # pure air pocket inside the body: bowel gas
    gassy = HUVolume(array=gas, affine=volume.affine, spacing_mm=volume.spacing_mm, study_uid="s", series_uid="s.1")
    assert not lung_mask(gassy)[40:56, 40:56, 20:60].any()
    assert not lung_mask(gassy)[0, 0, :].any()  # the air around the patient
    assert measure_chest_coverage(gassy).longest_run_slices <= 1
    with pytest.raises(StudyError) as caught:
        validate_chest(gassy)
    assert caught.value.error_code == TriageErrorCode.LUNGS_NOT_FOUND


def test_body_mask_fills_the_lungs_and_excludes_outside_air() -> None:
    volume = chest_phantom()
    mask = body_mask(volume)
    assert mask.dtype == np.bool_ and mask.shape == volume.shape
    assert mask[28, 48, 40] and not mask[0, 0, 40]


def test_a_volume_without_air_is_not_hu() -> None:
    array = np.full((16, 16, 16), 200.0, dtype=np.float32)
    volume = HUVolume(array=array, affine=np.eye(4), spacing_mm=(1.0, 1.0, 1.0), study_uid="s", series_uid="s.1")
    with pytest.raises(StudyError) as caught:
        validate_chest(volume)
    assert caught.value.error_code == TriageErrorCode.HU_IMPLAUSIBLE


def test_real_scans_get_the_documented_chest_outcome(shared_data: Path) -> None:
    """Abdomen: 11 lung slices of 30 -> too short; torso: lung bases only in its top slices -> not found."""
    from medskills.dicom import read_nifti_volume

    abdomen = measure_chest_coverage(read_nifti_volume(shared_data / "ct_abdomen_3mm" / "image.nii.gz"))
    assert abdomen.occupancy >= 0.35 and abdomen.lung_length_mm < 145.0
    torso_volume = read_nifti_volume(shared_data / "ct_torso_3mm" / "image.nii.gz")
    torso = measure_chest_coverage(torso_volume)
    assert 0 < torso.longest_run_slices < 0.35 * torso.slice_count
    lungs_by_slice = lung_mask(torso_volume).any(axis=(0, 1))
    assert lungs_by_slice[-5:].all() and not lungs_by_slice[: torso.slice_count // 2].any()
    with pytest.raises(StudyError) as caught:
        validate_chest(torso_volume)
    assert caught.value.error_code == TriageErrorCode.LUNGS_NOT_FOUND


def test_lungs_cut_by_the_field_of_view_are_found_and_the_border_is_recorded() -> None:
    phantom = chest_phantom()
    narrow = with_array(phantom, phantom.array[20:76])  # the lungs (x 14..42 and 54..82) now touch both sides
    assert narrow.array[0, 48, 40] > -950 and narrow.array[-1, 48, 40] > -950  # parenchyma at the border
    coverage = validate_chest(narrow)
    assert coverage.decided_by == ChestRule.PASSED and coverage.longest_run_slices == 60
    detection = coverage.lung_detection
    assert {BorderFace.LEFT, BorderFace.RIGHT} <= set(detection.border_faces) and detection.is_field_of_view_partial
    assert detection.components_by_rule[ComponentRule.LUNG] == 2
