"""Triage a study that lives on a DICOMweb server, and optionally store the answer back as SR.

The study's CT series are retrieved completely (WADO-RS) into a private folder that is removed
afterwards, then go through the one study pipeline (:func:`medskills.triage.studies.analyse_study`),
so selection, checks, answer and error codes are those of ``/predict``. With ``store_results`` a
successful answer is sent back (STOW-RS) as a TID 1500 Structured Report in the same study, as a new
series, with a DICOM SEG of the lung mask the pipeline found (when it found one); a refused or
failed study stores nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from medskills.core.models import FrozenModel
from medskills.dicom.headers import UID_MAX_LENGTH, UID_PATTERN
from medskills.dicom.web import DicomWebServer, RetrievedStudy, find_series, retrieved_series_set
from medskills.triage.api.schemas import InferenceResponse
from medskills.dicom.volume import HUVolume
from medskills.triage.prediction import MemberUnavailable, Predictor, TriagePrediction
from medskills.triage.preprocessing import StudyInputs
from medskills.triage.studies import analyse_study
from medskills.triage.study_input import IngestOptions, StudyFormat, StudySource

if TYPE_CHECKING:
    from pydicom import Dataset

__all__ = ["RemoteStudyAnswer", "RemoteStudyRequest", "StoredObject", "analyse_remote_study"]

logger = logging.getLogger(__name__)



class RemoteStudyRequest(FrozenModel):
    """Which study (and optionally which series) to triage, and whether the answer goes back."""

    study_instance_uid: str = Field(pattern=UID_PATTERN, max_length=UID_MAX_LENGTH)
    series_instance_uid: str | None = Field(default=None, pattern=UID_PATTERN, max_length=UID_MAX_LENGTH,
                                            description="None: every CT series; the pipeline selects one.")
    store_results: bool = Field(default=False, description="Store a DICOM SR of a successful answer in the study.")


class StoredObject(FrozenModel):
    """One instance stored back on the server."""

    kind: str = Field(description="SR (the measurement report) or SEG (the lung mask).")
    series_instance_uid: str
    sop_instance_uid: str


class RemoteStudyAnswer(FrozenModel):
    """The pipeline's answer plus what was retrieved and stored, with UIDs."""

    response: InferenceResponse
    server_url: str
    retrieved_series_instance_uids: list[str]
    retrieved_instance_count: int
    stored: list[StoredObject] = Field(default_factory=list)
    store_notes: list[str] = Field(default_factory=list, description="What was not stored, and why.")


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
    recorder = _StudyRecorder(predictor)
    with retrieved_series_set(server, wanted, work_root=options.work_root) as retrieved:
        source = StudySource(retrieved.folder, StudyFormat.DICOM_FOLDER, request.study_instance_uid)
        response = analyse_study(source, predictor=recorder.loader(), options=options)
        stored, notes = _store_results(server, response, retrieved, recorder) if request.store_results else ([], [])
    return RemoteStudyAnswer(response=response, server_url=server.url,
                             retrieved_series_instance_uids=[s.series.series_instance_uid for s in retrieved.series],
                             retrieved_instance_count=retrieved.instance_count, stored=stored, store_notes=notes)


class _StudyRecorder:
    """Passes the pipeline's predictor through and keeps the volume and derived inputs it was given,
    so the stored lung SEG is the lung field the pipeline computed and qct measured (never a second
    segmentation)."""

    def __init__(self, predictor: Predictor | Callable[[], Predictor]) -> None:
        self._predictor = predictor
        self.volume: HUVolume | None = None
        self.inputs: StudyInputs | None = None

    def loader(self) -> Callable[[], Predictor]:
        def load() -> Predictor:
            inner = self._predictor if isinstance(self._predictor, Predictor) else self._predictor()
            return _RecordingPredictor(inner, self)
        return load


class _RecordingPredictor:
    def __init__(self, inner: Predictor, recorder: _StudyRecorder) -> None:
        self._inner, self._recorder = inner, recorder

    @property
    def model_version(self) -> str:
        return self._inner.model_version

    @property
    def members_available(self) -> list[str]:
        return self._inner.members_available

    @property
    def members_unavailable(self) -> list[MemberUnavailable]:
        return self._inner.members_unavailable

    def predict(self, volume: HUVolume, *, inputs: StudyInputs | None = None) -> TriagePrediction:
        self._recorder.volume, self._recorder.inputs = volume, inputs
        return self._inner.predict(volume, inputs=inputs)


def _store_results(server: DicomWebServer, response: InferenceResponse, retrieved: RetrievedStudy,
                   recorder: _StudyRecorder) -> tuple[list[StoredObject], list[str]]:
    """One STOW-RS request with the SR and, where the lungs were found, their SEG."""
    import highdicom as hd

    from medskills.triage.structured_report import build_triage_report

    sources = _analysed_headers(retrieved, response.series_uid)
    report = build_triage_report(response, sources=sources, series_instance_uid=hd.UID(), sop_instance_uid=hd.UID())
    instances: list[Dataset] = [report]
    notes: list[str] = []
    lung_seg = _lung_seg(response, sources, recorder, notes)
    if lung_seg is not None:
        instances.append(lung_seg)
    server.store(instances)
    logger.info("stored %d instance(s) in new series of the study", len(instances))
    return [StoredObject(kind=str(item.Modality), series_instance_uid=str(item.SeriesInstanceUID),
                         sop_instance_uid=str(item.SOPInstanceUID)) for item in instances], notes


def _lung_seg(response: InferenceResponse, sources: list[Dataset], recorder: _StudyRecorder,
              notes: list[str]) -> Dataset | None:
    import highdicom as hd

    from medskills.triage.lung_seg import build_lung_seg
    from medskills.triage.lungs import study_lungs

    if recorder.volume is None:
        notes.append("lung SEG not stored: the predictor never saw the volume")
        return None
    inputs = recorder.inputs or StudyInputs(recorder.volume)
    try:
        return build_lung_seg(study_lungs(inputs).field, recorder.volume.affine, sources=sources,
                              series_instance_uid=hd.UID(), sop_instance_uid=hd.UID(),
                              model_version=response.model_version or "unknown")
    except ValueError as err:
        notes.append(f"lung SEG not stored: {err}")
        return None


def _analysed_headers(retrieved: RetrievedStudy, series_uid: str) -> list[Dataset]:
    """Headers (no pixels) of the series the pipeline analysed: the SR's evidence."""
    import pydicom

    chosen = next((s for s in retrieved.series if s.series.series_instance_uid == series_uid), None)
    folders: list[Path] = [chosen.folder] if chosen else [s.folder for s in retrieved.series]
    return [pydicom.dcmread(path, stop_before_pixels=True)
            for folder in folders for path in sorted(folder.glob("*.dcm"))]
