"""ct_segmentation_quality_v1 on the real TotalSegmentator reference of ct_abdomen_3mm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from medskills.core.errors import InputError
from medskills.core.label_spaces import map_labels
from medskills.core.models import Status
from medskills.verification import SegmentationVerifyRequest, Verdict, grade_segmentation
from unit.verification.run_builders import build_segmentation_run, save_nifti


def _check(verdict: Verdict, tier_name: str, check_name: str) -> Status:
    tier = next(t for t in verdict.tiers if t.name == tier_name)
    return next(c for c in tier.checks if c.name == check_name).status


def _grade_mask(tmp_path: Path, abdomen: dict[str, Path], mask: np.ndarray, affine: np.ndarray,
                **options: object) -> Verdict:
    path = save_nifti(tmp_path / "mask.nii.gz", mask, affine)
    return grade_segmentation(SegmentationVerifyRequest(prediction=path, image=abdomen["image"], **options))


def test_reference_against_itself_gives_dice_one_everywhere(abdomen: dict[str, Path]) -> None:
    verdict = grade_segmentation(SegmentationVerifyRequest(
        prediction=abdomen["reference"], prediction_labels="totalsegmentator", image=abdomen["image"],
        ground_truth=abdomen["reference"]))
    assert verdict.status is Status.PASSED and verdict.exit_code == 0
    assert verdict.scores is not None and len(verdict.scores.classes) == 41
    assert all(item.dice == 1.0 and item.iou == 1.0 and item.hd95_mm == 0.0 for item in verdict.scores.classes)
    assert {f.role for f in verdict.files_read} == {"prediction", "image", "ground_truth"}


def test_eroded_reference_scores_below_one_matching_an_independent_dice(
    tmp_path: Path, abdomen: dict[str, Path], reference_map: tuple[np.ndarray, np.ndarray],
) -> None:
    reference, affine = reference_map
    eroded = reference.copy()
    for label_id in np.unique(reference)[1:]:
        mask = reference == label_id
        eroded[mask & ~ndimage.binary_erosion(mask)] = 0
    verdict = _grade_mask(tmp_path, abdomen, eroded, affine, prediction_labels="totalsegmentator",
                          ground_truth=abdomen["reference"])
    assert verdict.scores is not None
    for item in verdict.scores.classes:
        p, r = eroded == item.reference_ids[0], reference == item.reference_ids[0]  # same space, same ids
        independent = 2 * np.logical_and(p, r).sum() / (p.sum() + r.sum())
        assert item.dice is not None and item.dice < 1.0
        assert item.dice == pytest.approx(independent, abs=1e-6)
        assert item.volume_difference_ml < 0


def test_maisi_mask_against_totalsegmentator_reference_across_label_spaces(
    tmp_path: Path, abdomen: dict[str, Path], reference_map: tuple[np.ndarray, np.ndarray],
) -> None:
    reference, affine = reference_map
    maisi = map_labels(reference, source="totalsegmentator", target="maisi").labels
    verdict = _grade_mask(tmp_path, abdomen, maisi, affine, prediction_labels="maisi",
                          ground_truth=abdomen["reference"], reference_labels="totalsegmentator")
    assert verdict.status is Status.PASSED
    assert verdict.scores is not None
    assert all(item.dice == 1.0 for item in verdict.scores.classes)
    by_name = {item.name: item for item in verdict.scores.classes}
    assert by_name["left kidney"].prediction_ids == [14] and by_name["left kidney"].reference_ids == [3]
    assert verdict.scores.without_counterpart == []  # every class of this reference has a MAISI class


def test_coarser_prediction_space_lists_classes_without_counterpart(
    tmp_path: Path, abdomen: dict[str, Path], reference_map: tuple[np.ndarray, np.ndarray],
) -> None:
    reference, affine = reference_map
    whole_lungs = map_labels(reference, source="totalsegmentator", target="totalsegmentator_mr").labels
    verdict = _grade_mask(tmp_path, abdomen, whole_lungs, affine, prediction_labels="totalsegmentator_mr",
                          modality="CT_BODY", ground_truth=abdomen["reference"], reference_labels="totalsegmentator")
    assert verdict.scores is not None
    assert all(item.dice == 1.0 for item in verdict.scores.classes)
    missing = {item.name for item in verdict.scores.without_counterpart}
    assert "costal_cartilages" in missing and "rib_right_12" in missing
    assert any(merge.into == "left lung" for merge in verdict.scores.merged)


def test_liver_of_50_ml_fails_the_volume_range(
    tmp_path: Path, abdomen: dict[str, Path], reference_map: tuple[np.ndarray, np.ndarray],
) -> None:
    reference, affine = reference_map
    mask = reference.copy()
    mask[mask == 5] = 0
    grid = np.indices(mask.shape)
    ball = ((grid[0] - 70) ** 2 + (grid[1] - 50) ** 2 + (grid[2] - 15) ** 2) <= 7.6 ** 2
    mask[ball] = 5  # a 50 mL ball well inside the volume (not cut by the field of view)
    verdict = _grade_mask(tmp_path, abdomen, mask, affine, prediction_labels="totalsegmentator")
    tier = next(t for t in verdict.tiers if t.name == "organ_volumes")
    liver = next(c for c in tier.checks if c.name == "volume_liver")
    assert liver.status is Status.FAILED and 40 < float(liver.measured) < 60  # type: ignore[arg-type]
    assert verdict.exit_code == 1


def test_liver_cut_by_the_field_of_view_only_needs_the_upper_bound(
    tmp_path: Path, abdomen: dict[str, Path], reference_map: tuple[np.ndarray, np.ndarray],
) -> None:
    reference, affine = reference_map
    mask = reference.copy()
    mask[:, :, 3:][mask[:, :, 3:] == 5] = 0  # a small liver slab touching the first slice
    verdict = _grade_mask(tmp_path, abdomen, mask, affine, prediction_labels="totalsegmentator")
    assert _check(verdict, "organ_volumes", "volume_liver") is Status.PASSED


def test_liver_split_into_many_components_fails_fragmentation(
    tmp_path: Path, abdomen: dict[str, Path], reference_map: tuple[np.ndarray, np.ndarray],
) -> None:
    reference, affine = reference_map
    mask = reference.copy()
    liver = mask == 5
    cuts = np.zeros_like(liver)
    cuts[::4] = True
    cuts[:, ::4] = True
    mask[liver & cuts] = 0
    verdict = _grade_mask(tmp_path, abdomen, mask, affine, prediction_labels="totalsegmentator")
    assert _check(verdict, "fragmentation", "fragmentation_liver") is Status.FAILED
    assert _check(verdict, "fragmentation", "fragmentation_spleen") is Status.PASSED


def test_id_outside_the_dictionary_fails(
    tmp_path: Path, abdomen: dict[str, Path], reference_map: tuple[np.ndarray, np.ndarray],
) -> None:
    reference, affine = reference_map
    mask = reference.copy()
    mask[0:3, 0:3, 0:3] = 250
    verdict = _grade_mask(tmp_path, abdomen, mask, affine, prediction_labels="totalsegmentator")
    assert _check(verdict, "label_set", "ids_in_dictionary") is Status.FAILED


def test_geometry_mismatch_with_the_image_fails(
    tmp_path: Path, abdomen: dict[str, Path], reference_map: tuple[np.ndarray, np.ndarray],
) -> None:
    reference, affine = reference_map
    moved = affine.copy()
    moved[0, 3] += 6.0
    verdict = _grade_mask(tmp_path, abdomen, reference, moved, prediction_labels="totalsegmentator")
    assert _check(verdict, "geometry", "image_geometry_match") is Status.FAILED


def test_reference_on_another_grid_fails_instead_of_scoring(
    tmp_path: Path, abdomen: dict[str, Path], reference_map: tuple[np.ndarray, np.ndarray],
) -> None:
    reference, affine = reference_map
    truth = save_nifti(tmp_path / "truth.nii.gz", reference[:, :, :20], affine)
    verdict = _grade_mask(tmp_path, abdomen, reference, affine, prediction_labels="totalsegmentator",
                          ground_truth=truth)
    assert _check(verdict, "ground_truth", "reference_grid_matches") is Status.FAILED
    assert verdict.scores is None


def test_dice_floor_fires_below_the_floor_and_for_absent_structures(
    tmp_path: Path, abdomen: dict[str, Path], reference_map: tuple[np.ndarray, np.ndarray],
) -> None:
    reference, affine = reference_map
    eroded = reference.copy()
    liver = reference == 5
    eroded[liver & ~ndimage.binary_erosion(liver)] = 0
    verdict = _grade_mask(tmp_path, abdomen, eroded, affine, prediction_labels="totalsegmentator",
                          ground_truth=abdomen["reference"], dice_floors={"liver": 0.95, "spleen": 0.95, "brain": 0.5})
    assert _check(verdict, "ground_truth", "dice_liver") is Status.FAILED
    assert _check(verdict, "ground_truth", "dice_spleen") is Status.PASSED
    assert _check(verdict, "ground_truth", "dice_brain") is Status.FAILED


def test_dice_floor_by_anatomy_name_holds_for_a_structure_named_by_its_class_in_one_label_space(
    abdomen: dict[str, Path],
) -> None:
    verdict = grade_segmentation(SegmentationVerifyRequest(
        prediction=abdomen["reference"], prediction_labels="totalsegmentator", image=abdomen["image"],
        ground_truth=abdomen["reference"], dice_floors={"left kidney": 0.9}))
    assert _check(verdict, "ground_truth", "dice_kidney_left") is Status.PASSED
    assert verdict.status is Status.PASSED


def test_run_directory_is_graded_and_claims_are_cross_checked(
    tmp_path: Path, abdomen: dict[str, Path], reference_map: tuple[np.ndarray, np.ndarray],
) -> None:
    reference, affine = reference_map
    vista = map_labels(reference, source="totalsegmentator", target="vista3d").labels
    present = [int(i) for i in np.unique(vista) if i]
    honest = build_segmentation_run(tmp_path / "honest", abdomen["image"], vista, affine, claimed_ids=present)
    verdict = grade_segmentation(SegmentationVerifyRequest(run_dir=honest))
    assert verdict.status is Status.PASSED, verdict.failed_checks
    assert _check(verdict, "geometry", "recorded_hashes_match") is Status.PASSED
    lying = build_segmentation_run(tmp_path / "lying", abdomen["image"], vista, affine, claimed_ids=present[:-1])
    verdict = grade_segmentation(SegmentationVerifyRequest(run_dir=lying))
    assert _check(verdict, "label_set", "claimed_ids_match_recomputed") is Status.FAILED


def test_mask_changed_after_the_run_fails_the_recorded_hash(
    tmp_path: Path, abdomen: dict[str, Path], reference_map: tuple[np.ndarray, np.ndarray],
) -> None:
    reference, affine = reference_map
    vista = map_labels(reference, source="totalsegmentator", target="vista3d").labels
    run_dir = build_segmentation_run(tmp_path / "run", abdomen["image"], vista, affine)
    save_nifti(run_dir / "image_seg.nii.gz", vista.astype(np.float32)[::-1].copy(), affine)
    verdict = grade_segmentation(SegmentationVerifyRequest(run_dir=run_dir))
    assert _check(verdict, "geometry", "recorded_hashes_match") is Status.FAILED


def test_prompted_run_with_extra_ids_fails_but_parent_prompts_expand(
    tmp_path: Path, abdomen: dict[str, Path], reference_map: tuple[np.ndarray, np.ndarray],
) -> None:
    reference, affine = reference_map
    kidneys = np.where(np.isin(reference, [2, 3]), reference, 0)
    vista = map_labels(kidneys, source="totalsegmentator", target="vista3d").labels
    expanded = build_segmentation_run(tmp_path / "a", abdomen["image"], vista, affine, label_prompts=[2])
    assert _check(grade_segmentation(SegmentationVerifyRequest(run_dir=expanded)),
                  "label_set", "ids_within_prompts") is Status.PASSED
    extra = build_segmentation_run(tmp_path / "b", abdomen["image"], vista, affine, label_prompts=[14])
    assert _check(grade_segmentation(SegmentationVerifyRequest(run_dir=extra)),
                  "label_set", "ids_within_prompts") is Status.FAILED


def test_a_run_prompted_with_bone_may_hold_every_vertebra_and_rib_the_bundle_expands_it_into(
    tmp_path: Path, abdomen: dict[str, Path], reference_map: tuple[np.ndarray, np.ndarray],
) -> None:
    from medskills.core.label_spaces import vista3d_subclasses

    reference, affine = reference_map
    bones = np.zeros_like(reference)
    parts = vista3d_subclasses()[21]
    bones[reference > 0] = parts[0]
    bones[reference == 5] = parts[-1]  # the liver's voxels stand for a rib: two distinct parts of 21
    run_dir = build_segmentation_run(tmp_path / "bone", abdomen["image"], bones, affine, label_prompts=[21])
    verdict = grade_segmentation(SegmentationVerifyRequest(run_dir=run_dir))
    assert _check(verdict, "label_set", "ids_within_prompts") is Status.PASSED


def test_a_failed_run_without_a_label_map_is_refused_as_having_nothing_to_grade(
    tmp_path: Path, abdomen: dict[str, Path], reference_map: tuple[np.ndarray, np.ndarray],
) -> None:
    import json

    reference, affine = reference_map
    run_dir = build_segmentation_run(tmp_path / "failed", abdomen["image"], reference, affine)
    record = json.loads((run_dir / "result.json").read_text())
    record.update(status="failed", exit_code=1, output={"mask_path": None, "label_space": "vista3d",
                                                        "bundle_output_path": str(run_dir / "never_written.nii.gz")})
    (run_dir / "result.json").write_text(json.dumps(record))
    with pytest.raises(InputError, match="the run ended 'failed' \\(exit 1\\) without writing a label map"):
        grade_segmentation(SegmentationVerifyRequest(run_dir=run_dir))


def test_mri_run_is_graded_with_the_mri_subset(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "mr_body_3mm"
    from unit.verification.run_builders import load_nifti

    reference, affine = load_nifti(folder / "reference_totalsegmentator_mr.nii.gz")
    vista = map_labels(reference, source="totalsegmentator_mr", target="vista3d").labels
    run_dir = build_segmentation_run(tmp_path / "mr", folder / "image.nii.gz", vista, affine, modality="MRI_BODY")
    verdict = grade_segmentation(SegmentationVerifyRequest(run_dir=run_dir))
    assert _check(verdict, "label_set", "ids_trained_for_mri") is Status.PASSED
    assert _check(verdict, "target", "modality_supported") is Status.PASSED
    vista[0:2, 0:2, 0:2] = 128  # bone lesion: trained on CT only
    ct_only = build_segmentation_run(tmp_path / "mr2", folder / "image.nii.gz", vista, affine, modality="MRI_BODY")
    verdict = grade_segmentation(SegmentationVerifyRequest(run_dir=ct_only))
    assert _check(verdict, "label_set", "ids_trained_for_mri") is Status.FAILED


def test_request_needs_exactly_one_source(abdomen: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        SegmentationVerifyRequest()
    with pytest.raises(ValueError, match="exactly one"):
        SegmentationVerifyRequest(run_dir=Path("x"), prediction=abdomen["reference"])


def test_missing_record_or_mask_is_unusable_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="result.json is missing"):
        grade_segmentation(SegmentationVerifyRequest(run_dir=tmp_path))
    with pytest.raises(InputError, match="does not exist"):
        grade_segmentation(SegmentationVerifyRequest(prediction=tmp_path / "none.nii.gz"))
