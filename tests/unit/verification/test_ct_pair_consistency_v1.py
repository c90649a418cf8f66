"""ct_pair_consistency_v1's grading: its request rules, every check and threshold, skipped labels, runs, the card note.

LiteMedSAM is replaced by :class:`BrightInBoxModel` (same contract, masks of what the image shows in
the box) so each Dice is known in advance; the real weights run in the integration test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from medskills.core.errors import ExitCode, InputError
from medskills.core.label_spaces import LabelSpace
from medskills.core.models import Status
from medskills.verification import ct_pair_consistency_v1
from medskills.verification.ct_pair_consistency_calibration import (
    ConsistencyCalibration, OrganCalibration, load_consistency_calibration,
)
from medskills.verification.ct_pair_consistency_measure import OrganLabel, Side
from medskills.verification.ct_pair_consistency_v1 import (
    PairConsistencyRequest, grade_ct_pair_consistency, organs_in_labels,
)
from medskills.verification.verdict import Verdict, VerdictCheck
from unit.verification.pair_consistency_support import (
    RAS_AFFINE, SHAPE, TS_AORTA, TS_LIVER, TS_PANCREAS, TS_SPLEEN, BrightInBoxModel, add_organ, body_phantom,
    bright_in_box_model,
)
from unit.verification.run_builders import artifact, save_nifti, write_record

# Voxel boxes on the RAS phantom grid (body centre i = 23.5): the liver's centre lies 20 mm to the
# patient's right of it, the spleen's 26 mm to the left; both on slices 2-5.
LIVER_BOX = (slice(30, 38), slice(18, 28), slice(2, 6))
SPLEEN_BOX = (slice(8, 14), slice(20, 26), slice(2, 6))
MAISI_LIVER, MAISI_SPLEEN = 1, 3


@pytest.fixture
def model(tmp_path: Path) -> BrightInBoxModel:
    return bright_in_box_model(tmp_path)


def _test_calibration(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> ConsistencyCalibration:
    """Grade with a calibration whose numbers the test chooses (the packaged one may be recalibrated)."""
    values: dict[str, Any] = {
        "source": "test table", "slices_per_organ": 3, "side_margin_mm": 1.0, "min_prompt_pixels": 16,
        "organs": [OrganCalibration(anatomy="liver", dice_threshold=0.9, side=Side.RIGHT),
                   OrganCalibration(anatomy="spleen", dice_threshold=0.8, side=Side.LEFT),
                   OrganCalibration(anatomy="aorta", dice_threshold=0.7),
                   OrganCalibration(anatomy="pancreas", dice_threshold=None, note="too weak to gate")]}
    calibration = ConsistencyCalibration(**{**values, **changes})
    monkeypatch.setattr(ct_pair_consistency_v1, "load_consistency_calibration", lambda: calibration)
    return calibration


def _abdomen(*organs: tuple[int, tuple[slice, slice, slice]]) -> tuple[np.ndarray, np.ndarray]:
    """The body phantom with each (label id, box) drawn in the labels and shown in the image."""
    image, labels = body_phantom(), np.zeros(SHAPE, dtype=np.uint8)
    for label_id, box in organs:
        add_organ(image, labels, label_id, box)
    return image, labels


def _pair(folder: Path, image: np.ndarray, labels: np.ndarray, *, affine: np.ndarray = RAS_AFFINE,
          label_affine: np.ndarray | None = None) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return (save_nifti(folder / "ct.nii.gz", image, affine),
            save_nifti(folder / "labels.nii.gz", labels, affine if label_affine is None else label_affine))


def _grade(pair: tuple[Path, Path], model: BrightInBoxModel, **options: Any) -> Verdict:
    request = PairConsistencyRequest(image=pair[0], label=pair[1], label_space=LabelSpace.TOTALSEGMENTATOR, **options)
    return grade_ct_pair_consistency(request, model=model)


def _checks(verdict: Verdict) -> dict[str, VerdictCheck]:
    return {item.name: item for tier in verdict.tiers for item in tier.checks}


def _write_run(run_dir: Path, samples: list[tuple[np.ndarray, np.ndarray]], *,
               mapping: list[dict[str, object]] | None, status: str = "passed") -> Path:
    """A CT synthesis run record as ``synth ct`` writes it (labels saved as float32 output ordinals)."""
    run_dir.mkdir(parents=True)
    entries, artifacts = [], []
    for index, (image, labels) in enumerate(samples):
        image_path = save_nifti(run_dir / f"sample{index}_image.nii.gz", image, RAS_AFFINE)
        label_path = save_nifti(run_dir / f"sample{index}_label.nii.gz", labels.astype(np.float32), RAS_AFFINE)
        entries.append({"image_path": image_path.name, "label_path": label_path.name})
        artifacts += [artifact("image", image_path), artifact("label", label_path)]
    output: dict[str, object] = {"samples": entries}
    if mapping is not None:
        output["output_label_mapping"] = mapping
    write_record(run_dir, {"skill": "nv-generate-ct-rflow", "status": status, "output": output,
                           "artifacts": artifacts})
    return run_dir


def _maisi_item(maisi_id: object, output_id: object) -> dict[str, object]:
    return {"anatomy": "?", "maisi_label_id": maisi_id, "output_label_id": output_id}


# --- the request -------------------------------------------------------------------------------------


def test_request_accepts_a_run_dir_alone_or_an_image_label_pair_with_its_space(tmp_path: Path) -> None:
    assert PairConsistencyRequest(run_dir=tmp_path).image is None
    pair = PairConsistencyRequest(image=tmp_path / "ct.nii.gz", label=tmp_path / "l.nii.gz",
                                  label_space="maisi")
    assert pair.label_space is LabelSpace.MAISI and pair.run_dir is None


@pytest.mark.parametrize(("fields", "message"), [
    ({"run_dir": "run", "label_space": "maisi"}, "not both"),
    ({"image": "ct.nii.gz", "label_space": "maisi"}, "without RUN_DIR, pass all of"),
    ({}, "without RUN_DIR, pass all of"),
], ids=["run-dir-and-space", "image-without-label", "nothing"])
def test_request_refuses_a_mixed_or_incomplete_source(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PairConsistencyRequest(**fields)


def test_request_refuses_uncalibrated_anatomies_naming_each_and_the_calibrated_ones(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no calibration for livr, kidney; choose from ") as raised:
        PairConsistencyRequest(run_dir=tmp_path, anatomies=["liver", "livr", "kidney"])
    choices = str(raised.value).split("choose from ")[1]
    assert all(item.anatomy in choices for item in load_consistency_calibration().organs)


def test_request_refuses_a_card_path_that_already_exists(tmp_path: Path) -> None:
    card = tmp_path / "card.html"
    card.write_text("earlier card")
    with pytest.raises(ValidationError, match="cards never overwrite a file"):
        PairConsistencyRequest(run_dir=tmp_path, card=card)


@pytest.mark.parametrize(("slices", "is_valid"), [(0, False), (1, True), (20, True), (21, False)])
def test_request_bounds_slices_per_organ_to_1_through_20(tmp_path: Path, slices: int, is_valid: bool) -> None:
    if is_valid:
        assert PairConsistencyRequest(run_dir=tmp_path, slices_per_organ=slices).slices_per_organ == slices
    else:
        with pytest.raises(ValidationError, match="slices_per_organ"):
            PairConsistencyRequest(run_dir=tmp_path, slices_per_organ=slices)


# --- organs_in_labels ------------------------------------------------------------------------------------


def test_organs_in_labels_gathers_every_id_naming_one_anatomy_whatever_its_case() -> None:
    labels = np.zeros((4, 4, 2), dtype=np.int32)
    labels[0, 0, 0], labels[1, 1, 1] = 9, 4
    organs, skipped = organs_in_labels(labels, {4: "Liver", 9: "LIVER"}, LabelSpace.MAISI,
                                       load_consistency_calibration())
    assert organs == [OrganLabel("liver", (4, 9))] and skipped == []


def test_organs_in_labels_ignores_background_and_named_ids_absent_from_the_map() -> None:
    labels = np.zeros((4, 4, 2), dtype=np.int32)
    labels[2, 2, 0] = TS_SPLEEN
    organs, skipped = organs_in_labels(labels, {TS_SPLEEN: "spleen", TS_LIVER: "liver"},
                                       LabelSpace.TOTALSEGMENTATOR, load_consistency_calibration())
    assert organs == [OrganLabel("spleen", (TS_SPLEEN,))] and skipped == []


# --- grading an image + label pair -------------------------------------------------------------------------


def test_grade_passes_a_pair_whose_image_shows_each_organ_where_its_label_draws_it(
        tmp_path: Path, model: BrightInBoxModel) -> None:
    calibration = load_consistency_calibration()
    pair = _pair(tmp_path, *_abdomen((TS_LIVER, LIVER_BOX), (TS_SPLEEN, SPLEEN_BOX)))
    verdict = _grade(pair, model)
    assert verdict.status is Status.PASSED and verdict.exit_code == ExitCode.OK
    assert [tier.name for tier in verdict.tiers] == ["sample0_image_label_agreement", "sample0_organ_sides"]
    checks = _checks(verdict)
    assert checks["sample0_liver_dice"].measured == 1.0
    assert checks["sample0_liver_dice"].threshold == calibration.organ("liver").dice_threshold
    assert checks["sample0_gated_organ_present"].measured == 2
    assert (checks["sample0_liver_side"].measured, checks["sample0_spleen_side"].measured) == (20.0, 26.0)
    assert [item.role for item in verdict.files_read] == ["sample0_image", "sample0_label", "litemedsam_weights"]
    scores = verdict.pair_consistency
    assert scores is not None and scores.weights_path == model.weights_path
    assert (scores.window_level_hu, scores.window_width_hu) == (40.0, 400.0)
    assert scores.slices_per_organ == calibration.slices_per_organ
    [sample] = scores.samples
    assert [len(organ.slices) for organ in sample.organs] == [calibration.slices_per_organ] * 2
    assert verdict.notes[0] == f"calibration: {calibration.source}"
    assert "organs swapped on the same side of the body are not detected" in verdict.notes[1]


def test_grade_fails_an_organs_dice_when_the_image_shows_nothing_in_its_label_box(
        tmp_path: Path, model: BrightInBoxModel) -> None:
    image, labels = _abdomen((TS_SPLEEN, SPLEEN_BOX))
    add_organ(image, labels, TS_LIVER, LIVER_BOX, is_shown=False)
    verdict = _grade(_pair(tmp_path, image, labels), model)
    assert verdict.status is Status.FAILED and verdict.exit_code == ExitCode.FAILED
    assert verdict.failed_checks == ["sample0_image_label_agreement.sample0_liver_dice"]
    assert _checks(verdict)["sample0_liver_dice"].measured == 0.0


@pytest.mark.parametrize(("hole", "dice", "status"), [
    ((slice(31, 36), slice(20, 24)), 0.9, Status.PASSED),  # 20 of 110 pixels: 2 * 90 / 200
    ((slice(30, 37), slice(20, 23)), 0.8945, Status.FAILED),  # 21 of 110 pixels: 2 * 89 / 199
], ids=["at-threshold", "just-below"])
def test_grade_dice_check_passes_at_its_threshold_and_fails_just_below(
        tmp_path: Path, model: BrightInBoxModel, monkeypatch: pytest.MonkeyPatch,
        hole: tuple[slice, slice], dice: float, status: Status) -> None:
    _test_calibration(monkeypatch)  # liver gated at 0.9
    image, labels = _abdomen((TS_LIVER, (slice(28, 38), slice(17, 28), slice(2, 6))))
    labels[(*hole, slice(2, 6))] = 0  # the label misses part of what the image shows
    check = _checks(_grade(_pair(tmp_path, image, labels), model))["sample0_liver_dice"]
    assert (check.measured, check.threshold, check.status) == (dice, 0.9, status)


@pytest.mark.parametrize(("stop", "offset_mm", "status"), [(29, 1.0, Status.FAILED), (30, 2.0, Status.PASSED)],
                         ids=["at-margin", "beyond-margin"])
def test_grade_side_check_needs_the_organ_strictly_beyond_the_margin_on_its_side(
        tmp_path: Path, model: BrightInBoxModel, monkeypatch: pytest.MonkeyPatch,
        stop: int, offset_mm: float, status: Status) -> None:
    _test_calibration(monkeypatch, side_margin_mm=1.0)
    pair = _pair(tmp_path, *_abdomen((TS_LIVER, (slice(20, stop), slice(18, 28), slice(2, 6)))))
    check = _checks(_grade(pair, model))["sample0_liver_side"]
    assert (check.measured, check.threshold, check.status) == (offset_mm, 1.0, status)


def test_grade_fails_an_organ_drawn_on_the_other_side_of_the_body(tmp_path: Path, model: BrightInBoxModel) -> None:
    left_liver = (slice(10, 18), slice(18, 28), slice(2, 6))  # LIVER_BOX mirrored about i = 23.5
    verdict = _grade(_pair(tmp_path, *_abdomen((TS_LIVER, left_liver))), model)
    assert verdict.failed_checks == ["sample0_organ_sides.sample0_liver_side"]
    assert _checks(verdict)["sample0_liver_side"].measured == -20.0


def test_grade_reports_an_ungated_organ_and_fails_a_sample_without_a_gated_one(
        tmp_path: Path, model: BrightInBoxModel, monkeypatch: pytest.MonkeyPatch) -> None:
    _test_calibration(monkeypatch)
    pair = _pair(tmp_path, *_abdomen((TS_PANCREAS, (slice(20, 28), slice(20, 26), slice(2, 6)))))
    verdict = _grade(pair, model)
    checks = _checks(verdict)
    assert checks["sample0_pancreas_dice"].status is Status.SKIPPED
    assert checks["sample0_pancreas_dice"].measured == 1.0
    assert checks["sample0_pancreas_dice"].reason.startswith("reported, not gated: too weak to gate (slices 2: 1.000")
    assert (checks["sample0_gated_organ_present"].status, checks["sample0_gated_organ_present"].measured) == (
        Status.FAILED, 0)
    assert verdict.status is Status.FAILED
    assert [tier.name for tier in verdict.tiers] == ["sample0_image_label_agreement"], "no side for the pancreas"


def test_grade_adds_no_side_tier_when_no_measured_organ_has_an_expected_side(
        tmp_path: Path, model: BrightInBoxModel, monkeypatch: pytest.MonkeyPatch) -> None:
    _test_calibration(monkeypatch)
    verdict = _grade(_pair(tmp_path, *_abdomen((TS_AORTA, (slice(26, 30), slice(12, 16), slice(0, 8))))), model)
    assert verdict.status is Status.PASSED
    assert [tier.name for tier in verdict.tiers] == ["sample0_image_label_agreement"]
    assert _checks(verdict)["sample0_gated_organ_present"].measured == 1


@pytest.mark.parametrize(("box", "is_measured"), [
    ((slice(30, 33), slice(20, 25), slice(3, 4)), False),  # 3 x 5 = 15 pixels
    ((slice(30, 34), slice(20, 24), slice(3, 4)), True),  # 4 x 4 = 16 pixels
], ids=["15-pixels", "16-pixels"])
def test_grade_prompts_an_organ_only_when_its_largest_slice_reaches_min_prompt_pixels(
        tmp_path: Path, model: BrightInBoxModel, monkeypatch: pytest.MonkeyPatch,
        box: tuple[slice, slice, slice], is_measured: bool) -> None:
    _test_calibration(monkeypatch, min_prompt_pixels=16)
    verdict = _grade(_pair(tmp_path, *_abdomen((TS_LIVER, box), (TS_SPLEEN, SPLEEN_BOX))), model)
    assert verdict.pair_consistency is not None
    [sample] = verdict.pair_consistency.samples
    assert ("liver" in [organ.anatomy for organ in sample.organs]) is is_measured
    assert ("liver: largest slice 15 pixels, below 16" in sample.not_checked) is not is_measured


def test_grade_measures_only_the_requested_anatomies_on_the_requested_number_of_slices(
        tmp_path: Path, model: BrightInBoxModel) -> None:
    pair = _pair(tmp_path, *_abdomen((TS_LIVER, LIVER_BOX), (TS_SPLEEN, SPLEEN_BOX)))
    verdict = _grade(pair, model, anatomies=["spleen"], slices_per_organ=1)
    assert verdict.pair_consistency is not None and verdict.pair_consistency.slices_per_organ == 1
    [sample] = verdict.pair_consistency.samples
    assert [(organ.anatomy, len(organ.slices)) for organ in sample.organs] == [("spleen", 1)]
    assert sample.not_checked == ["liver: not requested"] and len(sample.slices_encoded) == 1
    assert "sample0_liver_dice" not in _checks(verdict)


def test_grade_reports_slices_on_the_files_own_grid_when_its_axial_axis_is_stored_reversed(
        tmp_path: Path, model: BrightInBoxModel) -> None:
    upside_down = np.diag([2.0, 2.0, -2.0, 1.0])
    upside_down[2, 3] = 14.0
    file_slices = slice(5, 8)  # RAS slices 2, 1, 0
    image, labels = _abdomen((TS_LIVER, (*LIVER_BOX[:2], file_slices)), (TS_SPLEEN, (*SPLEEN_BOX[:2], file_slices)))
    verdict = _grade(_pair(tmp_path, image, labels, affine=upside_down), model)
    assert verdict.pair_consistency is not None
    [sample] = verdict.pair_consistency.samples
    assert sample.slices_encoded == [5, 6, 7]
    assert [[item.slice_index for item in organ.slices] for organ in sample.organs] == [[5, 6, 7], [5, 6, 7]]
    assert verdict.status is Status.PASSED


def test_grade_refuses_a_label_on_a_shifted_grid_before_loading_the_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import medskills.pretrained.litemedsam

    monkeypatch.setattr(medskills.pretrained.litemedsam, "load_litemedsam",
                        lambda: pytest.fail("the model was loaded for an unusable pair"))
    shifted = RAS_AFFINE.copy()
    shifted[0, 3] = 1.0
    image, labels = _abdomen((TS_LIVER, LIVER_BOX))
    image_path, label_path = _pair(tmp_path, image, labels, label_affine=shifted)
    request = PairConsistencyRequest(image=image_path, label=label_path, label_space="totalsegmentator")
    with pytest.raises(InputError, match="is not on the grid of .*affine difference 1\\)") as raised:
        grade_ct_pair_consistency(request)
    assert raised.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize(("low", "high", "is_ct"), [
    (-500.0, 1000.0, False), (-1000.0, 200.0, False), (-500.5, 200.5, True),
], ids=["no-air-below-minus-500", "no-bone-above-200", "just-inside-both-limits"])
def test_grade_takes_only_an_image_holding_air_below_minus_500_and_bone_above_200_hu(
        tmp_path: Path, model: BrightInBoxModel, low: float, high: float, is_ct: bool) -> None:
    image, labels = _abdomen((TS_LIVER, LIVER_BOX))
    pair = _pair(tmp_path, np.clip(image, low, high), labels)
    if is_ct:
        assert _grade(pair, model).status is Status.PASSED
    else:
        with pytest.raises(InputError, match=f"holds {low:g} to {high:g}: not CT in HU"):
            _grade(pair, model)


# --- grading a synthesis run ---------------------------------------------------------------------------------


def test_grade_of_a_run_names_output_ids_through_the_records_label_mapping(
        tmp_path: Path, model: BrightInBoxModel) -> None:
    image, labels = _abdomen((2, LIVER_BOX), (1, SPLEEN_BOX))  # output ordinals: spleen 1, liver 2
    run_dir = _write_run(tmp_path / "run", [(image, labels)],
                         mapping=[_maisi_item(MAISI_SPLEEN, 1), _maisi_item(MAISI_LIVER, 2)])
    verdict = grade_ct_pair_consistency(PairConsistencyRequest(run_dir=run_dir), model=model)
    assert verdict.status is Status.PASSED
    assert (verdict.run_dir, verdict.target_skill) == (run_dir, "nv-generate-ct-rflow")
    assert verdict.tiers[0].name == "target" and verdict.files_read[0].role == "record"
    assert verdict.pair_consistency is not None
    organs = {organ.anatomy: organ.label_ids for organ in verdict.pair_consistency.samples[0].organs}
    assert organs == {"liver": [2], "spleen": [1]}


def test_grade_of_a_run_without_a_label_mapping_reads_maisi_ids(tmp_path: Path, model: BrightInBoxModel) -> None:
    image, labels = _abdomen((MAISI_LIVER, LIVER_BOX), (MAISI_SPLEEN, SPLEEN_BOX))
    run_dir = _write_run(tmp_path / "run", [(image, labels)], mapping=None)
    verdict = grade_ct_pair_consistency(PairConsistencyRequest(run_dir=run_dir), model=model)
    assert verdict.pair_consistency is not None
    organs = {organ.anatomy: organ.label_ids for organ in verdict.pair_consistency.samples[0].organs}
    assert organs == {"liver": [MAISI_LIVER], "spleen": [MAISI_SPLEEN]}


def test_grade_of_a_run_leaves_output_ids_of_malformed_mapping_items_unnamed(
        tmp_path: Path, model: BrightInBoxModel) -> None:
    image, labels = _abdomen((1, LIVER_BOX), (2, SPLEEN_BOX), (3, (slice(20, 26), slice(28, 32), slice(2, 6))))
    mapping = [_maisi_item(MAISI_LIVER, 1), _maisi_item(str(MAISI_SPLEEN), 2), _maisi_item(999, 3)]
    run_dir = _write_run(tmp_path / "run", [(image, labels)], mapping=mapping)
    verdict = grade_ct_pair_consistency(PairConsistencyRequest(run_dir=run_dir), model=model)
    assert verdict.pair_consistency is not None
    [sample] = verdict.pair_consistency.samples
    assert [organ.anatomy for organ in sample.organs] == ["liver"]
    assert sample.not_checked == ["unnamed (id 2): not in the label space", "unnamed (id 3): not in the label space"]


def test_grade_of_a_run_fails_when_the_run_failed_its_own_gates_even_if_the_pair_agrees(
        tmp_path: Path, model: BrightInBoxModel) -> None:
    image, labels = _abdomen((MAISI_LIVER, LIVER_BOX))
    run_dir = _write_run(tmp_path / "run", [(image, labels)], mapping=None, status="failed")
    verdict = grade_ct_pair_consistency(PairConsistencyRequest(run_dir=run_dir), model=model)
    assert verdict.failed_checks == ["target.run_succeeded"]


def test_grade_reads_every_pair_before_it_loads_the_model_and_reports_each_step(
        tmp_path: Path, model: BrightInBoxModel, monkeypatch: pytest.MonkeyPatch) -> None:
    import medskills.pretrained.litemedsam

    events: list[object] = []

    def load() -> BrightInBoxModel:
        events.append("model loaded")
        return model

    monkeypatch.setattr(medskills.pretrained.litemedsam, "load_litemedsam", load)
    sample = _abdomen((MAISI_LIVER, LIVER_BOX))
    run_dir = _write_run(tmp_path / "run", [sample, sample], mapping=None)
    verdict = grade_ct_pair_consistency(PairConsistencyRequest(run_dir=run_dir),
                                        on_progress=lambda done, total: events.append((done, total)))
    assert events == [(1, 5), (2, 5), "model loaded", (3, 5), (4, 5), (5, 5)]
    assert verdict.pair_consistency is not None and [s.sample for s in verdict.pair_consistency.samples] == [0, 1]
    assert [tier.name for tier in verdict.tiers] == ["target", "sample0_image_label_agreement", "sample0_organ_sides",
                                                     "sample1_image_label_agreement", "sample1_organ_sides"]


def test_grade_loads_no_model_when_a_later_pair_cannot_be_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import medskills.pretrained.litemedsam

    monkeypatch.setattr(medskills.pretrained.litemedsam, "load_litemedsam",
                        lambda: pytest.fail("the model was loaded before every pair was read"))
    sample = _abdomen((MAISI_LIVER, LIVER_BOX))
    run_dir = _write_run(tmp_path / "run", [sample, sample], mapping=None)
    (run_dir / "sample1_label.nii.gz").write_bytes(b"not a NIfTI file")
    progress: list[tuple[int, int]] = []
    with pytest.raises(InputError, match="sample1_label.nii.gz"):
        grade_ct_pair_consistency(PairConsistencyRequest(run_dir=run_dir),
                                  on_progress=lambda done, total: progress.append((done, total)))
    assert progress == [(1, 5)]


# --- the card ----------------------------------------------------------------------------------------------


def test_grade_writes_the_card_and_names_it_in_the_notes(tmp_path: Path, model: BrightInBoxModel) -> None:
    pair = _pair(tmp_path, *_abdomen((TS_LIVER, LIVER_BOX), (TS_SPLEEN, SPLEEN_BOX)))
    card = tmp_path / "card.html"
    verdict = _grade(pair, model, anatomies=["liver"], card=card)
    assert verdict.notes[-1] == f"card: {card}"
    html = card.read_text(encoding="utf-8")
    assert "sample 0: liver, slice 2 (Dice 1.000)" in html and html.count("data:image/png") == 1


def test_grade_notes_a_card_it_could_not_write_and_still_returns_the_verdict(
        tmp_path: Path, model: BrightInBoxModel) -> None:
    pair = _pair(tmp_path, *_abdomen((TS_LIVER, LIVER_BOX)))
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the card's folder should be")
    verdict = _grade(pair, model, anatomies=["liver"], card=blocker / "card.html")
    assert verdict.status is Status.PASSED
    assert verdict.notes[-1].startswith("card not written: ") and not (blocker / "card.html").exists()
