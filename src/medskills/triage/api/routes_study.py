"""``POST /predict_study``: triage a study by UID from the service's DICOMweb server (and store the SR back).

The route exists only when ``MEDSKILLS_DICOMWEB_URL`` is set; credentials come from
``MEDSKILLS_DICOMWEB_USERNAME``/``_PASSWORD`` (read once, when the app is built; never logged). The answer is the ``/predict`` body plus what was retrieved and
stored; DICOMweb failures carry their own ``error_code`` (404 unknown UID, 422 no CT series, 502 the
server refused or failed, 504 it did not answer).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from medskills.core.errors import StudyError
from medskills.dicom.web import DicomWebError, DicomWebServer, DicomWebSettings, load_dicomweb_settings
from medskills.triage.api.pipeline import hashed_uid
from medskills.triage.api.routes_predict import require_api_key
from medskills.triage.api.runtime import ServiceRuntime, runtime_of
from medskills.triage.api.schemas import InferenceResponse
from medskills.triage.api.status import STATUS_BY_CODE
from medskills.triage.remote_study import RemoteStudyRequest, StoredObject, analyse_remote_study
from medskills.triage.study_input import IngestOptions

__all__ = ["PredictStudyResponse", "predict_study_router"]

logger = logging.getLogger(__name__)


class PredictStudyResponse(InferenceResponse):
    """The ``/predict`` answer plus the DICOMweb exchange: retrieved series and stored instances."""

    retrieved_series_instance_uids: list[str] = Field(default_factory=list)
    retrieved_instance_count: int = 0
    stored: list[StoredObject] = Field(default_factory=list, description="The SR and lung SEG stored back, when asked.")
    store_notes: list[str] = Field(default_factory=list, description="What was not stored, and why.")


def predict_study_router(dicomweb_settings: DicomWebSettings | None = None) -> APIRouter | None:
    """The route, bound to the DICOMweb settings read now (from the environment unless given).

    ``None`` when no server is configured: the service then neither offers nor documents the route.
    """
    settings = dicomweb_settings or load_dicomweb_settings()
    if not settings.is_configured:
        logger.info("MEDSKILLS_DICOMWEB_URL is not set: POST /predict_study is off")
        return None
    responses: dict[int | str, dict[str, Any]] = {
        status: {"model": InferenceResponse} for status in sorted(set(STATUS_BY_CODE.values()))}
    router = APIRouter(tags=["predict"], dependencies=[Depends(require_api_key)])

    @router.post("/predict_study", response_model=PredictStudyResponse, responses=responses)
    async def predict_study(request: Request, body: RemoteStudyRequest) -> PredictStudyResponse:
        runtime = runtime_of(request)
        if settings.store_results and not body.store_results:
            body = body.model_copy(update={"store_results": True})
        slot = runtime.queue.reserve()
        submitted = slot.submit(lambda: _analyse(body, runtime, settings))
        return await asyncio.wrap_future(submitted)

    return router


def _analyse(body: RemoteStudyRequest, runtime: ServiceRuntime, settings: DicomWebSettings) -> PredictStudyResponse:
    """The worker's job: a DICOMweb failure becomes a refusal with its own code (and HTTP status)."""
    service = runtime.settings
    options = IngestOptions(archive_limits=service.archive_limits, min_slices=service.min_slices,
                            work_root=service.work_dir)
    try:
        answer = analyse_remote_study(body, server=DicomWebServer(settings),
                                      predictor=runtime.predictor_or_refusal(), options=options)
    except DicomWebError as err:
        logger.info("study %s: %s", hashed_uid(body.study_instance_uid), err.error_code.value)
        raise StudyError(str(err), error_code=err.error_code) from err
    return PredictStudyResponse(**dict(answer.response),
                                retrieved_series_instance_uids=answer.retrieved_series_instance_uids,
                                retrieved_instance_count=answer.retrieved_instance_count, stored=answer.stored,
                                store_notes=answer.store_notes)
