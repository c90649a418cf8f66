"""`medskills verify ...` and the verifiers/*/scripts/grade.py shims, end to end on the real scans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from medskills.cli import app
from medskills.core.label_spaces import map_labels
from unit.verification.run_builders import build_ct_synthesis_run, build_mr_run, load_nifti, save_nifti

REPO_ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()


def _dice(payload: dict, name: str) -> float:
    return next(item["dice"] for item in payload["scores"]["classes"] if item["name"] == name)


def test_reference_graded_as_prediction_exits_0_with_dice_one(abdomen: dict[str, Path]) -> None:
    result = runner.invoke(app, ["verify", "segmentation", "--prediction", str(abdomen["reference"]),
                                 "--prediction-labels", "totalsegmentator", "--image", str(abdomen["image"]),
                                 "--ground-truth", str(abdomen["reference"])])
    assert result.exit_code == 0, result.stdout
    payload = json.loads(result.stdout)
    assert payload["status"] == "passed"
    for name in ("liver", "spleen", "kidney_left", "kidney_right", "aorta"):
        assert _dice(payload, name) == 1.0


def test_maisi_mask_against_totalsegmentator_reference_exits_0(
    tmp_path: Path, abdomen: dict[str, Path], reference_map: tuple[np.ndarray, np.ndarray],
) -> None:
    reference, affine = reference_map
    mask = save_nifti(tmp_path / "maisi.nii.gz",
                      map_labels(reference, source="totalsegmentator", target="maisi").labels, affine)
    result = runner.invoke(app, ["verify", "segmentation", "--prediction", str(mask), "--prediction-labels", "maisi",
                                 "--image", str(abdomen["image"]), "--ground-truth", str(abdomen["reference"]),
                                 "--reference-labels", "totalsegmentator"])
    assert result.exit_code == 0, result.stdout
    payload = json.loads(result.stdout)
    assert all(item["dice"] == 1.0 for item in payload["scores"]["classes"])
    for name in ("liver", "spleen", "left kidney", "right kidney", "aorta"):
        assert _dice(payload, name) == 1.0


def test_failed_verdict_exits_1_and_json_copy_is_written(tmp_path: Path, shared_data: Path) -> None:
    ct, _ = load_nifti(shared_data / "ct_abdomen_3mm" / "image.nii.gz")
    run_dir = build_ct_synthesis_run(tmp_path / "run", shared_data, image=np.zeros_like(ct))
    verdict_path = tmp_path / "verdict.json"
    result = runner.invoke(app, ["verify", "ct-synthesis", str(run_dir), "--json", str(verdict_path)])
    assert result.exit_code == 1
    assert json.loads(verdict_path.read_text())["status"] == "failed" == json.loads(result.stdout)["status"]
    again = runner.invoke(app, ["verify", "ct-synthesis", str(run_dir), "--json", str(verdict_path)])
    assert again.exit_code == 2 and "already exists" in json.loads(again.stdout)["error"]


def test_missing_record_exits_2_with_a_json_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["verify", "mr-synthesis", str(tmp_path)])
    assert result.exit_code == 2
    assert "result.json is missing" in json.loads(result.stdout)["error"]


def test_bad_flags_exit_2(abdomen: dict[str, Path]) -> None:
    both = runner.invoke(app, ["verify", "segmentation", str(abdomen["image"].parent),
                               "--prediction", str(abdomen["reference"])])
    assert both.exit_code == 2 and "exactly one" in json.loads(both.stdout)["error"]
    floor = runner.invoke(app, ["verify", "segmentation", "--prediction", str(abdomen["reference"]),
                                "--dice-floor", "liver"])
    assert floor.exit_code == 2 and "NAME=NUMBER" in json.loads(floor.stdout)["error"]
    modality = runner.invoke(app, ["verify", "segmentation", "--prediction", str(abdomen["reference"]),
                                   "--modality", "PET"])
    assert modality.exit_code == 2


def _shim(verifier: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
    return subprocess.run([sys.executable, str(REPO_ROOT / "verifiers" / verifier / "scripts" / "grade.py"), *args],
                          capture_output=True, text=True, env=env, timeout=120, check=False)


def test_shims_grade_runs_with_the_package_exit_codes(tmp_path: Path, shared_data: Path) -> None:
    passing = _shim("ct_synthesis_quality_v1", str(build_ct_synthesis_run(tmp_path / "ct", shared_data)))
    assert passing.returncode == 0, passing.stderr
    assert json.loads(passing.stdout)["verifier"] == "ct_synthesis_quality_v1"
    image, affine = load_nifti(shared_data / "mr_brain_t1" / "image.nii.gz")
    negative = build_mr_run(tmp_path / "mr", image.astype(np.float32) - 10.0, affine)
    failing = _shim("mr_synthesis_quality_v1", str(negative))
    assert failing.returncode == 1
    unusable = _shim("ct_segmentation_quality_v1", str(tmp_path / "nowhere"))
    assert unusable.returncode == 2
