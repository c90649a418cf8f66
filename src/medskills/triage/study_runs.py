"""``medskills triage predict --output-dir`` and ``extract-features`` on the one run lifecycle.

``core.run`` owns the folder, the refusals, ``OUT/result.json`` on every outcome, the card and the
exit codes. Each command's preflight reads its inputs from headers only (an unreadable input or one
the service does not take is refused with exit 2 before any model loads); the run step reads the
study through the service's one pipeline. A study the pipeline refuses is recorded with its
``error_code`` and exit code (2 for the study, 1 for ``no_models_available``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, Field

from medskills.core.card import CardTable
from medskills.core.errors import StudyError
from medskills.core.models import FrozenModel, Status
from medskills.core.plan_card import PlanCard, write_plan_card
from medskills.core.progress import OnProgress
from medskills.core.records import file_artifact
from medskills.core.run import RunOptions, run_command
from medskills.core.run_folder import CARD_FILE_NAME
from medskills.core.tool_run import CommandRunRecord, prepare_command_run
from medskills.triage.studies import (
    FeatureExtractionRecord, StudyPredictionRecord, check_feature_studies, extract_feature_table, predict_study,
)
from medskills.triage.study_input import IngestOptions, StudySource, study_source

__all__ = ["FeatureExtractionRequest", "PredictRequest", "extract_features_in_folder", "predict_in_folder"]

RequestT = TypeVar("RequestT", bound=BaseModel)
OutputT = TypeVar("OutputT", bound=BaseModel)
PREDICT_SKILL = "triage-predict"
EXTRACT_SKILL = "triage-extract-features"


class PredictRequest(FrozenModel):
    """One study and the model pack to answer it with (None: the built-in pack)."""

    image: Path
    pack_dir: Path | None = None


class FeatureExtractionRequest(FrozenModel):
    """The studies whose member features go into one table, and the pack whose members compute them."""

    studies: list[Path] = Field(min_length=1)
    pack_dir: Path


def predict_in_folder(request: PredictRequest, *, output_dir: Path, on_progress: OnProgress | None = None,
                      ) -> CommandRunRecord[PredictRequest, StudyPredictionRecord]:
    """Answer for one study through the run lifecycle; the record is also ``OUT/result.json``."""
    record_type = CommandRunRecord.of(PredictRequest, StudyPredictionRecord)
    plan = PlanCard(title="medskills triage predict", request_rows=[
        ["study", str(request.image)], ["pack", str(request.pack_dir or "built-in (measurements, no probability)")]])

    def run(_: StudySource, record: CommandRunRecord[PredictRequest, StudyPredictionRecord],
            folder: Path) -> CommandRunRecord[PredictRequest, StudyPredictionRecord]:
        return _answered(record, folder, plan, lambda: predict_study(request.image, pack_dir=request.pack_dir,
                                                                        on_progress=on_progress),
                         _prediction_rows)

    return run_command(RunOptions(output_dir=output_dir, is_cost_confirmed=True), lambda: prepare_command_run(
        record_type, skill=PREDICT_SKILL, request=request, read=lambda: study_source(request.image),
        where=str(request.image), run=run, plan_card=plan))


def extract_features_in_folder(request: FeatureExtractionRequest, *, output_dir: Path,
                               on_progress: OnProgress | None = None,
                               ) -> CommandRunRecord[FeatureExtractionRequest, FeatureExtractionRecord]:
    """Every member of the pack on every study, into ``OUT/features.csv``, through the run lifecycle."""
    record_type = CommandRunRecord.of(FeatureExtractionRequest, FeatureExtractionRecord)
    options = IngestOptions()
    plan = PlanCard(title="medskills triage extract-features", request_rows=[
        ["studies", str(len(request.studies))], *(["study", str(path)] for path in request.studies),
        ["pack", str(request.pack_dir)]])

    def run(sources: list[tuple[StudySource, str]],
            record: CommandRunRecord[FeatureExtractionRequest, FeatureExtractionRecord],
            folder: Path) -> CommandRunRecord[FeatureExtractionRequest, FeatureExtractionRecord]:
        answered = _answered(record, folder, plan, lambda: extract_feature_table(
            sources, pack_dir=request.pack_dir, output_dir=folder, options=options, on_progress=on_progress),
            _feature_rows)
        if answered.output is None:
            return answered
        return answered.with_updates(artifacts=[file_artifact("features", answered.output.table_path)])

    return run_command(RunOptions(output_dir=output_dir, is_cost_confirmed=True), lambda: prepare_command_run(
        record_type, skill=EXTRACT_SKILL, request=request,
        read=lambda: check_feature_studies(request.studies, options=options), where="STUDIES", run=run,
        plan_card=plan))


def _answered(record: CommandRunRecord[RequestT, OutputT], folder: Path, plan: PlanCard,
              compute: Callable[[], OutputT], rows: Callable[[OutputT], list[list[str]]],
              ) -> CommandRunRecord[RequestT, OutputT]:
    """Run ``compute``; a refused study is recorded with its code, and either way the card is written."""
    try:
        output = compute()
    except StudyError as err:
        record = record.with_updates(status=Status.FAILED, exit_code=int(err.exit_code), error_code=err.error_code,
                                     failure_reasons=[f"{err.error_code}: {err}"])
        result: list[CardTable] = [CardTable(title="Refused", rows=[["error code", err.error_code], ["why", str(err)]])]
    else:
        record = record.with_updates(output=output, status=Status.PASSED, exit_code=0)
        result = [CardTable(title="Result", rows=rows(output))]
    card = PlanCard(title=plan.title, request_rows=plan.request_rows, result_tables=result)
    card_path, card_error = write_plan_card(folder / CARD_FILE_NAME, record, card)
    return record.with_updates(card_path=card_path, card_error=card_error)


def _prediction_rows(output: StudyPredictionRecord) -> list[list[str]]:
    response = output.response
    return [["study", response.study_uid], ["series", response.series_uid or ""],
            ["probability of pathology", "none (no stacker)" if response.probability_of_pathology is None
             else f"{response.probability_of_pathology:.3f}"],
            ["pathology", "" if response.pathology is None else str(response.pathology)],
            ["top pathologies", ", ".join(response.top_pathologies)],
            ["members that ran", ", ".join(response.members_available)],
            ["members that did not", ", ".join(f"{m.name} ({m.reason})" for m in response.members_unavailable)],
            ["model version", str(response.model_version)]]


def _feature_rows(output: FeatureExtractionRecord) -> list[list[str]]:
    return [["table", str(output.table_path)], ["studies", ", ".join(output.studies)],
            ["features per study", str(output.feature_count)],
            ["members that ran", ", ".join(output.members_available)],
            ["members that did not", ", ".join(f"{m.name} ({m.reason})" for m in output.members_unavailable)]]
