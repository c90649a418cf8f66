"""``POST /predict`` (ZIP of DICOM) and ``POST /predict_nifti``: same body, same statuses.

Imported only by the app factory, so FastAPI is imported at module level here.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, File, Header, Query, Request, UploadFile

from medskills.core.errors import study_error
from medskills.dicom.archive import copy_stream_capped
from medskills.dicom.errors import DicomErrorCode
from medskills.dicom.headers import UID_MAX_LENGTH, UID_PATTERN
from medskills.triage.api.errors import ServiceErrorCode
from medskills.triage.api.pipeline import StudyUpload, analyse_upload
from medskills.triage.api.runtime import runtime_of
from medskills.triage.api.schemas import InferenceResponse
from medskills.triage.api.status import STATUS_BY_CODE

if TYPE_CHECKING:
    from medskills.triage.api.runtime import ServiceRuntime

__all__ = ["predict_router", "require_api_key"]

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_NIFTI_SUFFIXES = (".nii.gz", ".nii")
_FAILURE_STATUSES = sorted(set(STATUS_BY_CODE.values()))


def require_api_key(request: Request, x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None) -> None:
    """Every predict route's dependency: the X-API-Key header when the service has a key."""
    expected = runtime_of(request).settings.api_key
    if expected is None:
        return
    if x_api_key is None or not secrets.compare_digest(x_api_key.encode(), expected.get_secret_value().encode()):
        raise study_error(ServiceErrorCode.UNAUTHORIZED, "missing or wrong X-API-Key header.")


def predict_router() -> APIRouter:
    """The two predict endpoints, behind the optional API key."""

    responses: dict[int | str, dict[str, Any]] = {status: {"model": InferenceResponse} for status in _FAILURE_STATUSES}
    router = APIRouter(tags=["predict"], dependencies=[Depends(require_api_key)])

    @router.post("/predict", response_model=InferenceResponse, responses=responses)
    async def predict(request: Request, file: Annotated[UploadFile, File(description="ZIP of one study's DICOM files")],
                      study_uid: Annotated[str | None, Query(pattern=UID_PATTERN, max_length=UID_MAX_LENGTH)] = None,
                      ) -> InferenceResponse:
        name = file.filename or ""
        if not name.lower().endswith(".zip"):
            raise study_error(DicomErrorCode.UNSUPPORTED_FILE_TYPE,
                              f"{_safe_name(name)!r}: /predict takes a .zip of DICOM files; use /predict_nifti "
                              "for NIfTI.")
        return await _run(runtime_of(request), file, "upload.zip", is_nifti=False, study_uid=study_uid)

    @router.post("/predict_nifti", response_model=InferenceResponse, responses=responses)
    async def predict_nifti(request: Request,
                            file: Annotated[UploadFile, File(description="NIfTI CT in HU (.nii or .nii.gz)")]
                            ) -> InferenceResponse:
        name = _safe_name(file.filename or "")
        if not name.lower().endswith(_NIFTI_SUFFIXES) or name.lower() in _NIFTI_SUFFIXES:
            raise study_error(DicomErrorCode.UNSUPPORTED_FILE_TYPE,
                              f"{name!r}: /predict_nifti takes a .nii or .nii.gz file; use /predict for DICOM.")
        return await _run(runtime_of(request), file, name, is_nifti=True, study_uid=None)

    return router


async def _run(runtime: ServiceRuntime, file: UploadFile, stored_name: str, *, is_nifti: bool,
               study_uid: str | None) -> InferenceResponse:
    """Reserve a queue slot, copy the upload into a private folder, analyse it on the worker."""
    from starlette.concurrency import run_in_threadpool

    settings = runtime.settings
    slot = runtime.queue.reserve()
    folder = Path(tempfile.mkdtemp(prefix="medskills-upload-", dir=settings.work_dir))
    submitted = None
    try:
        target = folder / stored_name
        await run_in_threadpool(copy_stream_capped, file.file, target, max_bytes=settings.max_upload_bytes)
        upload = StudyUpload(path=target, is_nifti=is_nifti, study_uid=study_uid)

        predictor = runtime.predictor_or_refusal()
        submitted = slot.submit(lambda: analyse_upload(upload, settings=settings, predictor=predictor))
        # removed however the job ends: done, failed, or cancelled while still queued (request cancelled, shutdown)
        submitted.add_done_callback(lambda _: shutil.rmtree(folder, ignore_errors=True))
        return await asyncio.wrap_future(submitted)
    finally:
        if submitted is None:
            slot.release()
            shutil.rmtree(folder, ignore_errors=True)


def _safe_name(name: str) -> str:
    """The client's base name reduced to safe characters (never used as a path as given)."""
    return _SAFE_NAME.sub("_", Path(name.replace("\\", "/")).name)[-100:]
