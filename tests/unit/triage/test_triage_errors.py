"""The chest-CT triage policy's refusal codes: disjoint from the DICOM layer's, built by ``study_error``."""

from __future__ import annotations

from medskills.core.errors import ExitCode, StudyError
from medskills.core.errors import study_error as core_study_error
from medskills.dicom.errors import DicomErrorCode
from medskills.triage.errors import TriageErrorCode, study_error


def test_triage_codes_never_reuse_a_dicom_layer_code() -> None:
    assert not {code.value for code in TriageErrorCode} & {code.value for code in DicomErrorCode}


def test_study_error_is_the_core_factory_and_keeps_the_code() -> None:
    error = study_error(TriageErrorCode.NOT_AXIAL, "series 1.2.3 is sagittal; chest triage needs axial slices")
    assert study_error is core_study_error
    assert isinstance(error, StudyError) and error.exit_code is ExitCode.USAGE
    assert error.error_code is TriageErrorCode.NOT_AXIAL
