"""``medskills triage batch --dicomweb URL``: studies listed by UID (a file or a QIDO-RS query), each
retrieved completely (WADO-RS) into a private folder, sent to the triage API's ``/predict`` as a ZIP,
one row per study in the same xlsx/CSV table as the folder mode, with ``--resume``; ``--concurrency``
studies are retrieved and sent at once, as in the folder mode.

A study that cannot be retrieved gets a row with the DICOMweb ``error_code`` and no HTTP status
(counted as unanswered, so the batch exits 1); the next study is still tried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import Field

from medskills.core.errors import UsageError
from medskills.core.models import FrozenModel
from medskills.dicom.web import DicomWebError, DicomWebServer, retrieved_study
from medskills.triage.client import (
    BatchRequest,
    BatchSummary,
    post_with_retries,
    send_pending,
    study_row,
    zipped_study,
)

__all__ = ["RemoteBatchRequest", "list_study_uids", "run_remote_batch"]

logger = logging.getLogger(__name__)


class RemoteBatchRequest(FrozenModel):
    """Which studies to take from the DICOMweb server, and the usual batch settings."""

    study_uids_file: Path | None = Field(default=None, description="One StudyInstanceUID per line (# comments).")
    study_date: str | None = Field(default=None, description="QIDO-RS StudyDate: 20240101-20241231, 20240101-, ...")
    modality: str = Field(default="CT", description="QIDO-RS ModalitiesInStudy filter.")
    limit: int | None = Field(default=None, ge=1, description="At most this many studies from the query.")
    batch: BatchRequest


def list_study_uids(server: DicomWebServer, request: RemoteBatchRequest) -> list[str]:
    """The UIDs from the file, or from a QIDO-RS study query (date range and modality), in order, unique."""
    if request.study_uids_file is not None:
        if not request.study_uids_file.is_file():
            raise UsageError(f"--study-uids {request.study_uids_file} is not a file; write one StudyInstanceUID a line")
        lines = (line.split("#", 1)[0].strip() for line in request.study_uids_file.read_text().splitlines())
        return list(dict.fromkeys(line for line in lines if line))
    filters = {"ModalitiesInStudy": request.modality}
    if request.study_date:
        filters["StudyDate"] = request.study_date
    found = server.search_studies(filters, limit=request.limit)
    return list(dict.fromkeys(str(item.StudyInstanceUID) for item in found))


def run_remote_batch(request: RemoteBatchRequest, *, server: DicomWebServer,
                     on_progress: Callable[[int, int], None] | None = None, transport: Any = None) -> BatchSummary:
    """Triage every listed study not yet in the table, one at a time; rows are keyed ``<server>/studies/<uid>``."""
    batch = request.batch
    uid_of = {f"{server.url}/studies/{uid}": uid for uid in list_study_uids(server, request)}
    return send_pending(batch, list(uid_of), lambda client, key: _triage_one(client, server, uid_of[key], key, batch),
                        workers=batch.concurrency, on_progress=on_progress, transport=transport)


def _triage_one(client: Any, server: DicomWebServer, uid: str, key: str, batch: BatchRequest) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with retrieved_study(server, study_uid=uid, modality="CT") as study, \
                zipped_study(study.folder) as (upload, _):
            status, body = post_with_retries(client, "/predict", upload, f"{uid}.zip", batch)
    except DicomWebError as err:
        logger.info("study %s not retrieved: %s", uid, err.error_code.value)
        status, body = None, {"error": str(err), "error_code": err.error_code.value, "study_uid": uid}
    return study_row(key, status, body, time.perf_counter() - started)
