"""The web service's own refusal codes, and the one type of every code an API answer can carry."""

from __future__ import annotations

from enum import StrEnum

from medskills.dicom.errors import DicomErrorCode
from medskills.dicom.web.errors import DicomWebErrorCode
from medskills.triage.errors import TriageErrorCode
from medskills.triage.prediction import ModelErrorCode

__all__ = ["ErrorCode", "ServiceErrorCode", "parse_error_code"]


class ServiceErrorCode(StrEnum):
    """Request-level refusals of the triage API (the study itself was not judged)."""

    BAD_REQUEST = "bad_request"
    UNAUTHORIZED = "unauthorized"
    QUEUE_FULL = "queue_full"
    PREDICTOR_NOT_CONFIGURED = "predictor_not_configured"
    INTERNAL_ERROR = "internal_error"


ErrorCode = DicomErrorCode | TriageErrorCode | ModelErrorCode | ServiceErrorCode | DicomWebErrorCode
"""Every ``error_code`` of an API answer: DICOM layer, triage policy, the models, the service, or DICOMweb."""

_CODE_TYPES: tuple[type[DicomErrorCode] | type[TriageErrorCode] | type[ModelErrorCode] | type[ServiceErrorCode]
                   | type[DicomWebErrorCode], ...] = (DicomErrorCode, TriageErrorCode, ModelErrorCode,
                                                      ServiceErrorCode, DicomWebErrorCode)


def parse_error_code(value: str) -> ErrorCode | None:
    """The member whose value is ``value``, from whichever of the four sets holds it; None if none does."""
    for code_type in _CODE_TYPES:
        try:
            return code_type(value)
        except ValueError:
            continue
    return None
