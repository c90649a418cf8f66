"""Response models of the triage API: one body for success and failure on both predict endpoints."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from medskills.core.models import DISCLAIMER, FrozenModel
from medskills.dicom.selection import SeriesSelection
from medskills.triage.api.errors import ErrorCode

__all__ = ["HealthResponse", "InferenceResponse", "ProcessingStatus", "ReadyResponse", "ServiceInfo"]

SERVICE_NAME = "medskills chest-CT triage API"
API_VERSION = "2.1.0"


class ProcessingStatus(StrEnum):
    """Outcome of one predict request."""

    SUCCESS = "Success"
    FAILURE = "Failure"


class InferenceResponse(FrozenModel):
    """The body of every ``/predict`` and ``/predict_nifti`` answer, success or failure.

    Prediction fields are null on failure; ``error`` and ``error_code`` are null on success.
    ``time_of_processing`` is the server's wall time for the request in seconds.
    """

    study_uid: str = ""
    series_uid: str = ""
    probability_of_pathology: float | None = Field(default=None, ge=0.0, le=1.0)
    pathology: int | None = Field(default=None, ge=0, le=1)
    top_pathologies: list[str] = Field(default_factory=list)
    probability_of_pathology_thoracic: float | None = Field(default=None, ge=0.0, le=1.0)
    pathology_thoracic: int | None = Field(default=None, ge=0, le=1)
    processing_status: ProcessingStatus
    time_of_processing: float
    error: str | None = None
    error_code: ErrorCode | None = None
    series_selection: SeriesSelection | None = None
    nested_archives_ignored: list[str] = Field(default_factory=list)
    model_version: str | None = None
    disclaimer: str = DISCLAIMER


class ServiceInfo(FrozenModel):
    """``GET /``."""

    status: str = "running"
    service: str = SERVICE_NAME
    version: str = API_VERSION


class HealthResponse(FrozenModel):
    """``GET /health``: the process answers (liveness only)."""

    status: str = "healthy"


class ReadyResponse(FrozenModel):
    """``GET /ready``: models loaded, which ensemble members are available, or why not ready."""

    ready: bool
    model_version: str | None = None
    members_available: list[str] = Field(default_factory=list)
    reason: str | None = None
    queue_size: int
    queue_in_use: int
