"""The chest rules on the real scans: the DICOM series and the NIfTI abdomen and torso are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from medskills.core.errors import StudyError
from medskills.dicom import read_dicom_series, read_nifti_volume
from medskills.triage.chest import validate_chest
from medskills.triage.errors import TriageErrorCode


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
