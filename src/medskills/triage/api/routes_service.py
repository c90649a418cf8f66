"""``GET /``, ``/health`` (liveness) and ``/ready`` (models loaded). Imported only by the app factory."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from medskills.triage.api.runtime import runtime_of
from medskills.triage.api.schemas import HealthResponse, ReadyResponse, ServiceInfo

__all__ = ["service_router"]


def service_router() -> APIRouter:
    """Routes that never touch the worker: they answer while a prediction runs."""
    router = APIRouter(tags=["service"])

    @router.get("/", response_model=ServiceInfo)
    async def root() -> ServiceInfo:
        return ServiceInfo()

    @router.get("/health", response_model=HealthResponse)
    async def health() -> HealthResponse:
        return HealthResponse()

    @router.get("/ready", response_model=ReadyResponse, responses={503: {"model": ReadyResponse}})
    async def ready(request: Request) -> JSONResponse:
        runtime = runtime_of(request)
        predictor = runtime.predictor
        available = list(predictor.members_available) if predictor else []
        reason = runtime.not_ready_reason
        if predictor is not None and not available:
            reason = "no ensemble member is available; every answer would be refused with no_models_available"
        unavailable = list(predictor.members_unavailable) if predictor else []
        body = ReadyResponse(
            ready=bool(available),
            model_version=predictor.model_version if predictor else None,
            members_available=available, members_unavailable=unavailable, reason=None if available else reason,
            queue_size=runtime.queue.size, queue_in_use=runtime.queue.in_use,
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=200 if available else 503)

    return router
