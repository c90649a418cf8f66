"""Why the chest-CT triage refuses a study its DICOM reader could read: the triage policy's codes.

The DICOM layer's own codes are :class:`medskills.dicom.errors.DicomErrorCode`; the web
service's request codes are :class:`medskills.triage.api.errors.ServiceErrorCode`. The three sets
are disjoint, and every code travels as :attr:`medskills.core.errors.StudyError.error_code`
(``study_error``, re-exported here from ``core.errors``, builds the exception).
"""

from __future__ import annotations

from enum import StrEnum

from medskills.core.errors import study_error

__all__ = ["TriageErrorCode", "study_error"]


class TriageErrorCode(StrEnum):
    """Chest-CT triage refusals: the series policy (CT, original, axial) and the chest validation."""

    # series policy
    NOT_CT = "not_ct"
    NOT_ORIGINAL_IMAGE = "not_original_image"
    NOT_AXIAL = "not_axial"
    # chest validation
    HU_IMPLAUSIBLE = "hu_implausible"
    LUNGS_NOT_FOUND = "lungs_not_found"
    LUNGS_TOO_SHORT = "lungs_too_short"
