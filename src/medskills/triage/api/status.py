"""Error code -> HTTP status, and the exception handlers that build the one failure body.

Statuses come from the machine-readable code only, never from message text.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from medskills.core.errors import MedskillsError, StudyError
from medskills.dicom import DicomErrorCode, StudyRefusal
from medskills.dicom.web.errors import DicomWebErrorCode
from medskills.triage.api.errors import ErrorCode, ServiceErrorCode, parse_error_code
from medskills.triage.api.schemas import InferenceResponse, ProcessingStatus
from medskills.triage.errors import TriageErrorCode
from medskills.triage.prediction import ModelErrorCode

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

__all__ = ["STATUS_BY_CODE", "failure_response", "install_exception_handlers", "status_for"]

logger = logging.getLogger(__name__)

_S, _D, _T = ServiceErrorCode, DicomErrorCode, TriageErrorCode
STATUS_BY_CODE: dict[ErrorCode, int] = {
    _S.BAD_REQUEST: 400, _S.UNAUTHORIZED: 401, _S.QUEUE_FULL: 503, _S.PREDICTOR_NOT_CONFIGURED: 503,
    _S.INTERNAL_ERROR: 500,
    _D.UNSUPPORTED_FILE_TYPE: 415, _D.UPLOAD_TOO_LARGE: 413, _D.ZIP_TOO_LARGE: 413, _D.ZIP_TOO_MANY_ENTRIES: 413,
    _D.ZIP_BOMB: 413, _D.NIFTI_TOO_LARGE: 413, _D.ZIP_INVALID: 400, _D.ZIP_PATH_TRAVERSAL: 400, _D.ZIP_SYMLINK: 400, _D.ZIP_ENCRYPTED: 400,
    _D.ZIP_DUPLICATE_NAMES: 400, _D.INVALID_NIFTI: 400,
    _D.NO_DICOM_SERIES: 422, _D.MULTIPLE_STUDIES: 422, _D.STUDY_NOT_FOUND: 422, _D.NO_USABLE_SERIES: 422,
    _D.NOT_ENOUGH_SLICES: 422, _D.MISSING_SLICES: 422, _D.IRREGULAR_SLICE_SPACING: 422, _D.MIXED_ORIENTATION: 422,
    _D.INCONSISTENT_GEOMETRY: 422, _D.MULTIFRAME_UNSUPPORTED: 422, _D.GANTRY_TILT: 422,
    _D.UNSUPPORTED_TRANSFER_SYNTAX: 422, _D.TRUNCATED_FILE: 422,
    _T.NOT_CT: 422, _T.NOT_AXIAL: 422, _T.NOT_ORIGINAL_IMAGE: 422, _T.HU_IMPLAUSIBLE: 422, _T.LUNGS_NOT_FOUND: 422,
    _T.LUNGS_TOO_SHORT: 422,
    ModelErrorCode.NO_MODELS_AVAILABLE: 503,
    # /predict_study: the UID is the client's; the server behind the service is a gateway's upstream
    DicomWebErrorCode.STUDY_NOT_FOUND: 404, DicomWebErrorCode.SERIES_NOT_FOUND: 404,
    DicomWebErrorCode.NO_SERIES_OF_MODALITY: 422, DicomWebErrorCode.AMBIGUOUS_SERIES: 422,
    DicomWebErrorCode.SERVER_UNREACHABLE: 502, DicomWebErrorCode.AUTHENTICATION_FAILED: 502,
    DicomWebErrorCode.SERVER_ERROR: 502, DicomWebErrorCode.PARTIAL_RETRIEVAL: 502,
    DicomWebErrorCode.STORE_FAILED: 502, DicomWebErrorCode.SERVER_TIMEOUT: 504,
}
_RETRY_CODES = (_S.QUEUE_FULL, _S.PREDICTOR_NOT_CONFIGURED)
_CODE_BY_FRAMEWORK_STATUS: dict[int, ErrorCode] = {400: _S.BAD_REQUEST, 413: _D.UPLOAD_TOO_LARGE,
                                                   415: _D.UNSUPPORTED_FILE_TYPE}


def status_for(code: ErrorCode) -> int:
    """The HTTP status of ``code`` (every member is in the table; a test checks it)."""
    return STATUS_BY_CODE[code]


def failure_response(code: ErrorCode, message: str, *, started: float | None = None,
                     error: Exception | None = None, retry_after_seconds: int = 30) -> JSONResponse:
    """The failure body with the status of ``code`` (and ``Retry-After`` on 503)."""
    from fastapi.responses import JSONResponse

    refusal = error if isinstance(error, StudyRefusal) else None
    body = InferenceResponse(
        study_uid=refusal.study_uid if refusal else "", series_uid=refusal.series_uid if refusal else "",
        series_selection=refusal.selection if refusal else None, processing_status=ProcessingStatus.FAILURE,
        error=message, error_code=code,
        time_of_processing=time.perf_counter() - started if started is not None else 0.0,
    )
    status = status_for(code)
    headers = {"Retry-After": str(retry_after_seconds)} if code in _RETRY_CODES else None
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def install_exception_handlers(app: FastAPI, *, retry_after_seconds: int) -> None:
    """One handler per exception family; all produce :class:`InferenceResponse` bodies."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    def started_of(request: Request) -> float | None:
        return getattr(request.state, "started", None)

    async def on_study_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StudyError)
        code = _known_code(error.error_code)
        logger.info("request refused: %s", code.value)
        return failure_response(code, str(error), started=started_of(request), error=error,
                                retry_after_seconds=retry_after_seconds)

    async def on_medskills_error(request: Request, error: Exception) -> JSONResponse:
        logger.error("service error %s", type(error).__name__, exc_info=error)
        return failure_response(_S.INTERNAL_ERROR, f"{type(error).__name__}: {error}", started=started_of(request))

    async def on_validation_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in error.errors())
        return failure_response(_S.BAD_REQUEST, f"bad request: {problems}", started=started_of(request))

    async def on_http_error(request: Request, error: Exception) -> JSONResponse:
        # framework-raised errors (e.g. malformed multipart): same body when the status has a code
        from fastapi.responses import JSONResponse
        from starlette.exceptions import HTTPException

        assert isinstance(error, HTTPException)
        code = _CODE_BY_FRAMEWORK_STATUS.get(error.status_code)
        if code is None:
            return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)
        return failure_response(code, f"{error.detail}", started=started_of(request))

    async def on_unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.error("internal error %s", type(error).__name__, exc_info=error)
        return failure_response(_S.INTERNAL_ERROR, "internal error; the server log has the details.",
                                started=started_of(request))

    app.add_exception_handler(StudyError, on_study_error)
    app.add_exception_handler(MedskillsError, on_medskills_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


def _known_code(code: str) -> ErrorCode:
    known = parse_error_code(code)
    if known is None:
        logger.error("unknown error code %r mapped to internal_error", code)
        return _S.INTERNAL_ERROR
    return known
