"""The chest-CT triage REST service (FastAPI): app factory, settings and the response models."""

from medskills.triage.api.app import create_app
from medskills.triage.api.schemas import HealthResponse, InferenceResponse, ProcessingStatus, ReadyResponse, ServiceInfo
from medskills.triage.api.settings import ServiceSettings
from medskills.triage.api.status import STATUS_BY_CODE

__all__ = [
    "STATUS_BY_CODE",
    "HealthResponse",
    "InferenceResponse",
    "ProcessingStatus",
    "ReadyResponse",
    "ServiceInfo",
    "ServiceSettings",
    "create_app",
]
