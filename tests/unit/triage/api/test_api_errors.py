"""``parse_error_code``: a recorded code string back to its member, from whichever set holds it."""

from __future__ import annotations

import pytest

from medskills.dicom import DicomErrorCode
from medskills.dicom.web import DicomWebErrorCode
from medskills.triage.api.errors import ServiceErrorCode, parse_error_code
from medskills.triage.errors import TriageErrorCode
from medskills.triage.prediction import ModelErrorCode


@pytest.mark.parametrize("code", [DicomErrorCode.ZIP_BOMB, TriageErrorCode.NOT_AXIAL, ModelErrorCode.NO_MODELS_AVAILABLE,
                                  ServiceErrorCode.QUEUE_FULL, DicomWebErrorCode.STUDY_NOT_FOUND])
def test_each_set_parses_back_to_its_own_member(code: object) -> None:
    parsed = parse_error_code(str(code))
    assert parsed is code and type(parsed) is type(code)


def test_an_unknown_code_is_none() -> None:
    assert parse_error_code("not_a_code") is None
    assert parse_error_code("NOT_CT") is None  # values, not member names
