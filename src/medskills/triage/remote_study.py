"""Triage a study that lives on a DICOMweb server, and optionally store the answer back as SR.

The study's CT series are retrieved completely (WADO-RS) into a private folder that is removed
afterwards, then go through the one study pipeline (:func:`medskills.triage.studies.analyse_study`),
so selection, checks, answer and error codes are those of ``/predict``. With ``store_results`` a
successful answer is sent back (STOW-RS) as a TID 1500 Structured Report in the same study, as a new
series; a refused or failed study stores nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from medskills.core.models import FrozenModel
from medskills.dicom.web import DicomWebServer, RetrievedStudy, find_series, retrieved_series_set
from medskills.triage.api.schemas import InferenceResponse
from medskills.triage.prediction import Predictor
from medskills.triage.studies import analyse_study
from medskills.triage.study_input import IngestOptions, StudyFormat, StudySource

if TYPE_CHECKING:
    from pydicom import Dataset

__all__ = ["RemoteStudyAnswer", "RemoteStudyRequest", "StoredObject", "analyse_remote_study"]

logger = logging.getLogger(__name__)

UID_PATTERN = r"^[0-9][0-9.]{0,63}$"


class RemoteStudyRequest(FrozenModel):
    """Which study (and optionally which series) to triage, and whether the answer goes back."""

    study_instance_uid: str = Field(pattern=UID_PATTERN)
    series_instance_uid: str | None = Field(default=None, pattern=UID_PATTERN,
                                            description="None: every CT series; the pipeline selects one.")
    store_results: bool = Field(default=False, description="Store a DICOM SR of a successful answer in the study.")


class StoredObject(FrozenModel):
    """One instance stored back on the server."""

    kind: str = Field(description="SR (the measurement report).")
    series_instance_uid: str
    sop_instance_uid: str


class RemoteStudyAnswer(FrozenModel):
    """The pipeline's answer plus what was retrieved and stored, with UIDs."""

    response: InferenceResponse
    server_url: str
    retrieved_series_instance_uids: list[str]
    retrieved_instance_count: int
    stored: list[StoredObject] = Field(default_factory=list)


def analyse_remote_study(request: RemoteStudyRequest, *, server: DicomWebServer,
                         predictor: Predictor | Callable[[], Predictor], options: IngestOptions | None = None,
                         ) -> RemoteStudyAnswer:
    """Retrieve, run the one study pipeline, and store the SR when asked.

    Raises:
        DicomWebError: the study or series is not there, has no CT series, or could not be retrieved
            completely (nothing ran), or the SR could not be stored.
        StudyRefusal: the pipeline refused the study (as ``/predict`` would).
    """
    options = options or IngestOptions()
    wanted = find_series(server, study_uid=request.study_instance_uid, series_uid=request.series_instance_uid,
                         modality="CT")
    with retrieved_series_set(server, wanted, work_root=options.work_root) as retrieved:
        source = StudySource(retrieved.folder, StudyFormat.DICOM_FOLDER, request.study_instance_uid)
        response = analyse_study(source, predictor=predictor, options=options)
        stored = _store_report(server, response, retrieved) if request.store_results else []
    return RemoteStudyAnswer(response=response, server_url=server.url,
                             retrieved_series_instance_uids=[s.series.series_instance_uid for s in retrieved.series],
                             retrieved_instance_count=retrieved.instance_count, stored=stored)


def _store_report(server: DicomWebServer, response: InferenceResponse, retrieved: RetrievedStudy) -> list[StoredObject]:
    import highdicom as hd

    from medskills.triage.structured_report import build_triage_report

    sources = _analysed_headers(retrieved, response.series_uid)
    report = build_triage_report(response, sources=sources, series_instance_uid=hd.UID(), sop_instance_uid=hd.UID())
    server.store([report])
    logger.info("stored the triage SR in a new series of the study")
    return [StoredObject(kind="SR", series_instance_uid=str(report.SeriesInstanceUID),
                         sop_instance_uid=str(report.SOPInstanceUID))]


def _analysed_headers(retrieved: RetrievedStudy, series_uid: str) -> list[Dataset]:
    """Headers (no pixels) of the series the pipeline analysed: the SR's evidence."""
    import pydicom

    chosen = next((s for s in retrieved.series if s.series.series_instance_uid == series_uid), None)
    folders: list[Path] = [chosen.folder] if chosen else [s.folder for s in retrieved.series]
    return [pydicom.dcmread(path, stop_before_pixels=True) for folder in folders for path in sorted(folder.glob("*.dcm"))]
