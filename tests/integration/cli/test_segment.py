"""The seed command line and `medskills segment`: one JSON on stdout, exit codes 0 / 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medskills.cli import app

REPO = Path(__file__).resolve().parents[3]
SHIM = REPO / "skills" / "nv-segment-ctmr" / "scripts" / "run_ctmr.py"


@pytest.fixture()
def ct(shared_data: Path) -> Path:
    return shared_data / "ct_abdomen_3mm" / "image.nii.gz"


def _invoke(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["segment", "ctmr", *args])
    return result.exit_code, json.loads(result.stdout)


def test_shim_preflight_only_without_a_bundle_exits_0_and_names_the_weights(ct: Path, tmp_path: Path) -> None:
    env = {**os.environ, "NV_SEGMENT_CTMR_ROOT": str(tmp_path / "no-bundle")}
    done = subprocess.run([sys.executable, str(SHIM), str(ct), "--modality", "CT_BODY", "--output-dir",
                           str(tmp_path / "out"), "--label-prompts", "liver,spleen", "--preflight-only"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    weights = next(e for e in record["preflight"]["errors"] if e["code"] == "weights_missing")
    assert "models/model.pt" in weights["message"] and "medskills setup segment-ctmr" in weights["fix"]
    assert (tmp_path / "out" / "result.json").is_file()


@pytest.mark.parametrize(("prompts", "needle"), [("livr", "Did you mean 'liver'"), ("155", "no training data")])
def test_bad_prompts_exit_2_with_the_reason(ct: Path, tmp_path: Path, prompts: str, needle: str) -> None:
    code, record = _invoke(str(ct), "--modality", "CT_BODY", "--output-dir", str(tmp_path / "o"),
                           "--label-prompts", prompts, "--preflight-only")
    assert code == 2 and record["exit_code"] == 2
    assert any(needle in reason for reason in record["failure_reasons"])


def test_allow_no_gpu_turns_the_gpu_error_into_a_recorded_warning(
    ct: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, record = _invoke(str(ct), "--modality", "CT_BODY", "--output-dir", str(tmp_path / "a"), "--preflight-only")
    assert code == 0 and "no_gpu" in [e["code"] for e in record["preflight"]["errors"]]
    monkeypatch.setenv("MEDSKILLS_ALLOW_NO_GPU", "1")
    code, record = _invoke(str(ct), "--modality", "CT_BODY", "--output-dir", str(tmp_path / "b"), "--preflight-only")
    assert code == 0 and "no_gpu" not in [e["code"] for e in record["preflight"]["errors"]]
    assert "no_gpu_allowed" in [w["code"] for w in record["preflight"]["warnings"]]


def test_a_run_on_an_unready_machine_exits_2(ct: Path, tmp_path: Path) -> None:
    code, record = _invoke(str(ct), "--modality", "CT_BODY", "--output-dir", str(tmp_path / "o"), "--device", "cpu")
    assert code == 2 and any(r.startswith("preflight bundle_missing") for r in record["failure_reasons"])


def test_bad_output_type_and_non_empty_output_dir_are_usage_errors(ct: Path, tmp_path: Path) -> None:
    code, record = _invoke(str(ct), "--modality", "CT_BODY", "--output-dir", str(tmp_path / "o"),
                           "--output-type", "dicomseg")
    assert code == 2 and "Did you mean 'dicom-seg'" in record["error"]
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    code, record = _invoke(str(ct), "--modality", "CT_BODY", "--output-dir", str(tmp_path / "full"))
    assert code == 2 and "not empty" in record["error"]


def test_labels_command_lists_the_dictionary() -> None:
    result = CliRunner().invoke(app, ["segment", "labels", "--modality", "MRI_BRAIN", "--filter", "hippocampus"])
    assert result.exit_code == 0
    names = {row["name"] for row in json.loads(result.stdout)["labels"]}
    assert names == {"Left-Hippocampus", "Right-Hippocampus"}
