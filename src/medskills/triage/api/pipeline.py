"""The work of one request, run on the worker thread: read, validate the chest, predict.

The chest validation runs before the predictor is needed, so an unusable study is refused with
its 422 even when no model pack is configured; a usable study then gets 503
``predictor_not_configured``.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from medskills.core.errors import StudyError
from medskills.triage.chest import validate_chest
from medskills.dicom.selection import StudyRefusal
from medskills.dicom.ingest import read_dicom_zip
from medskills.dicom.nifti import read_nifti_volume
from medskills.dicom.selection import SeriesSelection
from medskills.dicom.volume import HUVolume
from medskills.triage.api.errors import ServiceErrorCode, service_error
from medskills.triage.api.schemas import InferenceResponse, ProcessingStatus
from medskills.triage.api.settings import ServiceSettings
from medskills.triage.prediction import Predictor
from medskills.triage.series_policy import ChestCTSeriesPolicy

__all__ = ["StudyUpload", "analyse_upload", "hashed_uid"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StudyUpload:
    """An upload saved in a private work folder: a DICOM ZIP or a NIfTI file."""

    path: Path
    is_nifti: bool
    study_uid: str | None = None


def hashed_uid(uid: str) -> str:
    """A short one-way hash of a UID for logs (no PHI in logs)."""
    return hashlib.sha256(uid.encode()).hexdigest()[:12]


def analyse_upload(upload: StudyUpload, *, settings: ServiceSettings, predictor: Predictor | None) -> InferenceResponse:
    """Read the study, check it is a chest CT, and predict. Raises StudyError for unusable studies."""
    started = time.perf_counter()
    selection: SeriesSelection | None = None
    nested: tuple[str, ...] = ()
    if upload.is_nifti:
        volume = read_nifti_volume(upload.path)  # validate_chest checks the HU scale first
    else:
        series = read_dicom_zip(upload.path, limits=settings.archive_limits, study_uid=upload.study_uid,
                                policy=ChestCTSeriesPolicy(min_slices=settings.min_slices),
                                work_root=upload.path.parent)
        assert isinstance(series.volume, HUVolume)  # the chest-CT policy admits CT only, read in HU
        volume, selection, nested = series.volume, series.selection, series.nested_archives
    logger.info("study %s series %s: shape %s", hashed_uid(volume.study_uid), hashed_uid(volume.series_uid),
                volume.shape)
    try:
        coverage = validate_chest(volume)
        if predictor is None:
            raise service_error(ServiceErrorCode.PREDICTOR_NOT_CONFIGURED, "the study is usable but no model pack is "
                              "configured; set MEDSKILLS_PACK_DIR and restart the service.")
    except StudyError as err:
        raise StudyRefusal(str(err), error_code=err.error_code, selection=selection,
                           study_uid=volume.study_uid, series_uid=volume.series_uid) from err
    logger.info("series %s: lungs %.0f mm over %d slices", hashed_uid(volume.series_uid), coverage.lung_length_mm,
                coverage.longest_run_slices)
    prediction = predictor.predict(volume)
    if settings.archive_dir is not None and not upload.is_nifti:
        _archive(upload.path, volume, settings.archive_dir)
    return InferenceResponse(
        study_uid=volume.study_uid, series_uid=volume.series_uid,
        probability_of_pathology=prediction.probability_of_pathology, pathology=prediction.pathology,
        top_pathologies=list(prediction.top_pathologies) if prediction.pathology == 1 else [],
        probability_of_pathology_thoracic=prediction.probability_of_pathology_thoracic,
        pathology_thoracic=prediction.pathology_thoracic, processing_status=ProcessingStatus.SUCCESS,
        time_of_processing=time.perf_counter() - started, series_selection=selection,
        nested_archives_ignored=list(nested), model_version=prediction.model_version,
    )


def _archive(upload: Path, volume: HUVolume, archive_dir: Path) -> None:
    """Keep a copy of the upload (PHI!) under a name made of a timestamp and a hashed UID only."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    shutil.copyfile(upload, archive_dir / f"{stamp}_{hashed_uid(volume.study_uid)}.zip")
