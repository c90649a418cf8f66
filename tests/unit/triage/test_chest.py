"""Chest validation by HU: lungs found in a phantom chest, refused when short, absent or not HU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dicom_support.builders import chest_phantom
from medskills.core.errors import StudyError
from medskills.dicom import HUVolume
from medskills.triage.chest import ChestRule, body_mask, lung_mask, measure_chest_coverage, validate_chest
from medskills.triage.errors import TriageErrorCode
from medskills.triage.lungs import BorderFace, ComponentRule, analysis_strides, segment_lungs


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


def _with_array(volume: HUVolume, array: np.ndarray) -> HUVolume:
    return HUVolume(array=np.ascontiguousarray(array, dtype=np.float32), affine=volume.affine,
                    spacing_mm=volume.spacing_mm, study_uid="s", series_uid="s.1")


def test_lungs_cut_by_the_field_of_view_are_found_and_the_border_is_recorded() -> None:
    phantom = chest_phantom()
    narrow = _with_array(phantom, phantom.array[20:76])  # the lungs (x 14..42 and 54..82) now touch both sides
    assert narrow.array[0, 48, 40] > -950 and narrow.array[-1, 48, 40] > -950  # parenchyma at the border
    coverage = validate_chest(narrow)
    assert coverage.decided_by == ChestRule.PASSED and coverage.longest_run_slices == 60
    detection = coverage.lung_detection
    assert {BorderFace.LEFT, BorderFace.RIGHT} <= set(detection.border_faces) and detection.is_field_of_view_partial
    assert detection.components_by_rule[ComponentRule.LUNG] == 2


def test_air_at_the_border_mixed_with_tissue_is_refused_as_border_air() -> None:
    phantom = chest_phantom(lung_slices=(10, 11))
    array = phantom.array.copy()
    rng = np.random.default_rng(1)
    corner = array[:20, :10, :]  # outside the body ellipse: air under the table, blurred by a blanket
    mixed = rng.random(corner.shape) < 0.6
    corner[mixed] = -800.0
    corner[~mixed] = -1000.0
    array[20:22, :12, :] = 40.0  # the table walls it off from the rest of the outside air
    array[:22, 10:12, :] = 40.0
    segmentation = segment_lungs(_with_array(phantom, array))
    assert segmentation.detection.components_by_rule[ComponentRule.BORDER_AIR] >= 1
    assert not segmentation.mask[:20, :10, :].any()


def test_a_tube_of_pure_air_into_the_lung_is_airway_and_leaves_the_mask() -> None:
    phantom = chest_phantom()
    array = phantom.array.copy()
    array[26:30, 46:50, 40:80] = -1000.0  # a trachea-like tube from the top slice into the right-hand lung
    segmentation = segment_lungs(_with_array(phantom, array))
    assert not segmentation.mask[26:30, 46:50, 40:80].any()
    assert segmentation.detection.airway_volume_ml == pytest.approx(4 * 4 * 40 * 27 / 1000.0, rel=0.05)
    assert segmentation.mask[20, 48, 40]  # the lung around it stays


def test_a_short_pure_air_pocket_inside_the_lung_stays_lung() -> None:
    phantom = chest_phantom()
    array = phantom.array.copy()
    array[26:30, 46:50, 40:45] = -1000.0  # 15 mm long: a bulla, not an airway (airways are >= 30 mm)
    segmentation = segment_lungs(_with_array(phantom, array))
    assert segmentation.mask[26:30, 46:50, 40:45].all() and segmentation.detection.airway_volume_ml == 0.0


def test_a_thin_scan_is_decided_on_a_coarser_grid_and_trimmed_to_full_resolution_air() -> None:
    assert analysis_strides((0.7, 0.7, 1.0)) == (2, 2, 2) and analysis_strides((0.7, 0.7, 1.25)) == (2, 2, 1)
    assert analysis_strides((3.0, 3.0, 3.0)) == (1, 1, 1)
    phantom = chest_phantom()
    fine = np.repeat(np.repeat(phantom.array, 2, axis=0), 2, axis=1)
    thin = HUVolume(array=fine, affine=np.diag([0.7, 0.7, 3.0, 1.0]), spacing_mm=(0.7, 0.7, 3.0),
                    study_uid="s", series_uid="s.1")
    mask = segment_lungs(thin).mask
    expected = np.repeat(np.repeat(segment_lungs(phantom).mask, 2, axis=0), 2, axis=1)
    assert mask.shape == fine.shape and np.array_equal(mask, expected & (fine < -400))
