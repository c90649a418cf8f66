"""Triage model commands (registered on the `medskills triage` sub-app): predict, train-stacker, extract-features."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from medskills.cli._common import (
    OptionalOutputDirOption,
    configure_logging,
    emit,
    emit_run,
    run_guarded,
    write_summary,
)
from medskills.cli._progress import with_progress
from medskills.triage.pack_manifest import StackerProvenance
from medskills.triage.training import ThresholdRule

if TYPE_CHECKING:
    from medskills.triage.studies import StudyPredictionRecord
    from medskills.triage.training import TrainingRecord

StudyArgument = Annotated[Path, typer.Argument(help="A ZIP of DICOM files, a DICOM folder, or a .nii/.nii.gz CT.")]


def predict_command(
    image: StudyArgument,
    pack: Annotated[Path | None, typer.Option("--pack", help="Model pack directory (holds pack.yaml); "
                                              "default: the built-in pack (measurements, no probability).")] = None,
    output_dir: OptionalOutputDirOption = None,
) -> None:
    """Answer for one study as the service would; refusals exit 2 (the study) or 1 (no model)."""
    from medskills.triage.studies import predict_study
    from medskills.triage.study_runs import PredictRequest, predict_in_folder

    configure_logging()
    if output_dir is None:
        record = run_guarded(lambda: with_progress(lambda progress: predict_study(image, pack_dir=pack,
                                                                                  on_progress=progress), unit="steps"))
        write_summary(prediction_summary(record))
        emit(record)
    request = PredictRequest(image=image, pack_dir=pack)
    emit_run(run_guarded(lambda: with_progress(lambda progress: predict_in_folder(
        request, output_dir=output_dir, on_progress=progress), unit="steps")), is_preflight_only=False)


def prediction_summary(record: StudyPredictionRecord) -> list[str]:
    """The stderr lines of an answer: what it says, which members gave it, what did not run, the next step."""
    answer = record.response
    if answer.probability_of_pathology is None:
        said = (f"measurements only, no probability (pack {answer.model_version} has no stacker; "
                f"{len(answer.measurements)} measurement(s))")
        next_step = "pass --pack with a trained stacker for a probability (docs/triage_models.md)."
    else:
        said = (f"probability of pathology {answer.probability_of_pathology:.3f} "
                f"({answer.stacker_provenance}, pack {answer.model_version})")
        next_step = "nothing to do; not for clinical use."
    lines = [f"medskills triage predict: {said}, exit 0",
             f"  members run: {', '.join(answer.members_available) or 'none'}"]
    lines += [f"  warning: member {member.name} did not run: {member.reason}" for member in answer.members_unavailable]
    return [*lines, f"  next: {next_step}"]


def train_stacker_command(
    features: Annotated[Path, typer.Argument(help="Feature table (.csv or .parquet) with a study_id column.")],
    labels: Annotated[Path, typer.Argument(help="CSV with study_id, label and optional label_thoracic (0/1).")],
    output_dir: Annotated[Path, typer.Option("--out", help="New pack directory to write.")],
    base_pack: Annotated[
        Path | None, typer.Option("--base-pack", help="Pack whose members and vocabulary to reuse.")
    ] = None,
    model_version: Annotated[str | None, typer.Option("--model-version")] = None,
    folds: Annotated[int, typer.Option("--folds", min=2)] = 5,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    threshold_rule: Annotated[ThresholdRule, typer.Option("--threshold-rule")] = ThresholdRule.YOUDEN,
    target_sensitivity: Annotated[float, typer.Option("--target-sensitivity", min=0.01, max=1.0)] = 0.9,
    provenance: Annotated[StackerProvenance, typer.Option(
        "--provenance", help="fitted: real labelled studies; synthetic: generated features (a pipeline check); "
        "none is refused (it means a pack without a stacker).")
    ] = StackerProvenance.FITTED,
    fitted_on: Annotated[str | None, typer.Option("--fitted-on", help="What the labelled studies are.")] = None,
) -> None:
    """Train the main (and thoracic) LightGBM stackers with stratified CV and write a model pack."""
    from medskills.triage.training import TrainStackerRequest, train_stacker

    record = run_guarded(lambda: train_stacker(TrainStackerRequest(  # an invalid request is a usage error, exit 2
        features_path=features, labels_path=labels, output_dir=output_dir, base_pack=base_pack,
        model_version=model_version, folds=folds, seed=seed, threshold_rule=threshold_rule,
        target_sensitivity=target_sensitivity, provenance=provenance, fitted_on=fitted_on)))
    write_summary(training_summary(record))
    emit(record)


def training_summary(record: TrainingRecord) -> list[str]:
    """The stderr lines of a trained pack: where it is, how each stacker scored out of fold, the next step."""
    lines = [f"medskills triage train-stacker: pack {record.model_version} written to {record.pack_dir}, exit 0"]
    for metrics in (record.main, record.thoracic):
        if metrics is not None:
            lines.append(f"  {metrics.target}: out-of-fold AUC {metrics.auc:.3f} on {metrics.studies} studies "
                         f"({metrics.positives} positive); at threshold {metrics.threshold:.3f} sensitivity "
                         f"{metrics.sensitivity:.3f}, specificity {metrics.specificity:.3f}")
    if record.stacker_provenance == StackerProvenance.SYNTHETIC:
        lines.append("  warning: trained on synthetic features, a pipeline check: its probabilities mean nothing.")
    return [*lines, f"  next: medskills triage predict STUDY --pack {record.pack_dir}"]


def extract_features_command(
    studies: Annotated[list[Path], typer.Argument(help="Studies: DICOM ZIPs, DICOM folders or .nii/.nii.gz CTs.")],
    pack: Annotated[Path, typer.Option("--pack", help="Model pack directory (a stacker is not needed).")],
    output_dir: Annotated[Path, typer.Option("--output-dir", "--out", "-o", help="Run folder for features.csv, "
                                             "result.json and summary.html (new, empty, or holding only an earlier "
                                             "output-free record of ours).")],
) -> None:
    """Check every study first, then run every member of a pack on each and write the feature table."""
    from medskills.triage.study_runs import FeatureExtractionRequest, extract_features_in_folder

    configure_logging()
    request = run_guarded(lambda: FeatureExtractionRequest(studies=studies, pack_dir=pack))
    emit_run(run_guarded(lambda: with_progress(lambda progress: extract_features_in_folder(
        request, output_dir=output_dir, on_progress=progress), unit="studies")), is_preflight_only=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("predict")(predict_command)
    app.command("train-stacker")(train_stacker_command)
    app.command("extract-features")(extract_features_command)
