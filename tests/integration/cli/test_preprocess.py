"""`medskills preprocess brain` and `brain-revert` on the real T1 (../shared/data/mr_brain_t1)."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from typer.testing import CliRunner

from pretrained_support import needs_brain_extra

from medskills.cli import app
from medskills.core.models import Status
from medskills.segmentation.brain_preprocess import BrainPreprocessRecord, evaluate_gates
from medskills.segmentation.brain_preprocess.mask import ADULT_BRAIN_MASK_RANGE_ML

pytestmark = [pytest.mark.slow, needs_brain_extra]


def _invoke(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["preprocess", *args])
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture(scope="module")
def t1(shared_data: Path) -> Path:
    return shared_data / "mr_brain_t1" / "image.nii.gz"


@pytest.fixture(scope="module")
def first_run(t1: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict, Path]:
    output_dir = tmp_path_factory.mktemp("brain") / "out"
    code, record = _invoke("brain", str(t1), "--output-dir", str(output_dir))
    return code, record, output_dir


def test_run_passes_and_writes_every_output(first_run: tuple[int, dict, Path]) -> None:
    code, record, output_dir = first_run
    assert code == 0 and record["status"] == "passed", record.get("failure_reasons")
    on_disk = json.loads((output_dir / "result.json").read_text())
    assert on_disk == record
    for name in ("preprocessed.nii.gz", "brain_mask.nii.gz", "brain_mask_native.nii.gz", "preprocess_meta.json",
                 "template_to_input.tfm", "card.html"):
        assert (output_dir / name).is_file(), name
    assert {a["role"] for a in record["artifacts"]} == {"preprocessed", "brain_mask", "brain_mask_native",
                                                        "revert_metadata", "transform"}
    weights = record["provenance"]["weights"][0]
    assert weights["is_hash_match"] is True and weights["sha256"] == record["output"]["weights_sha256"]
    assert record["output"]["template"]["source_package"] == "nilearn"
    assert "Not for clinical use" in record["intended_use_disclaimer"]


def test_preprocessed_image_is_on_the_template_grid_in_unit_range(first_run: tuple[int, dict, Path]) -> None:
    _, record, output_dir = first_run
    image = nib.load(output_dir / "preprocessed.nii.gz")
    template = record["output"]["template"]
    assert list(image.shape) == template["shape"] and np.allclose(image.affine, template["affine"])
    data = np.asarray(image.dataobj)
    assert data.min() >= 0.0 and data.max() <= 1.0
    mask = np.asarray(nib.load(output_dir / "brain_mask.nii.gz").dataobj) > 0
    # skull stripped: beyond the partial-volume rim of the two linear resamplings only faint traces remain
    # (the input voxels are 1.28 template voxels along z, the 1 mm and template resamplings each spread one)
    from scipy import ndimage

    assert data[~ndimage.binary_dilation(mask, iterations=3)].max() < 0.05
    assert np.median(data[mask]) > 0.3


def test_brain_volume_is_adult_and_the_mask_is_one_component(
        first_run: tuple[int, dict, Path], t1: Path) -> None:
    _, record, output_dir = first_run
    mask = record["output"]["mask"]
    low, high = ADULT_BRAIN_MASK_RANGE_ML
    assert low <= mask["volume_ml"] <= high
    # deepbrain's own TensorFlow run gives 2,259,141 voxels (1,539.5 mL) on this scan
    assert mask["voxel_count"] == pytest.approx(2_259_141, rel=0.001)
    assert mask["main_component_fraction"] > 0.999
    native = nib.load(output_dir / "brain_mask_native.nii.gz")
    source = nib.load(t1)
    assert native.shape == source.shape and np.allclose(native.affine, source.affine)
    from scipy import ndimage

    assert ndimage.label(np.asarray(native.dataobj) > 0)[1] == 1
    assert {g["gate"]: g["status"] for g in record["gates"]} == {
        "brain_mask_volume_adult_range": "passed", "brain_mask_one_component": "passed"}


def test_gates_fail_on_a_child_sized_or_fragmented_mask(first_run: tuple[int, dict, Path]) -> None:
    output = BrainPreprocessRecord.model_validate(first_run[1]).output
    assert output is not None
    small = output.model_copy(update={"mask": output.mask.model_copy(update={"volume_ml": 400.0})})
    split = output.model_copy(update={"mask": output.mask.model_copy(update={"main_component_fraction": 0.8})})
    assert [g.status for g in evaluate_gates(small)] == [Status.FAILED, Status.PASSED]
    assert [g.status for g in evaluate_gates(split)] == [Status.PASSED, Status.FAILED]


def test_revert_round_trip_puts_the_mask_back_within_one_voxel(
        first_run: tuple[int, dict, Path], tmp_path: Path, t1: Path) -> None:
    from scipy import ndimage

    _, _, output_dir = first_run
    code, record = _invoke("brain-revert", str(output_dir / "brain_mask.nii.gz"), "--meta",
                           str(output_dir / "preprocess_meta.json"), "--output", str(tmp_path / "back.nii.gz"))
    assert code == 0 and record["output"]["label_ids"] == [0, 1]
    back, source = nib.load(tmp_path / "back.nii.gz"), nib.load(t1)
    assert back.shape == source.shape and np.allclose(back.affine, source.affine)
    reverted = np.asarray(back.dataobj) > 0
    native = np.asarray(nib.load(output_dir / "brain_mask_native.nii.gz").dataobj) > 0
    differing = reverted ^ native
    # one voxel = a face, edge or corner neighbour (two nearest-neighbour resamplings, 1 mm and 0.88 mm grids)
    neighbours = ndimage.generate_binary_structure(3, 3)
    near_boundary = ndimage.binary_dilation(native, neighbours) & ~ndimage.binary_erosion(native, neighbours)
    assert differing.sum() < 0.01 * native.sum()
    # every voxel that changed lies within one voxel of the original mask's boundary
    assert not (differing & ~near_boundary).any()


def test_a_second_run_is_identical(first_run: tuple[int, dict, Path], t1: Path, tmp_path: Path) -> None:
    _, record, output_dir = first_run
    code, again = _invoke("brain", str(t1), "--output-dir", str(tmp_path / "again"))
    assert code == 0
    assert again["output"]["transform"]["template_to_input_ras"] == record["output"]["transform"]["template_to_input_ras"]
    for name in ("preprocessed.nii.gz", "brain_mask.nii.gz", "brain_mask_native.nii.gz"):
        assert np.array_equal(np.asarray(nib.load(output_dir / name).dataobj),
                              np.asarray(nib.load(tmp_path / "again" / name).dataobj)), name


def test_preflight_reports_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("user file")
    code, record = _invoke("brain", str(tmp_path / "missing.nii.gz"), "--output-dir", str(busy))
    assert code == 2 and record["error_type"] == "PreflightError"
    assert any("missing.nii.gz does not exist" in p for p in record["problems"])
    assert any("is not empty" in p for p in record["problems"])
    assert sorted(p.name for p in busy.iterdir()) == ["keep.txt"]
