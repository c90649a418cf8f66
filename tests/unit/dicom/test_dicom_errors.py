"""The DICOM layer's refusal codes and ``study_error``: one machine code per reason, exit code 2."""

from __future__ import annotations

from medskills.core.errors import ExitCode, StudyError, study_error
from medskills.dicom.errors import DicomErrorCode


def test_dicom_error_builds_a_study_error_with_its_code() -> None:
    error = study_error(DicomErrorCode.MISSING_SLICES, "series 1.2.3: slice 14 of 40 is missing")
    assert isinstance(error, StudyError) and error.exit_code is ExitCode.USAGE
    assert error.error_code is DicomErrorCode.MISSING_SLICES and "slice 14" in str(error)
    assert study_error is study_error


def test_codes_are_the_lower_case_member_names() -> None:
    # the API and records carry the values; a renamed member must not silently change a recorded code
    assert all(code.value == code.name.lower() for code in DicomErrorCode)
