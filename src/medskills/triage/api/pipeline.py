"""The work of one request, run on the worker thread: the one study pipeline, then the optional archive copy.

The checks run before the predictor is needed (:func:`medskills.triage.studies.analyse_study`), so
an unusable study is refused with its 422 even when no predictor loaded; a usable study then gets
503 ``predictor_not_configured``.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Callable
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

__all__ = ["StudyUpload", "analyse_upload", "hashed_uid", "unconfigured_loader"]

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


def analyse_upload(upload: StudyUpload, *, settings: ServiceSettings,
                   predictor: Predictor | Callable[[], Predictor]) -> InferenceResponse:
    """Run the one study pipeline on the upload, and keep a copy when archiving is on (a copy that fails is
    logged: the answer is not lost for it)."""
    source = StudySource(upload.path, StudyFormat.NIFTI if upload.is_nifti else StudyFormat.DICOM_ZIP,
                         upload.study_uid)
    options = IngestOptions(archive_limits=settings.archive_limits, min_slices=settings.min_slices,
                            work_root=upload.path.parent)
    response = analyse_study(source, predictor=predictor, options=options)
    logger.info("study %s series %s answered", hashed_uid(response.study_uid), hashed_uid(response.series_uid))
    if settings.archive_dir is not None and not upload.is_nifti:
        try:
            _archive(upload.path, response.study_uid, settings.archive_dir)
        except OSError as err:
            logger.error("archive copy of study %s failed (%s: %s); the answer is sent without it",
                         hashed_uid(response.study_uid), type(err).__name__, err)
    return response


def unconfigured_loader(reason: str | None) -> Callable[[], Predictor]:
    """The loader used when the service has no predictor: a usable study gets 503 predictor_not_configured,
    saying why no pack loaded (``reason``, as ``/ready`` reports it)."""
    why = reason or "no model pack is configured"

    def refuse() -> Predictor:
        raise study_error(ServiceErrorCode.PREDICTOR_NOT_CONFIGURED, f"the study is usable but the service has no "
                          f"model: {why}. Fix MEDSKILLS_PACK_DIR (or set MEDSKILLS_BUILTIN_PACK=true) and restart "
                          "the service.")

    return refuse


def _archive(upload: Path, study_uid: str, archive_dir: Path) -> None:
    """Keep a copy of the upload (PHI!) under a name made of a timestamp and a hashed UID only."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    shutil.copyfile(upload, archive_dir / f"{stamp}_{hashed_uid(study_uid)}.zip")
