"""The one study pipeline, and the library halves of ``medskills triage predict`` and ``extract-features``.

:func:`analyse_study` is the whole path from an input to an answer: read the study
(:func:`medskills.triage.study_input.read_checked_study`: series selection, HU volume, HU and
chest checks), predict, and build the :class:`InferenceResponse`. The HTTP routes and the CLI both
call it; ``extract-features`` shares its first half and swaps the predictor for the members.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import Field

from medskills.core.errors import StudyError, UsageError
from medskills.core.models import DISCLAIMER, SCHEMA_VERSION, FrozenModel
from medskills.core.progress import OnProgress, report_progress
from medskills.dicom.selection import StudyRefusal
from medskills.dicom.volume import HUVolume
from medskills.triage.ensemble import (
    EnsemblePredictor,
    FeatureRow,
    compute_feature_row,
    load_members,
    refuse_without_available_members,
)
from medskills.triage.features import FeatureTable, write_feature_table
from medskills.triage.models import UnavailableMember
from medskills.triage.pack import load_pack
from medskills.triage.prediction import MemberUnavailable, Predictor, TriagePrediction
from medskills.triage.preprocessing import StudyInputs
from medskills.triage.api.schemas import InferenceResponse, ProcessingStatus
from medskills.triage.study_input import (
    CheckedStudy,
    IngestOptions,
    StudySource,
    preflight_studies,
    read_checked_study,
    study_source,
)

__all__ = [
    "FeatureExtractionRecord",
    "PackWeightRecord",
    "StudyPredictionRecord",
    "analyse_study",
    "check_feature_studies",
    "extract_feature_table",
    "predict_study",
]

logger = logging.getLogger(__name__)


class PackWeightRecord(FrozenModel):
    """One verified weight of the pack: where it was, its pinned sha256, the wheel version if packaged."""

    reference: str
    path: Path | None
    sha256: str
    package_version: str | None = None
    missing_reason: str | None = None


class StudyPredictionRecord(FrozenModel):
    """What ``medskills triage predict`` prints: the service's answer for the study, and where it came from."""

    schema_version: str = SCHEMA_VERSION
    source_path: Path
    pack_dir: Path | None = Field(description="The model pack; null for the built-in default pack.")
    response: InferenceResponse
    weights: list[PackWeightRecord] = Field(default_factory=list)
    disclaimer: str = DISCLAIMER


class FeatureExtractionRecord(FrozenModel):
    """What ``extract-features`` wrote."""

    schema_version: str = SCHEMA_VERSION
    table_path: Path
    pack_dir: Path
    studies: list[str]
    feature_count: int
    members_available: list[str]
    members_unavailable: list[MemberUnavailable] = Field(default_factory=list)
    disclaimer: str = DISCLAIMER


def analyse_study(source: StudySource, *, predictor: Predictor | Callable[[], Predictor],
                  options: IngestOptions | None = None) -> InferenceResponse:
    """Read and check the study, predict, and answer: the one pipeline of the service and the CLI.

    The checks run before the predictor is needed, so an unusable study is refused with its own
    code even when no predictor can be had. ``predictor`` may be a loader, called only once the
    study has passed (the CLI loads no model for a refused study; the service's loader refuses with
    ``predictor_not_configured`` when it has none).

    Raises:
        StudyRefusal: an unusable study (exit 2), or a loader's refusal, with the study's UIDs.
        NoModelsAvailable: no member gave features for the study (exit 1).
    """
    started = time.perf_counter()
    study = read_checked_study(source, options=options or IngestOptions())
    volume = study.volume
    if not isinstance(predictor, Predictor):
        try:
            predictor = predictor()
        except StudyError as err:
            raise StudyRefusal(str(err), error_code=err.error_code, selection=study.selection,
                               study_uid=volume.study_uid, series_uid=volume.series_uid) from err
    try:
        prediction = predictor.predict(volume, inputs=study.inputs)
    except StudyRefusal as refusal:  # no_models_available: the answer still says which series was chosen
        refusal.selection = refusal.selection or study.selection
        raise
    return InferenceResponse(
        study_uid=volume.study_uid, series_uid=volume.series_uid,
        probability_of_pathology=prediction.probability_of_pathology, pathology=prediction.pathology,
        top_pathologies=list(prediction.top_pathologies) if prediction.pathology != 0 else [],
        probability_of_pathology_thoracic=prediction.probability_of_pathology_thoracic,
        pathology_thoracic=prediction.pathology_thoracic, processing_status=ProcessingStatus.SUCCESS,
        time_of_processing=time.perf_counter() - started, series_selection=study.selection,
        nested_archives_ignored=list(study.nested_archives), chest_check=study.coverage,
        model_version=prediction.model_version,
        stacker_provenance=prediction.stacker_provenance, fitted_on=prediction.fitted_on,
        threshold=prediction.threshold, members_available=prediction.members_available,
        members_unavailable=prediction.members_unavailable, feature_list_sha256=prediction.feature_list_sha256,
        measurements=prediction.measurements, measurement_notes=prediction.measurement_notes,
        top_pathology_scores=prediction.top_pathology_scores,
    )


class _ReportingMembers:
    """``ensemble`` as a :class:`Predictor` whose members report, after predict_study's two steps."""

    def __init__(self, ensemble: EnsemblePredictor, on_progress: OnProgress | None) -> None:
        self._ensemble = ensemble
        self._on_progress = on_progress
        self.model_version = ensemble.model_version
        self.members_available = ensemble.members_available
        self.members_unavailable = ensemble.members_unavailable

    def predict(self, volume: HUVolume, *, inputs: StudyInputs | None = None) -> TriagePrediction:
        return self._ensemble.predict(volume, inputs=inputs, on_progress=lambda done, total: report_progress(
            self._on_progress, 2 + done, 2 + total))


def predict_study(image: Path, *, pack_dir: Path | None,
                  on_progress: OnProgress | None = None) -> StudyPredictionRecord:
    """Classify the input, refuse what the service refuses before any model loads, then load and predict.

    ``pack_dir=None`` uses the built-in default pack (:mod:`medskills.triage.default_pack`).
    ``on_progress`` hears of the study read and checked, the pack loaded, then each member done.
    """
    from medskills.triage.default_pack import load_default_predictor
    from medskills.triage.ensemble import load_predictor

    loaded: list[EnsemblePredictor] = []

    def load() -> Predictor:
        report_progress(on_progress, 1, 3)
        loaded.append(load_predictor(pack_dir) if pack_dir is not None else load_default_predictor())
        report_progress(on_progress, 2, 2 + len(loaded[0].members))
        return _ReportingMembers(loaded[0], on_progress)

    response = analyse_study(study_source(image), predictor=load)  # the last member done is the last step
    return StudyPredictionRecord(
        source_path=Path(image).absolute(), pack_dir=Path(pack_dir).absolute() if pack_dir else None,
        response=response,
        weights=[
            PackWeightRecord(reference=w.ref.path, path=w.path, sha256=w.ref.sha256,
                             package_version=w.package_version, missing_reason=w.missing_reason)
            for w in loaded[0].pack.weights.values()
        ],
    )


def check_feature_studies(studies: list[Path], *, options: IngestOptions) -> list[tuple[StudySource, str]]:
    """Every study readable, with a distinct study id, from headers only: the preflight of ``extract-features``.

    Raises:
        UsageError: no studies.
        PreflightError: unreadable inputs or repeated study ids, all listed.
    """
    if not studies:
        raise UsageError("extract-features needs at least one study path.")
    return preflight_studies(studies, options=options)


def extract_feature_table(sources: list[tuple[StudySource, str]], *, pack_dir: Path, output_dir: Path,
                          options: IngestOptions, on_progress: OnProgress | None = None,
                          ) -> FeatureExtractionRecord:
    """Run every member of the pack (no stacker needed) on each checked study; write ``features.csv``.

    ``sources`` come from :func:`check_feature_studies`, so every input was checked before any
    member loads. ``output_dir`` exists (the run lifecycle owns it).

    Raises:
        StudyRefusal: a study fails the pipeline's checks (no table is written).
        ModelPackError: a bad pack, or one with no member that can run here.
    """
    pack = load_pack(pack_dir, require_stacker=False)
    members = load_members(pack)
    refuse_without_available_members(pack, members)
    names = tuple(name for member in members for name in member.feature_names)
    rows: list[FeatureRow] = []
    for done, (source, study_id) in enumerate(sources, start=1):
        study: CheckedStudy = read_checked_study(source, options=options)
        rows.append(compute_feature_row(members, study.volume, inputs=study.inputs))
        logger.info("features extracted for %s (%s)", source.path, study_id)
        report_progress(on_progress, done, len(sources))
    ids = tuple(study_id for _, study_id in sources)
    table = FeatureTable(ids, names, np.vstack([row.ordered(names) for row in rows]))
    table_path = write_feature_table(Path(output_dir) / "features.csv", table)
    return FeatureExtractionRecord(
        table_path=table_path,
        pack_dir=pack.root,
        studies=list(ids),
        feature_count=len(names),
        members_available=[m.name for m in members if not isinstance(m, UnavailableMember)],
        members_unavailable=[MemberUnavailable(name=m.name, reason=m.reason)
                             for m in members if isinstance(m, UnavailableMember)],
    )
