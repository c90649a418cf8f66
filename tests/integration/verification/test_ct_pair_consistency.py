"""ct_pair_consistency_v1 on the real ct_abdomen_3mm with real LiteMedSAM weights: correct vs broken pairs.

Kept lean for CI: liver and spleen, one slice each (the calibration benchmark runs every organ on
three slices). The broken pairs are those of ``benchmarks/ct_pair_consistency_calibration.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage
from typer.testing import CliRunner

from medskills.cli import app
from medskills.core.models import Status
from medskills.pretrained import LiteMedSamModel, load_litemedsam
from medskills.verification import PairConsistencyRequest, Verdict, grade_ct_pair_consistency
from pretrained_support import needs_litemedsam
from unit.verification.run_builders import build_ct_synthesis_run, load_nifti, save_nifti

runner = CliRunner()
ORGANS = ["liver", "spleen"]
TS_LIVER, TS_SPLEEN = 5, 1


@pytest.fixture(scope="module")
def model() -> LiteMedSamModel:
    return load_litemedsam()


def _grade(model: LiteMedSamModel, image: Path, label: Path, card: Path | None = None) -> Verdict:
    request = PairConsistencyRequest(image=image, label=label, label_space="totalsegmentator", anatomies=ORGANS,
                                     slices_per_organ=1, card=card)
    return grade_ct_pair_consistency(request, model=model)


def _broken(tmp_path: Path, reference: Path, name: str) -> Path:
    labels, affine = load_nifti(reference)
    if name == "shift":  # 30 mm toward the patient's left: -x in this RAS file, 3 mm voxels
        labels = ndimage.shift(labels, (-10, 0, 0), order=0, cval=0)
    elif name == "flip":
        labels = labels[::-1, :, :]
    else:
        labels = np.where(labels == TS_LIVER, TS_SPLEEN, np.where(labels == TS_SPLEEN, TS_LIVER, labels))
    return save_nifti(tmp_path / f"{name}.nii.gz", np.ascontiguousarray(labels).astype(np.uint8), affine)


@needs_litemedsam
def test_the_correct_pair_passes_with_dice_per_organ_slices_and_a_card(model: LiteMedSamModel, tmp_path: Path,
                                                                      abdomen: dict[str, Path]) -> None:
    verdict = _grade(model, abdomen["image"], abdomen["reference"], card=tmp_path / "card.html")
    assert verdict.status is Status.PASSED and verdict.exit_code == 0, verdict.failed_checks
    [sample] = verdict.pair_consistency.samples
    dice = {organ.anatomy: organ.dice for organ in sample.organs}
    assert dice["liver"] > 0.9 and dice["spleen"] > 0.85
    assert all(len(organ.slices) == 1 for organ in sample.organs)
    assert {side.anatomy for side in sample.sides} == {"liver", "spleen"}
    assert any("right kidney: not requested" in item for item in sample.not_checked)
    assert any(item.role == "litemedsam_weights" and item.sha256.startswith("79d8c9dc") for item in verdict.files_read)
    html = (tmp_path / "card.html").read_text()
    assert f"card: {tmp_path / 'card.html'}" in verdict.notes
    assert "sample 0: liver, slice" in html and "red: LiteMedSAM" in html and html.count("data:image/png") == 2


@needs_litemedsam
@pytest.mark.parametrize(("kind", "failing"), [
    ("shift", {"sample0_image_label_agreement.sample0_liver_dice"}),
    ("flip", {"sample0_organ_sides.sample0_liver_side", "sample0_organ_sides.sample0_spleen_side"}),
    ("swap", {"sample0_organ_sides.sample0_liver_side", "sample0_organ_sides.sample0_spleen_side"}),
])
def test_each_kind_of_broken_pair_fails(model: LiteMedSamModel, abdomen: dict[str, Path], tmp_path: Path,
                                        kind: str, failing: set[str]) -> None:
    verdict = _grade(model, abdomen["image"], _broken(tmp_path, abdomen["reference"], kind))
    assert verdict.status is Status.FAILED and verdict.exit_code == 1
    assert failing <= set(verdict.failed_checks), verdict.failed_checks


@needs_litemedsam
def test_a_synthesis_run_maps_its_ordinals_back_to_names(model: LiteMedSamModel, shared_data: Path,
                                                         tmp_path: Path) -> None:
    run_dir = build_ct_synthesis_run(tmp_path / "run", shared_data, skill="nv-generate-ct-from-mask")
    verdict = grade_ct_pair_consistency(PairConsistencyRequest(run_dir=run_dir, anatomies=ORGANS,
                                                               slices_per_organ=1), model=model)
    assert verdict.status is Status.PASSED, verdict.failed_checks
    organs = {organ.anatomy: organ.label_ids for organ in verdict.pair_consistency.samples[0].organs}
    assert organs == {"liver": [1], "spleen": [2]}  # output ordinals of run_builders.CT_ANATOMY


def test_label_on_another_grid_exits_2_before_any_model_runs(abdomen: dict[str, Path], tmp_path: Path,
                                                            shared_data: Path) -> None:
    other = shared_data / "ct_dicom_series_reference_totalsegmentator.nii.gz"
    result = runner.invoke(app, ["verify", "ct-pair-consistency", "--image", str(abdomen["image"]), "--label",
                                 str(other), "--label-space", "totalsegmentator"])
    assert result.exit_code == 2 and "is not on the grid of" in json.loads(result.stdout)["error"]


def test_an_image_without_hounsfield_units_exits_2(abdomen: dict[str, Path], tmp_path: Path) -> None:
    ct, affine = load_nifti(abdomen["image"])
    mr_like = save_nifti(tmp_path / "mr.nii.gz", np.clip(ct, 0, None).astype(np.float32), affine)
    result = runner.invoke(app, ["verify", "ct-pair-consistency", "--image", str(mr_like), "--label",
                                 str(abdomen["reference"]), "--label-space", "totalsegmentator"])
    assert result.exit_code == 2 and "not CT in HU" in json.loads(result.stdout)["error"]


def test_bad_requests_exit_2_naming_the_fix(abdomen: dict[str, Path], tmp_path: Path) -> None:
    missing_space = runner.invoke(app, ["verify", "ct-pair-consistency", "--image", str(abdomen["image"]),
                                        "--label", str(abdomen["reference"])])
    assert missing_space.exit_code == 2 and "--label-space" in json.loads(missing_space.stdout)["error"]
    both = runner.invoke(app, ["verify", "ct-pair-consistency", str(tmp_path), "--image", str(abdomen["image"])])
    assert both.exit_code == 2 and "not both" in json.loads(both.stdout)["error"]
    organ = runner.invoke(app, ["verify", "ct-pair-consistency", "--image", str(abdomen["image"]), "--label",
                                str(abdomen["reference"]), "--label-space", "totalsegmentator", "--organ", "livr"])
    assert organ.exit_code == 2 and "choose from liver" in json.loads(organ.stdout)["error"]


@needs_litemedsam
def test_the_command_and_the_shim_exit_0_on_a_correct_pair_and_1_on_a_flipped_one(
        abdomen: dict[str, Path], shared_data: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    verdict_path = tmp_path / "verdict.json"
    narrow = ["--organ", "liver", "--slices-per-organ", "1"]
    passed = runner.invoke(app, ["verify", "ct-pair-consistency", "--image", str(abdomen["image"]), "--label",
                                 str(abdomen["reference"]), "--label-space", "totalsegmentator", *narrow,
                                 "--json", str(verdict_path)])
    assert passed.exit_code == 0, passed.stdout
    assert json.loads(verdict_path.read_text())["pair_consistency"]["samples"][0]["organs"][0]["anatomy"] == "liver"
    flipped = runner.invoke(app, ["verify", "ct-pair-consistency", "--image", str(abdomen["image"]), "--label",
                                  str(_broken(tmp_path, abdomen["reference"], "flip")), "--label-space",
                                  "totalsegmentator", *narrow])
    assert flipped.exit_code == 1 and json.loads(flipped.stdout)["status"] == "failed"
    run_dir = build_ct_synthesis_run(tmp_path / "run", shared_data)
    shim = Path(__file__).resolve().parents[3] / "verifiers" / "ct_pair_consistency_v1" / "scripts" / "grade.py"
    done = subprocess.run([sys.executable, str(shim), str(run_dir), *narrow], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["verifier"] == "ct_pair_consistency_v1"
