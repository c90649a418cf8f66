"""The work of one request, run on the worker thread: the one study pipeline, then the optional archive copy.

The checks run before the predictor is needed (:func:`medskills.triage.studies.analyse_study`), so
an unusable study is refused with its 422 even when no predictor loaded; a usable study then gets
503 ``predictor_not_configured``.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from medskills.core.errors import study_error
from medskills.triage.api.errors import ServiceErrorCode
from medskills.triage.api.schemas import InferenceResponse
from medskills.triage.api.settings import ServiceSettings
from medskills.triage.prediction import Predictor
from medskills.triage.studies import analyse_study
from medskills.triage.study_input import IngestOptions, StudyFormat, StudySource

__all__ = ["StudyUpload", "analyse_upload", "hashed_uid", "refuse_unconfigured"]

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
    """Run the one study pipeline on the upload, and keep a copy when archiving is on."""
    source = StudySource(upload.path, StudyFormat.NIFTI if upload.is_nifti else StudyFormat.DICOM_ZIP,
                         upload.study_uid)
    options = IngestOptions(archive_limits=settings.archive_limits, min_slices=settings.min_slices,
                            work_root=upload.path.parent)
    response = analyse_study(source, predictor=predictor or refuse_unconfigured, options=options)
    logger.info("study %s series %s answered", hashed_uid(response.study_uid), hashed_uid(response.series_uid))
    if settings.archive_dir is not None and not upload.is_nifti:
        _archive(upload.path, response.study_uid, settings.archive_dir)
    return response


def refuse_unconfigured() -> Predictor:
    """The loader used when the service has no predictor: a usable study gets 503 predictor_not_configured."""
    raise study_error(ServiceErrorCode.PREDICTOR_NOT_CONFIGURED, "the study is usable but no model pack is "
                        "configured; set MEDSKILLS_PACK_DIR (or MEDSKILLS_BUILTIN_PACK=true) and restart the service.")


def _archive(upload: Path, study_uid: str, archive_dir: Path) -> None:
    """Keep a copy of the upload (PHI!) under a name made of a timestamp and a hashed UID only."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    shutil.copyfile(upload, archive_dir / f"{stamp}_{hashed_uid(study_uid)}.zip")
