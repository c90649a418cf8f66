"""Error code -> HTTP status: every code of every set has exactly one status, and the failure body."""

from __future__ import annotations

import json

from medskills.dicom import DicomErrorCode
from medskills.dicom.web import DicomWebErrorCode
from medskills.triage.api.errors import ServiceErrorCode
from medskills.triage.api.schemas import ProcessingStatus
from medskills.triage.api.status import STATUS_BY_CODE, failure_response
from medskills.triage.errors import TriageErrorCode
from medskills.triage.prediction import ModelErrorCode


def test_every_error_code_has_one_status() -> None:
    all_sets = (DicomErrorCode, TriageErrorCode, ModelErrorCode, ServiceErrorCode, DicomWebErrorCode)
    code_sets = [{c.value for c in codes} for codes in all_sets]
    assert sum(len(values) for values in code_sets) == len(set.union(*code_sets)), "the code sets overlap"
    assert set(STATUS_BY_CODE) == {*DicomErrorCode, *TriageErrorCode, *ModelErrorCode, *ServiceErrorCode,
                                   *DicomWebErrorCode}
    assert set(STATUS_BY_CODE.values()) <= {400, 401, 404, 413, 415, 422, 500, 502, 503, 504}
    assert STATUS_BY_CODE[ModelErrorCode.NO_MODELS_AVAILABLE] == 503


def test_a_503_failure_says_when_to_retry_and_carries_the_code() -> None:
    response = failure_response(ServiceErrorCode.QUEUE_FULL, "busy", retry_after_seconds=7)
    assert response.status_code == 503 and response.headers["Retry-After"] == "7"
    body = json.loads(response.body)
    assert body["error_code"] == "queue_full" and body["error"] == "busy" and body["processing_status"] == ProcessingStatus.FAILURE


def test_a_refusal_failure_has_no_retry_after() -> None:
    response = failure_response(TriageErrorCode.NOT_CT, "modality MR is not CT")
    assert response.status_code == 422 and "Retry-After" not in response.headers
