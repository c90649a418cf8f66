"""Sources for SR/SEG derivation get their absent type-2 patient/study attributes as empty values, on copies."""

from __future__ import annotations

from pydicom import Dataset

from medskills.dicom.derived_sources import TYPE2_PATIENT_STUDY, with_type2_patient_study


def test_absent_type2_attributes_are_added_empty_on_a_copy() -> None:
    source = Dataset()
    source.PatientID = "anon-7"
    source.StudyInstanceUID = "1.2.3"
    (fixed,) = with_type2_patient_study([source])
    assert fixed is not source and all(keyword in fixed for keyword in TYPE2_PATIENT_STUDY)
    assert fixed.PatientID == "anon-7" and fixed.PatientName == "" and fixed.StudyDate == ""
    assert "PatientName" not in source  # the caller's dataset is untouched


def test_a_complete_source_is_passed_through_as_is() -> None:
    source = Dataset()
    for keyword in TYPE2_PATIENT_STUDY:
        setattr(source, keyword, "")
    assert with_type2_patient_study([source])[0] is source
