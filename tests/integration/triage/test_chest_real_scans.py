"""The chest rules on the real scans: the DICOM series and the NIfTI abdomen and torso are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from medskills.core.errors import StudyError
from medskills.dicom import read_dicom_series, read_nifti_volume
from medskills.triage.chest import ChestRule, lung_mask, validate_chest
from medskills.triage.errors import TriageErrorCode
from medskills.triage.lungs import BorderFace, ComponentRule


def test_the_real_series_is_refused_by_the_chest_rules_as_lungs_not_found(shared_data: Path) -> None:
    volume = read_dicom_series(shared_data / "ct_dicom_series").volume
    with pytest.raises(StudyError) as caught:
        validate_chest(volume)
    assert caught.value.error_code == TriageErrorCode.LUNGS_NOT_FOUND


def test_abdomen_lung_bases_are_refused_as_too_short(shared_data: Path) -> None:
    volume = read_nifti_volume(shared_data / "ct_abdomen_3mm" / "image.nii.gz")
    with pytest.raises(StudyError) as caught:
        validate_chest(volume)
    # the lung bases fill 11 of 30 slices (occupancy 0.37 passes), 33 mm is too short
    assert caught.value.error_code == TriageErrorCode.LUNGS_TOO_SHORT and "33.0 mm" in str(caught.value)


def test_torso_scan_lung_bases_fill_too_few_slices(shared_data: Path) -> None:
    # ct_torso_3mm is abdomen + pelvis with the lung bases in its top 11 slices (see docs/triage_service.md)
    volume = read_nifti_volume(shared_data / "ct_torso_3mm" / "image.nii.gz")
    with pytest.raises(StudyError) as caught:
        validate_chest(volume)
    assert caught.value.error_code == TriageErrorCode.LUNGS_NOT_FOUND


def test_the_chest_crop_whose_lungs_touch_the_field_of_view_passes(shared_data: Path) -> None:
    coverage = validate_chest(read_nifti_volume(shared_data / "ct_chest_crop_1p5mm" / "image.nii.gz"))
    assert coverage.decided_by == ChestRule.PASSED
    assert coverage.lung_slice_count >= 150 and coverage.slice_count == 164  # was 36 with the slice-wise body fill
    detection = coverage.lung_detection
    assert {BorderFace.LEFT, BorderFace.RIGHT} <= set(detection.border_faces)
    assert detection.components_by_rule[ComponentRule.PURE_AIR] >= 1  # outside air and bowel gas left out
    assert detection.airway_volume_ml > 5.0  # trachea and main bronchi left out
    assert 2000.0 < coverage.lung_volume_ml < 3500.0


def test_the_lung_mask_matches_the_totalsegmentator_lobes_of_the_abdomen(shared_data: Path) -> None:
    """Dice of our mask against the union of lobes 10-14 of the reference (documented in docs/triage_qct.md)."""
    import json

    import nibabel as nib
    import numpy as np

    names = json.loads((shared_data / "totalsegmentator_total_labels.json").read_text())
    lobes = [int(i) for i, name in names.items() if name.startswith("lung_") and "lobe" in name]
    assert lobes == [10, 11, 12, 13, 14]
    reference = nib.as_closest_canonical(nib.load(shared_data / "ct_abdomen_3mm" / "reference_totalsegmentator.nii.gz"))
    expected = np.isin(np.asarray(reference.dataobj), lobes)
    volume = read_nifti_volume(shared_data / "ct_abdomen_3mm" / "image.nii.gz")
    np.testing.assert_allclose(volume.affine, reference.affine, atol=1e-3)
    found = lung_mask(volume)
    dice = 2.0 * np.count_nonzero(found & expected) / (np.count_nonzero(found) + np.count_nonzero(expected))
    assert dice >= 0.95, f"lung mask Dice {dice:.3f} against the TotalSegmentator lobes fell below 0.95"
    assert float(expected.sum()) * 27 / 1000 == pytest.approx(116.3, abs=0.1)
