"""Each DICOMweb failure is one typed error with its own code and the exit code of its family."""

from __future__ import annotations

import pytest

from medskills.core.errors import ExitCode, InputError, MedskillsError
from medskills.dicom.web import (
    DicomWebAuthFailed,
    DicomWebError,
    DicomWebErrorCode,
    DicomWebNoMatchingSeries,
    DicomWebNotFound,
    DicomWebPartialRetrieval,
    DicomWebServerError,
    DicomWebStoreFailed,
    DicomWebTimeout,
    DicomWebUnreachable,
)

_TREE = [
    (DicomWebUnreachable, DicomWebErrorCode.SERVER_UNREACHABLE, ExitCode.FAILED),
    (DicomWebTimeout, DicomWebErrorCode.SERVER_TIMEOUT, ExitCode.TIMEOUT),
    (DicomWebAuthFailed, DicomWebErrorCode.AUTHENTICATION_FAILED, ExitCode.USAGE),
    (DicomWebServerError, DicomWebErrorCode.SERVER_ERROR, ExitCode.FAILED),
    (DicomWebNotFound, DicomWebErrorCode.STUDY_NOT_FOUND, ExitCode.USAGE),
    (DicomWebNoMatchingSeries, DicomWebErrorCode.NO_SERIES_OF_MODALITY, ExitCode.USAGE),
    (DicomWebPartialRetrieval, DicomWebErrorCode.PARTIAL_RETRIEVAL, ExitCode.FAILED),
    (DicomWebStoreFailed, DicomWebErrorCode.STORE_FAILED, ExitCode.FAILED),
]


@pytest.mark.parametrize(("error_type", "code", "exit_code"), _TREE)
def test_each_error_has_its_default_code_and_exit_code(error_type: type[DicomWebError], code: DicomWebErrorCode,
                                                       exit_code: ExitCode) -> None:
    error = error_type("what, where, how to fix")
    assert isinstance(error, DicomWebError) and isinstance(error, MedskillsError)
    assert error.error_code is code and error.exit_code is exit_code


def test_every_code_but_the_alternatives_is_some_errors_default() -> None:
    alternatives = {DicomWebErrorCode.SERIES_NOT_FOUND, DicomWebErrorCode.AMBIGUOUS_SERIES}
    assert {code for _, code, _ in _TREE} == set(DicomWebErrorCode) - alternatives


def test_an_explicit_code_overrides_the_default() -> None:
    error = DicomWebNotFound("series 1.2.3 is not in study 4.5", error_code=DicomWebErrorCode.SERIES_NOT_FOUND)
    assert error.error_code is DicomWebErrorCode.SERIES_NOT_FOUND and isinstance(error, InputError)
