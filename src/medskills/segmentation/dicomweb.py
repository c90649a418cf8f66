"""Segment a series that lives on a DICOMweb server, and optionally store the DICOM SEG back.

The series is found with QIDO-RS and retrieved completely with WADO-RS into a private temporary
folder (copied to ``OUT/retrieved/`` only with ``is_retrieval_kept``); the skill then runs exactly as
for a local DICOM folder. Only a run that passed sends its SEG back with STOW-RS: nothing partial or
failed is ever stored. The record adds a ``dicomweb`` section listing what was retrieved and stored.
"""

from __future__ import annotations

import logging
import shutil
from datetime import datetime
from pathlib import Path

from pydantic import Field

from medskills.core.errors import UsageError
from medskills.core.io import prepare_output_dir, write_json_atomic
from medskills.core.models import DISCLAIMER, SCHEMA_VERSION, FrozenModel, Status, utc_now
from medskills.core.records import RESULT_FILE_NAME, finish_run
from medskills.core.settings import Settings
from medskills.core.upstream import Runner, run_upstream
from medskills.dicom.web import (
    DicomWebError,
    DicomWebErrorCode,
    DicomWebNoMatchingSeries,
    DicomWebServer,
    DicomWebSettings,
    RemoteSeries,
    find_series,
    retrieved_series_set,
)
from medskills.segmentation.ctmr import segment_ctmr
from medskills.segmentation.labels import SegmentationModality
from medskills.segmentation.models import SKILL_ID, OutputType, SegmentationRequest, SegmentationRunRecord

__all__ = [
    "DicomWebExchange",
    "DicomWebRetrievalFailure",
    "DicomWebSegmentationRequest",
    "DicomWebSegmentationRunRecord",
    "DicomWebSource",
    "segment_ctmr_from_dicomweb",
]

logger = logging.getLogger(__name__)

_DICOM_MODALITY = {SegmentationModality.CT_BODY: "CT", SegmentationModality.MRI_BODY: "MR",
                   SegmentationModality.MRI_BRAIN: "MR"}


class DicomWebSource(FrozenModel):
    """Which series to fetch from which server, and whether the SEG goes back."""

    url: str = Field(description="DICOMweb root; credentials come from MEDSKILLS_DICOMWEB_USERNAME/_PASSWORD.")
    study_instance_uid: str
    series_instance_uid: str | None = Field(default=None, description="None: the study's one series of the "
                                            "modality (several is an error naming them).")
    is_store_requested: bool = False
    is_retrieval_kept: bool = False


class DicomWebSegmentationRequest(FrozenModel):
    """The DICOMweb source plus the usual segmentation request (its ``image_path`` becomes the retrieved folder)."""

    source: DicomWebSource
    segmentation: SegmentationRequest


class DicomWebExchange(FrozenModel):
    """What came from and went to the server, with UIDs."""

    server_url: str
    study_instance_uid: str
    retrieved_series_instance_uid: str
    retrieved_modality: str
    retrieved_sop_instance_uids: list[str]
    retrieved_kept_in: Path | None = None
    stored_series_instance_uid: str | None = None
    stored_sop_instance_uids: list[str] = Field(default_factory=list)
    store_skipped_reason: str | None = Field(default=None, description="Why nothing was stored, when it was not.")


class DicomWebSegmentationRunRecord(SegmentationRunRecord):
    """The segmentation record with the DICOMweb exchange."""

    dicomweb: DicomWebExchange


class DicomWebRetrievalFailure(FrozenModel):
    """``OUT/result.json`` when the series could not be found or retrieved: nothing ran."""

    schema_version: str = SCHEMA_VERSION
    skill: str = SKILL_ID
    status: Status = Status.FAILED
    exit_code: int
    error_code: DicomWebErrorCode
    error: str
    source: DicomWebSource
    started_at: datetime
    finished_at: datetime
    intended_use_disclaimer: str = DISCLAIMER


def segment_ctmr_from_dicomweb(
    request: DicomWebSegmentationRequest, *, settings: Settings, dicomweb_settings: DicomWebSettings,
    runner: Runner = run_upstream,
) -> DicomWebSegmentationRunRecord:
    """Retrieve, segment, and (when asked and the run passed) store the SEG; the record goes to OUT/result.json.

    Raises:
        UsageError: ``--store`` with ``--output-type nifti``, or a non-empty output folder.
        DicomWebError: the series could not be found or retrieved completely (nothing ran).
    """
    source, segmentation = request.source, request.segmentation
    if source.is_store_requested and segmentation.output_type is OutputType.NIFTI:
        raise UsageError("--store sends the DICOM SEG back, but --output-type nifti writes none; "
                         "drop --output-type or pass dicom-seg or both")
    output_dir = prepare_output_dir(segmentation.output_dir)
    server = DicomWebServer(dicomweb_settings.model_copy(update={"url": source.url.rstrip("/")}))
    started_at = utc_now()
    try:
        series = _one_series(server, source, segmentation.modality)
        with retrieved_series_set(server, [series]) as retrieved:
            [fetched] = retrieved.series
            record = segment_ctmr(segmentation.model_copy(update={"image_path": fetched.folder,
                                                                  "output_dir": output_dir}),
                                  settings=settings, runner=runner)
            kept_in = _keep(fetched.folder, output_dir, series) if source.is_retrieval_kept else None
    except DicomWebError as err:
        if not (output_dir / RESULT_FILE_NAME).exists():  # nothing ran: record why, then report it
            write_json_atomic(output_dir / RESULT_FILE_NAME, DicomWebRetrievalFailure(
                exit_code=int(err.exit_code), error_code=err.error_code, error=str(err), source=source,
                started_at=started_at, finished_at=utc_now()))
        raise
    exchange = DicomWebExchange(server_url=server.url, study_instance_uid=series.study_instance_uid,
                                retrieved_series_instance_uid=series.series_instance_uid,
                                retrieved_modality=series.modality,
                                retrieved_sop_instance_uids=fetched.sop_instance_uids, retrieved_kept_in=kept_in)
    final = DicomWebSegmentationRunRecord.model_validate({**record.model_dump(), "dicomweb": exchange.model_dump()})
    if source.is_store_requested:
        final = _store_seg(server, final)
    else:
        final = _with_exchange(final, store_skipped_reason="--store was not given")
    return finish_run(final, output_dir)


def _one_series(server: DicomWebServer, source: DicomWebSource, modality: str) -> RemoteSeries:
    try:
        dicom_modality: str | None = _DICOM_MODALITY[SegmentationModality(modality.upper())]
    except (ValueError, KeyError):
        dicom_modality = None  # preflight reports the bad --modality with its choices
    found = find_series(server, study_uid=source.study_instance_uid, series_uid=source.series_instance_uid,
                        modality=dicom_modality)
    if len(found) > 1:
        listed = "; ".join(f"{item.series_instance_uid} ({item.series_description or 'no description'}, "
                           f"{item.reported_instance_count} instances)" for item in found)
        raise DicomWebNoMatchingSeries(f"study {source.study_instance_uid} has {len(found)} {dicom_modality or ''} "
                                       f"series; pick one with --series: {listed}",
                                       error_code=DicomWebErrorCode.AMBIGUOUS_SERIES)
    return found[0]


def _keep(folder: Path, output_dir: Path, series: RemoteSeries) -> Path:
    destination = output_dir / "retrieved" / series.series_instance_uid
    shutil.copytree(folder, destination)
    return destination


def _store_seg(server: DicomWebServer, record: DicomWebSegmentationRunRecord) -> DicomWebSegmentationRunRecord:
    """STOW-RS the SEG of a passed run; a failed store fails the run (exit 1) and says so."""
    import pydicom

    seg = record.output.dicom_seg if record.output else None
    if record.status is not Status.PASSED or seg is None:
        reason = (f"the run {record.status.value}; nothing is stored back" if record.status is not Status.PASSED
                  else "the run wrote no DICOM SEG")
        return _with_exchange(record, store_skipped_reason=reason)
    dataset = pydicom.dcmread(seg.path)
    try:
        stored = server.store([dataset])
    except DicomWebError as err:  # the run itself passed; the record says the store did not
        reasons = [*record.failure_reasons, f"{err.error_code}: {err}"]
        failed = record.with_updates(status=Status.FAILED, exit_code=int(err.exit_code), failure_reasons=reasons)
        return _with_exchange(failed, store_skipped_reason=f"STOW-RS failed: {err}")
    logger.info("stored DICOM SEG %s in study %s", seg.sop_instance_uid, dataset.StudyInstanceUID)
    return _with_exchange(record, stored_series_instance_uid=seg.series_instance_uid, stored_sop_instance_uids=stored)


def _with_exchange(record: DicomWebSegmentationRunRecord, **changes: object) -> DicomWebSegmentationRunRecord:
    return record.with_updates(dicomweb=record.dicomweb.model_copy(update=changes).model_dump())
