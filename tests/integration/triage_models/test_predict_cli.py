"""`medskills triage predict` runs the service's one study pipeline: same inputs, same refusals, same codes.

Real scans: the chest crop passes; the brain MRI and the abdomen-pelvis CT are refused before any
model loads (the pack given is broken on purpose, so a model load would show as exit 1).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from medskills.cli import app
from medskills.triage.models.astra import AstraMember, astra_feature_names
from medskills.triage.pack_manifest import AstraMemberSpec
from triage_models_support.builders import tiny_astra_member, trained_pack
from triage_service_support.studies import CHEST_CROP, CHEST_CROP_STUDY_UID, chest_crop_series, chest_crop_zip


@pytest.fixture(scope="module")
def tiny_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny random Astra + a stacker trained on generated features (provenance ``synthetic``)."""
    root = tmp_path_factory.mktemp("tiny")
    (root / "base").mkdir()
    entry = tiny_astra_member(root / "base")
    return trained_pack(root, [entry], list(astra_feature_names(AstraMemberSpec.model_validate(entry))))


def _predict(*arguments: str) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(app, ["triage", "predict", *arguments])
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize(("scan", "error_code"), [("mr_brain_t1", "hu_implausible"),
                                                  ("ct_torso_3mm", "lungs_not_found")])
def test_a_study_the_service_refuses_exits_2_with_its_code_before_any_model_loads(
    shared_data: Path, tmp_path: Path, scan: str, error_code: str
) -> None:
    code, record = _predict(str(shared_data / scan / "image.nii.gz"), "--pack", str(tmp_path / "no_pack"))
    assert code == 2 and record["error_code"] == error_code and record["exit_code"] == 2


def test_a_file_the_service_does_not_take_is_unsupported_file_type(tmp_path: Path) -> None:
    notes = tmp_path / "scan.txt"
    notes.write_text("not a study")
    code, record = _predict(str(notes))
    assert code == 2 and record["error_code"] == "unsupported_file_type"


def test_the_real_chest_crop_as_nifti_dicom_folder_and_zip_gives_one_answer(
    tiny_pack: Path, shared_data: Path, tmp_path: Path
) -> None:
    answers = {}
    inputs = (("nifti", shared_data.joinpath(*CHEST_CROP)), ("folder", chest_crop_series(tmp_path, shared_data)),
              ("zip", chest_crop_zip(tmp_path, shared_data)))
    for name, path in inputs:
        code, record = _predict(str(path), "--pack", str(tiny_pack))
        assert code == 0, record
        answers[name] = record["response"]
    assert answers["nifti"]["study_uid"] == "nifti_image"
    assert answers["folder"]["study_uid"] == answers["zip"]["study_uid"] == CHEST_CROP_STUDY_UID
    assert answers["zip"]["series_selection"]["chosen_series_uid"] == f"{CHEST_CROP_STUDY_UID}.1"
    for response in answers.values():
        assert response["processing_status"] == "Success" and response["members_available"] == ["astra"]
        assert response["stacker_provenance"] == "synthetic" and response["chest_check"]["decided_by"] == "passed"
    # the same voxels by all three routes give the same probability
    assert len({round(float(r["probability_of_pathology"]), 6) for r in answers.values()}) == 1


def test_a_study_no_member_could_analyse_exits_1_with_no_models_available(
    tiny_pack: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def out_of_memory(self: AstraMember, inputs: object) -> np.ndarray:
        raise MemoryError("simulated")

    monkeypatch.setattr(AstraMember, "compute", out_of_memory)
    code, record = _predict(str(shared_data.joinpath(*CHEST_CROP)), "--pack", str(tiny_pack))
    assert code == 1 and record["error_code"] == "no_models_available"
    assert "astra: failed: MemoryError: simulated" in str(record["error"])
    assert "probability_of_pathology" not in record


@pytest.mark.slow
def test_predict_without_a_pack_prints_the_built_in_answer_for_the_real_chest_crop(shared_data: Path) -> None:
    result = CliRunner().invoke(app, ["triage", "predict", str(shared_data.joinpath(*CHEST_CROP))])
    code, record = result.exit_code, json.loads(result.stdout)
    assert code == 0, record
    summary = result.stderr.splitlines()
    assert any("measurements only, no probability" in line for line in summary)
    assert any(line.strip().startswith("members run: qct") for line in summary)
    assert summary[-1].strip().startswith("next: pass --pack")
    response = record["response"]
    assert record["pack_dir"] is None and response["processing_status"] == "Success"
    assert response["probability_of_pathology"] is None and response["pathology"] is None
    assert response["stacker_provenance"] == "none" and response["members_available"][0] == "qct"
    assert any(m["name"] == "laa_950" and m["reference_range"] is not None for m in response["measurements"])
    assert "Medical material" in response["top_pathologies"]


def test_an_answer_with_a_probability_is_summarised_on_stderr_with_its_members(
    tiny_pack: Path, shared_data: Path,
) -> None:
    result = CliRunner().invoke(app, ["triage", "predict", str(shared_data.joinpath(*CHEST_CROP)),
                                      "--pack", str(tiny_pack)])
    record = json.loads(result.stdout)
    probability = record["response"]["probability_of_pathology"]
    assert result.exit_code == 0 and f"probability of pathology {probability:.3f} (synthetic" in result.stderr
    assert "members run: astra" in result.stderr and "not for clinical use" in result.stderr
