"""The triage model commands (``predict``, ``train-stacker``, ``extract-features``) and their stderr summaries.

The commands are registered on a fresh typer app, as ``medskills triage`` registers them, and driven with
typer's CliRunner. Studies are a short chest phantom (22 axial CT slices of 8 mm, lungs over 160 mm: it passes the
chest checks) and the same body without lungs; the pack holds ``qct`` (no weights) and ``fvlm`` (unavailable).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner, Result

from medskills.cli.triage_models import prediction_summary, register, training_summary
from medskills.triage.api.schemas import InferenceResponse, ProcessingStatus
from medskills.triage.pack_manifest import FittedOn, StackerProvenance
from medskills.triage.prediction import MemberUnavailable
from medskills.triage.studies import StudyPredictionRecord
from medskills.triage.training import StackerMetrics, ThresholdRule, TrainingRecord
from triage_models_support.builders import generated_feature_table
from triage_service_support.study_fixtures import chest_series, lungless_series, qct_pack  # noqa: F401  (fixtures)

TWO_QCT_FEATURES = ["qct_lung_volume_both", "qct_haa_both"]


@pytest.fixture
def app() -> typer.Typer:
    """A typer app holding only this module's commands."""
    triage = typer.Typer()
    register(triage)
    return triage


@pytest.fixture
def training_table(tmp_path: Path) -> tuple[Path, Path]:
    """``features.csv`` (two qct features, 40 studies, the first separating the classes) and ``labels.csv``."""
    features, labels = tmp_path / "features.csv", tmp_path / "labels.csv"
    generated_feature_table(features, labels, TWO_QCT_FEATURES, studies=40)
    return features, labels


def _invoke(app: typer.Typer, *arguments: str) -> Result:
    return CliRunner().invoke(app, list(arguments))


def _prediction(probability: float | None, *, members: list[str], unavailable: list[MemberUnavailable] | None = None,
                provenance: StackerProvenance = StackerProvenance.SYNTHETIC) -> StudyPredictionRecord:
    response = InferenceResponse(
        processing_status=ProcessingStatus.SUCCESS, time_of_processing=1.0, probability_of_pathology=probability,
        pathology=None if probability is None else int(probability >= 0.5), model_version="pack-7",
        stacker_provenance=provenance, members_available=members, members_unavailable=unavailable or [])
    return StudyPredictionRecord(source_path=Path("/studies/chest.zip"), pack_dir=Path("/packs/p"), response=response)


def _metrics(target: str) -> StackerMetrics:
    return StackerMetrics(target=target, studies=60, positives=30, auc=0.91234, threshold=0.4567, sensitivity=0.8,
                          specificity=0.7, model_file=f"stacker_{target}.txt", model_sha256="a" * 64)


def _training(*, thoracic: bool, provenance: StackerProvenance) -> TrainingRecord:
    return TrainingRecord(pack_dir=Path("/packs/new"), model_version="v2", feature_count=2,
                          threshold_rule=ThresholdRule.YOUDEN, folds=3, seed=0, stacker_provenance=provenance,
                          fitted_on=FittedOn(description="labels.csv", study_count=60), main=_metrics("label"),
                          thoracic=_metrics("label_thoracic") if thoracic else None)


def test_register_adds_predict_train_stacker_and_extract_features_with_their_flags(app: typer.Typer) -> None:
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    assert set(commands) == {"predict", "train-stacker", "extract-features"}
    flags = {name: {flag for parameter in command.params for flag in getattr(parameter, "opts", [])}
             for name, command in commands.items()}
    assert {"--pack", "--output-dir", "-o"} <= flags["predict"]
    assert {"--out", "--base-pack", "--folds", "--threshold-rule", "--provenance"} <= flags["train-stacker"]
    assert {"--pack", "--output-dir", "--out", "-o"} <= flags["extract-features"]


def test_predict_prints_the_record_and_a_summary_and_writes_nothing_when_no_output_dir_is_given(
    app: typer.Typer, chest_series: Path, qct_pack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _invoke(app, "predict", str(chest_series), "--pack", str(qct_pack))
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["source_path"] == str(chest_series) and record["pack_dir"] == str(qct_pack)
    assert record["response"]["members_available"] == ["qct"] and "exit_code" not in record
    summary = [line for line in result.stderr.splitlines() if line.startswith(("medskills", "  "))]
    measurements = len(record["response"]["measurements"])
    assert summary[0] == (f"medskills triage predict: measurements only, no probability (pack qct-1 has no stacker; "
                          f"{measurements} measurement(s)), exit 0")
    assert summary[1] == "  members run: qct" and summary[2].startswith("  warning: member fvlm did not run: fVLM")
    assert summary[-1].startswith("  next: pass --pack with a trained stacker")
    assert list(tmp_path.iterdir()) == []


def test_predict_exits_2_with_the_refusals_code_when_the_study_fails_its_checks(
    app: typer.Typer, lungless_series: Path, qct_pack: Path,
) -> None:
    result = _invoke(app, "predict", str(lungless_series), "--pack", str(qct_pack))
    record = json.loads(result.stdout)
    assert result.exit_code == 2 == record["exit_code"] and record["error_code"] == "lungs_not_found"
    assert "BLOCKING 1. lungs not found" in result.stderr


def test_predict_exits_1_naming_the_pack_when_the_pack_cannot_load(
    app: typer.Typer, chest_series: Path, tmp_path: Path,
) -> None:
    result = _invoke(app, "predict", str(chest_series), "--pack", str(tmp_path / "absent_pack"))
    record = json.loads(result.stdout)
    assert result.exit_code == 1 and record["error_type"] == "ModelPackError" and "absent_pack" in record["error"]


def test_predict_writes_the_run_folder_and_prints_its_record_when_an_output_dir_is_given(
    app: typer.Typer, chest_series: Path, qct_pack: Path, tmp_path: Path,
) -> None:
    result = _invoke(app, "predict", str(chest_series), "--pack", str(qct_pack), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["skill"] == "triage-predict" and record["output"]["response"]["model_version"] == "qct-1"
    assert json.loads((tmp_path / "out" / "result.json").read_text()) == record
    assert (tmp_path / "out" / "summary.html").is_file()


def test_prediction_summary_states_the_probability_provenance_and_pack_when_there_is_a_stacker() -> None:
    lines = prediction_summary(_prediction(0.8734, members=["astra", "qct"]))
    assert lines == ["medskills triage predict: probability of pathology 0.873 (synthetic, pack pack-7), exit 0",
                     "  members run: astra, qct", "  next: nothing to do; not for clinical use."]


def test_prediction_summary_warns_of_each_member_that_did_not_run() -> None:
    unavailable = [MemberUnavailable(name="fvlm", reason="not implemented"),
                   MemberUnavailable(name="ctclip", reason="weights absent")]
    lines = prediction_summary(_prediction(0.2, members=["qct"], unavailable=unavailable))
    assert lines[2:4] == ["  warning: member fvlm did not run: not implemented",
                          "  warning: member ctclip did not run: weights absent"]


def test_prediction_summary_says_none_ran_when_no_member_is_listed() -> None:
    lines = prediction_summary(_prediction(None, members=[], provenance=StackerProvenance.NONE))
    assert lines[0].startswith("medskills triage predict: measurements only, no probability (pack pack-7")
    assert lines[1] == "  members run: none"


def test_training_summary_gives_one_line_per_stacker_and_warns_when_the_features_were_synthetic() -> None:
    lines = training_summary(_training(thoracic=True, provenance=StackerProvenance.SYNTHETIC))
    assert lines[0] == "medskills triage train-stacker: pack v2 written to /packs/new, exit 0"
    assert lines[1] == ("  label: out-of-fold AUC 0.912 on 60 studies (30 positive); at threshold 0.457 "
                        "sensitivity 0.800, specificity 0.700")
    assert lines[2].startswith("  label_thoracic: out-of-fold AUC 0.912")
    assert lines[3] == "  warning: trained on synthetic features, a pipeline check: its probabilities mean nothing."
    assert lines[4:] == ["  next: medskills triage predict STUDY --pack /packs/new"]


def test_training_summary_omits_the_thoracic_line_and_the_warning_for_a_fitted_main_stacker_only() -> None:
    lines = training_summary(_training(thoracic=False, provenance=StackerProvenance.FITTED))
    assert len(lines) == 3 and lines[1].startswith("  label: ") and not any("warning" in line for line in lines)


def test_train_stacker_passes_every_option_into_the_request_and_summarises_on_stderr(
    app: typer.Typer, training_table: tuple[Path, Path], qct_pack: Path, tmp_path: Path,
) -> None:
    features, labels = training_table
    result = _invoke(app, "train-stacker", str(features), str(labels), "--out", str(tmp_path / "pack"),
                     "--base-pack", str(qct_pack), "--model-version", "v9", "--folds", "2", "--seed", "3",
                     "--threshold-rule", "sensitivity", "--target-sensitivity", "0.8", "--provenance", "synthetic",
                     "--fitted-on", "generated rows")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert (record["model_version"], record["folds"], record["seed"]) == ("v9", 2, 3)
    assert record["threshold_rule"] == "sensitivity" and record["stacker_provenance"] == "synthetic"
    assert record["fitted_on"] == {"description": "generated rows", "study_count": 40}
    assert record["pack_dir"] == str(tmp_path / "pack") and record["feature_count"] == 2
    manifest = yaml.safe_load((tmp_path / "pack" / "pack.yaml").read_text())
    assert manifest["thresholds"]["rule"].endswith("target sensitivity 0.8")
    assert [member["kind"] for member in manifest["members"]] == ["qct", "fvlm"]
    assert f"pack v9 written to {tmp_path / 'pack'}, exit 0" in result.stderr
    assert "trained on synthetic features" in result.stderr


def test_train_stacker_trains_a_fitted_youden_stacker_with_five_folds_by_default(
    app: typer.Typer, training_table: tuple[Path, Path], tmp_path: Path,
) -> None:
    features, labels = training_table
    result = _invoke(app, "train-stacker", str(features), str(labels), "--out", str(tmp_path / "pack"))
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert (record["folds"], record["seed"], record["threshold_rule"]) == (5, 0, "youden")
    assert record["stacker_provenance"] == "fitted" and "synthetic" not in result.stderr


@pytest.mark.parametrize("option", [("--folds", "1"), ("--target-sensitivity", "0")])
def test_train_stacker_exits_2_before_reading_any_table_when_an_option_is_out_of_range(
    app: typer.Typer, tmp_path: Path, option: tuple[str, str],
) -> None:
    result = _invoke(app, "train-stacker", str(tmp_path / "absent.csv"), str(tmp_path / "absent_labels.csv"),
                     "--out", str(tmp_path / "pack"), *option)
    assert result.exit_code == 2 and not (tmp_path / "pack").exists()
    assert f"Invalid value for '{option[0]}'" in result.stderr


def test_train_stacker_refuses_provenance_none_as_a_usage_error_with_a_json_record(
    app: typer.Typer, training_table: tuple[Path, Path], tmp_path: Path,
) -> None:
    features, labels = training_table
    result = _invoke(app, "train-stacker", str(features), str(labels), "--out", str(tmp_path / "pack"),
                     "--provenance", "none")
    assert result.exit_code == 2 and not (tmp_path / "pack").exists()
    record = json.loads(result.stdout)
    assert record["problems"] == ["--provenance: Value error, provenance 'none' means no stacker; train-stacker writes "
                                  "one: use fitted or synthetic"]


def test_extract_features_writes_the_table_into_the_run_folder(
    app: typer.Typer, chest_series: Path, qct_pack: Path, tmp_path: Path,
) -> None:
    result = _invoke(app, "extract-features", str(chest_series), "--pack", str(qct_pack), "-o", str(tmp_path / "f"))
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["skill"] == "triage-extract-features" and record["output"]["members_available"] == ["qct"]
    assert record["artifacts"][0]["path"] == str(tmp_path / "f" / "features.csv")
    assert (tmp_path / "f" / "features.csv").is_file()


@pytest.mark.parametrize("missing", ["--pack", "--output-dir"])
def test_extract_features_exits_2_when_a_required_option_is_missing(
    app: typer.Typer, chest_series: Path, qct_pack: Path, tmp_path: Path, missing: str,
) -> None:
    given = {"--pack": str(qct_pack), "--output-dir": str(tmp_path / "f")}
    options = [word for flag, value in given.items() if flag != missing for word in (flag, value)]
    result = _invoke(app, "extract-features", str(chest_series), *options)
    assert result.exit_code == 2 and f"Missing option '{missing}'" in result.stderr
    assert not (tmp_path / "f").exists()
