"""End to end with every member (tiny, random) on the real chest CT crop: extract-features, train-stacker, predict."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner

from medskills.cli import app
from medskills.triage.pack_manifest import feature_list_sha256
from triage_models_support.builders import generated_feature_table, tiny_astra_member, tiny_mednext_member, write_pack
from triage_models_support.ctclip_builders import tiny_ctclip_member, tiny_supervised_member

@pytest.fixture
def base_pack(tmp_path: Path) -> Path:
    torch.set_num_threads(1)
    root = tmp_path / "base"
    root.mkdir()
    members = [
        tiny_astra_member(root, with_reference=True),
        tiny_ctclip_member(root),
        tiny_supervised_member(root),
        tiny_mednext_member(root),
        {"kind": "diffusion_anomaly"},
        {"kind": "fvlm"},
    ]
    return write_pack(root, {"model_version": "tiny-all", "members": members, "top_k": 2})


def _run(arguments: list[str], *, stderr_has: str = "") -> dict[str, object]:
    result = CliRunner().invoke(app, ["triage", *arguments])
    assert result.exit_code == 0, result.output
    assert stderr_has in result.stderr
    return json.loads(result.stdout)


def _train(tmp_path: Path, base_pack: Path, *extra: str, stderr_has: str = "") -> dict[str, object]:
    """train-stacker on ``tmp_path/train.csv`` + ``labels.csv`` into ``tmp_path/pack``, 3 folds."""
    table, labels, pack = (str(tmp_path / name) for name in ("train.csv", "labels.csv", "pack"))
    return _run(["train-stacker", table, labels, "--out", pack, "--base-pack", str(base_pack), "--folds", "3", *extra],
                stderr_has=stderr_has)


CHEST = ("ct_chest_crop_1p5mm", "image.nii.gz")


def test_extract_train_predict_with_every_member(base_pack: Path, shared_data: Path, tmp_path: Path) -> None:
    image = shared_data.joinpath(*CHEST)
    record = _run(["extract-features", str(image), "--pack", str(base_pack), "--out", str(tmp_path / "features")],
                  stderr_has="1/1")  # the rich progress bar, on stderr
    extracted = record["output"]
    assert record["artifacts"][0]["path"] == str(tmp_path / "features" / "features.csv")
    assert extracted["members_available"] == ["astra", "ctclip", "supervised", "mednext"]
    assert {m["name"] for m in extracted["members_unavailable"]} == {"diffusion_anomaly", "fvlm"}
    with (tmp_path / "features" / "features.csv").open() as handle:
        header = next(csv.reader(handle))[1:]
    assert header[0] == "astra_embedding_0000" and "ctclip_pneumothorax" in header and "fvlm_emphysema" in header

    generated_feature_table(
        tmp_path / "train.csv",
        tmp_path / "labels.csv",
        header,
        studies=60,
        signal="ctclip_pneumothorax",
        nan_prefixes=("diffusion_", "fvlm_"),
    )
    trained = _train(tmp_path, base_pack, "--model-version", "tiny-all-1", "--provenance", "synthetic",
                     stderr_has="synthetic features, a pipeline check")  # the stderr summary warns
    assert trained["main"]["auc"] > 0.9 and trained["thoracic"] is not None
    assert trained["stacker_provenance"] == "synthetic"

    record = _run(["predict", str(image), "--pack", str(tmp_path / "pack")])
    prediction = record["response"]
    assert prediction["model_version"] == "tiny-all-1" and prediction["processing_status"] == "Success"
    assert prediction["members_available"] == ["astra", "ctclip", "supervised", "mednext"]
    assert [m["name"] for m in prediction["members_unavailable"]] == ["diffusion_anomaly", "fvlm"]
    assert prediction["stacker_provenance"] == "synthetic" and prediction["fitted_on"]["study_count"] == 60
    assert prediction["chest_check"]["decided_by"] == "passed"
    if prediction["pathology"] == 0:
        assert prediction["top_pathologies"] == []
    else:
        assert len(prediction["top_pathologies"]) <= 2


def test_predict_with_a_mismatched_feature_list_exits_1_with_a_reason(
    base_pack: Path, shared_data: Path, tmp_path: Path
) -> None:
    names = ["astra_embedding_0001", "astra_embedding_0000"]
    generated_feature_table(tmp_path / "train.csv", tmp_path / "labels.csv", names, studies=40)
    _train(tmp_path, base_pack, stderr_has=f"next: medskills triage predict STUDY --pack {tmp_path / 'pack'}")
    manifest = tmp_path / "pack" / "pack.yaml"
    text = manifest.read_text()
    manifest.write_text(
        text.replace(
            "- astra_embedding_0001\n  - astra_embedding_0000", "- astra_embedding_0000\n  - astra_embedding_0001"
        )
    )
    result = CliRunner().invoke(app, ["triage", "predict", str(shared_data.joinpath(*CHEST)), "--pack",
                                      str(tmp_path / "pack")])
    assert result.exit_code == 1
    assert "features.sha256" in json.loads(result.stdout)["error"]

    edited = yaml.safe_load(manifest.read_text())
    edited["features"]["sha256"] = feature_list_sha256(edited["features"]["names"])
    manifest.write_text(yaml.safe_dump(edited, sort_keys=False))
    result = CliRunner().invoke(app, ["triage", "predict", str(shared_data.joinpath(*CHEST)), "--pack",
                                      str(tmp_path / "pack")])
    assert result.exit_code == 1
    assert "different order" in json.loads(result.stdout)["error"]


def test_train_stacker_rejects_an_unknown_threshold_rule(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["triage", "train-stacker", "f.csv", "l.csv", "--out", str(tmp_path / "p"), "--threshold-rule", "best"]
    )
    assert result.exit_code == 2


def test_extract_features_checks_every_input_before_computing_anything(
    base_pack: Path, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import medskills.triage.studies as studies

    monkeypatch.setattr(studies, "load_members", lambda pack: pytest.fail("members loaded before the inputs passed"))
    image = str(shared_data.joinpath(*CHEST))
    broken = tmp_path / "broken.nii.gz"
    broken.write_bytes(b"not a nifti")
    arguments = [image, image, str(broken), str(tmp_path / "absent.zip"), str(tmp_path / "notes.txt")]
    (tmp_path / "notes.txt").write_text("hello")
    result = CliRunner().invoke(
        app, ["triage", "extract-features", *arguments, "--pack", str(base_pack), "--out", str(tmp_path / "f")]
    )
    assert result.exit_code == 2
    problems = [check["message"] for check in json.loads(result.stdout)["preflight"]["errors"]]
    assert len(problems) == 4  # every problem at once, not the first only
    assert "'nifti_image' is also the id of" in problems[0]
    assert "broken.nii.gz" in problems[1] and "not a readable NIfTI" in problems[1]
    assert "absent.zip" in problems[2] and "does not exist" in problems[2]
    assert "notes.txt" in problems[3] and ".zip of DICOM files" in problems[3]
    assert sorted(path.name for path in (tmp_path / "f").iterdir()) == ["result.json", "summary.html"]


def test_extract_features_refuses_what_the_service_refuses(base_pack: Path, shared_data: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["triage", "extract-features", str(shared_data / "ct_torso_3mm" / "image.nii.gz"),
                                      "--pack", str(base_pack), "--out", str(tmp_path / "f")])
    record = json.loads(result.stdout)
    assert result.exit_code == 2 == record["exit_code"] and record["error_code"] == "lungs_not_found"
    assert not (tmp_path / "f" / "features.csv").exists() and (tmp_path / "f" / "summary.html").is_file()
