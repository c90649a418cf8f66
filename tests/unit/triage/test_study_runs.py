"""``triage predict --output-dir`` and ``extract-features`` in a run folder: record, exit code, artifact and card.

The lifecycle itself (folder checks, re-use, crashes) is tested once for every command in
``tests/integration/core/test_run.py``; here: what these two commands put in it. Studies are the synthetic chest
phantom as an axial CT series (it passes the chest checks) and the same body without lungs (``lungs_not_found``).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from medskills.core.errors import ExitCode
from medskills.core.models import PreflightStatus, RunRecord, Status
from medskills.core.records import file_artifact
from medskills.triage.study_runs import (
    FeatureExtractionRequest,
    PredictRequest,
    extract_features_in_folder,
    predict_in_folder,
)
from triage_models_support.builders import load_single_member, trained_pack
from triage_service_support.study_fixtures import (  # noqa: F401  (chest_series, lungless_series, qct_pack: fixtures)
    QCT_AND_FVLM,
    chest_series,
    lungless_series,
    qct_pack,
)


@pytest.fixture(scope="module")
def stacker_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``qct`` + ``fvlm`` with a main stacker trained on two generated qct features (provenance synthetic)."""
    root = tmp_path_factory.mktemp("stacker_pack")
    names = list(load_single_member(root / "probe", {"kind": "qct"}).feature_names)[:2]
    return trained_pack(root, QCT_AND_FVLM, names, thoracic=False)


def _card_text(record: RunRecord) -> str:
    assert record.card_path is not None and record.card_error is None
    return html.unescape(record.card_path.read_text(encoding="utf-8"))


def _written(output_dir: Path) -> dict[str, object]:
    return json.loads((output_dir / "result.json").read_text(encoding="utf-8"))


def test_predict_in_folder_records_the_answer_as_passed_when_the_study_passes(
    chest_series: Path, qct_pack: Path, tmp_path: Path,
) -> None:
    request = PredictRequest(image=chest_series, pack_dir=qct_pack)
    record = predict_in_folder(request, output_dir=tmp_path / "out")
    assert record.skill == "triage-predict" and record.status is Status.PASSED and record.exit_code == ExitCode.OK
    assert record.request == request and record.error_code is None and record.failure_reasons == []
    assert record.output is not None and record.output.response.series_uid == "1.2.826.0.1.77.1"
    assert _written(tmp_path / "out") == json.loads(record.model_dump_json())
    assert record.card_path == tmp_path / "out" / "summary.html"
    card = _card_text(record)
    assert "medskills triage predict" in card and "Result" in card and "Refused" not in card
    assert "none (no stacker)" in card and "qct-1" in card and "fvlm (fVLM" in card


def test_predict_in_folder_shows_the_probability_to_three_decimals_when_the_pack_has_a_stacker(
    chest_series: Path, stacker_pack: Path, tmp_path: Path,
) -> None:
    record = predict_in_folder(PredictRequest(image=chest_series, pack_dir=stacker_pack), output_dir=tmp_path / "out")
    assert record.output is not None and record.exit_code == ExitCode.OK
    probability = record.output.response.probability_of_pathology
    assert probability is not None
    card = _card_text(record)
    assert f"{probability:.3f}" in card and "none (no stacker)" not in card


def test_predict_in_folder_records_a_refused_study_with_its_code_and_exit_2(
    lungless_series: Path, qct_pack: Path, tmp_path: Path,
) -> None:
    record = predict_in_folder(PredictRequest(image=lungless_series, pack_dir=qct_pack), output_dir=tmp_path / "out")
    assert record.status is Status.FAILED and record.exit_code == ExitCode.USAGE and record.output is None
    assert record.preflight.status is PreflightStatus.READY  # readable headers: refused by the pipeline, not preflight
    assert record.error_code == "lungs_not_found" and record.failure_reasons[0].startswith("lungs_not_found: lungs")
    assert _written(tmp_path / "out")["error_code"] == "lungs_not_found"
    card = _card_text(record)
    assert "Refused" in card and "lungs_not_found" in card and "Result" not in card


def test_predict_in_folder_records_no_models_available_with_exit_1_when_every_member_fails(
    chest_series: Path, qct_pack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from medskills.triage.models.qct import QCTMember

    def out_of_memory(self: QCTMember, inputs: object) -> object:
        raise MemoryError("simulated")

    monkeypatch.setattr(QCTMember, "compute", out_of_memory)
    record = predict_in_folder(PredictRequest(image=chest_series, pack_dir=qct_pack), output_dir=tmp_path / "out")
    assert record.exit_code == ExitCode.FAILED and record.error_code == "no_models_available"
    assert "qct: failed: MemoryError: simulated" in record.failure_reasons[0] and record.output is None


def test_predict_in_folder_records_no_error_code_when_the_pack_cannot_load(
    chest_series: Path, tmp_path: Path,
) -> None:
    record = predict_in_folder(PredictRequest(image=chest_series, pack_dir=tmp_path / "absent_pack"),
                               output_dir=tmp_path / "out")
    assert record.status is Status.FAILED and record.exit_code == ExitCode.FAILED and record.error_code is None
    assert "is not a model pack" in record.failure_reasons[0] and record.output is None


def test_predict_in_folder_refuses_an_unsupported_file_in_preflight_without_loading_the_built_in_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from medskills.triage import default_pack

    monkeypatch.setattr(default_pack, "load_default_predictor", lambda: pytest.fail("a model loaded"))
    notes = tmp_path / "notes.txt"
    notes.write_text("not a study")
    record = predict_in_folder(PredictRequest(image=notes), output_dir=tmp_path / "out")
    assert record.exit_code == ExitCode.USAGE and record.preflight.status is PreflightStatus.INVALID
    [check] = record.preflight.errors
    assert check.code == "input.unsupported_file_type" and check.field == str(notes)
    assert record.output is None and record.error_code is None
    assert "built-in (measurements, no probability)" in _card_text(record)


def test_extract_features_in_folder_lists_the_feature_table_as_its_artifact_when_every_study_passes(
    chest_series: Path, qct_pack: Path, tmp_path: Path,
) -> None:
    request = FeatureExtractionRequest(studies=[chest_series], pack_dir=qct_pack)
    record = extract_features_in_folder(request, output_dir=tmp_path / "out")
    table = tmp_path / "out" / "features.csv"
    assert record.skill == "triage-extract-features" and record.status is Status.PASSED
    assert record.exit_code == ExitCode.OK and record.artifacts == [file_artifact("features", table)]
    assert record.output is not None and record.output.table_path == table
    assert record.output.studies == ["1.2.826.0.1.77"] and record.output.members_available == ["qct"]
    assert _written(tmp_path / "out") == json.loads(record.model_dump_json())
    card = _card_text(record)
    assert "features per study" in card and str(record.output.feature_count) in card and str(chest_series) in card


def test_extract_features_in_folder_records_a_refused_study_without_a_table_or_artifact(
    chest_series: Path, lungless_series: Path, qct_pack: Path, tmp_path: Path,
) -> None:
    request = FeatureExtractionRequest(studies=[chest_series, lungless_series], pack_dir=qct_pack)
    record = extract_features_in_folder(request, output_dir=tmp_path / "out")
    assert record.exit_code == ExitCode.USAGE and record.error_code == "lungs_not_found"
    assert record.output is None and record.artifacts == []
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["result.json", "summary.html"]
    assert "Refused" in _card_text(record)


def test_feature_extraction_request_refuses_an_empty_study_list(qct_pack: Path) -> None:
    with pytest.raises(ValidationError, match="studies"):
        FeatureExtractionRequest(studies=[], pack_dir=qct_pack)


def test_predict_request_defaults_to_the_built_in_pack(chest_series: Path) -> None:
    assert PredictRequest(image=chest_series).pack_dir is None
