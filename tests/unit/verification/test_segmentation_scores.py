"""Per-structure Dice, IoU, volumes and HD95 of small predicted maps against references, within and across spaces."""

from __future__ import annotations

import numpy as np
import pytest

from medskills.core.errors import ExitCode, InputError, UsageError
from medskills.core.label_spaces import LabelSpace, load_label_dictionary
from medskills.verification.metrics import hd95_mm
from medskills.verification.segmentation_scores import score_segmentation
from medskills.verification.verdict import ClassScore, SegmentationScores

# TotalSegmentator ids
SPLEEN, KIDNEY_RIGHT, KIDNEY_LEFT, LIVER = 1, 2, 3, 5
UNIT_SPACING = (1.0, 1.0, 1.0)


def _score(prediction: np.ndarray, reference: np.ndarray, *, spacing_mm: tuple[float, float, float] = UNIT_SPACING,
           prediction_space: LabelSpace | str = LabelSpace.TOTALSEGMENTATOR,
           reference_space: LabelSpace | str = LabelSpace.TOTALSEGMENTATOR,
           dice_floors: dict[str, float] | None = None) -> SegmentationScores:
    return score_segmentation(prediction, reference, prediction_space=prediction_space,
                              reference_space=reference_space, spacing_mm=spacing_mm, dice_floors=dice_floors)


def _by_name(scores: SegmentationScores) -> dict[str, ClassScore]:
    return {item.name: item for item in scores.classes}


def _two_organs() -> np.ndarray:
    labels = np.zeros((12, 12, 12), dtype=np.uint8)
    labels[1:5, 1:5, 1:5] = LIVER
    labels[7:10, 7:10, 7:10] = SPLEEN
    return labels


def test_score_segmentation_gives_perfect_scores_when_prediction_equals_reference() -> None:
    labels = _two_organs()
    scores = _score(labels, labels.copy())
    assert (scores.prediction_space, scores.reference_space) == ("totalsegmentator", "totalsegmentator")
    assert [item.name for item in scores.classes] == ["liver", "spleen"]
    for item in scores.classes:
        assert (item.dice, item.iou, item.hd95_mm, item.volume_difference_ml) == (1.0, 1.0, 0.0, 0.0)
        assert item.prediction_ids == item.reference_ids
    assert scores.merged == [] and scores.without_counterpart == []


def test_score_segmentation_gives_dice_iou_and_hd95_of_a_shifted_structure() -> None:
    reference, prediction = np.zeros((12, 8, 8), dtype=np.uint8), np.zeros((12, 8, 8), dtype=np.uint8)
    reference[2:6, 2:6, 2:6] = LIVER
    prediction[4:8, 2:6, 2:6] = LIVER  # half of the cube overlaps, shifted 2 voxels of 2.5 mm
    [liver] = _score(prediction, reference, spacing_mm=(2.5, 1.0, 1.0)).classes
    assert (liver.dice, liver.iou) == (0.5, 0.333333)
    assert liver.hd95_mm == 5.0
    assert liver.prediction_volume_ml == liver.reference_volume_ml == pytest.approx(64 * 2.5 / 1000)


def test_score_segmentation_measures_hd95_over_both_structures_when_they_lie_far_apart() -> None:
    reference, prediction = np.zeros((30, 8, 8), dtype=np.uint8), np.zeros((30, 8, 8), dtype=np.uint8)
    reference[1:4, 2:5, 2:5] = LIVER
    prediction[24:28, 2:6, 2:6] = LIVER
    [liver] = _score(prediction, reference).classes
    assert (liver.dice, liver.iou) == (0.0, 0.0)
    assert liver.hd95_mm == round(hd95_mm(prediction == LIVER, reference == LIVER, UNIT_SPACING), 4)
    assert liver.hd95_mm > 20.0


def test_score_segmentation_gives_signed_volume_differences_in_ml_from_the_spacing() -> None:
    reference = _two_organs()
    prediction = reference.copy()
    prediction[0, 0, 0:4] = LIVER  # 4 voxels more liver
    prediction[7, 7:10, 7:10] = 0  # 9 voxels less spleen
    by_name = _by_name(_score(prediction, reference, spacing_mm=(2.0, 2.0, 2.5)))
    assert by_name["liver"].reference_volume_ml == pytest.approx(64 * 10 / 1000)
    assert by_name["liver"].volume_difference_ml == pytest.approx(4 * 10 / 1000)
    assert by_name["spleen"].prediction_volume_ml == pytest.approx(18 * 10 / 1000)
    assert by_name["spleen"].volume_difference_ml == pytest.approx(-9 * 10 / 1000)


def test_score_segmentation_gives_zero_dice_and_no_hd95_when_a_structure_is_only_predicted() -> None:
    reference = np.zeros((8, 8, 8), dtype=np.uint8)
    reference[1:3, 1:3, 1:3] = LIVER
    prediction = reference.copy()
    prediction[5:7, 5:7, 5:7] = SPLEEN
    spleen = _by_name(_score(prediction, reference))["spleen"]
    assert (spleen.dice, spleen.iou, spleen.hd95_mm) == (0.0, 0.0, None)
    assert (spleen.prediction_ids, spleen.reference_ids) == ([SPLEEN], [])
    assert (spleen.reference_volume_ml, spleen.volume_difference_ml) == (0.0, 0.008)


def test_score_segmentation_gives_zero_dice_and_no_hd95_when_a_structure_is_missed() -> None:
    reference = _two_organs()
    prediction = np.where(reference == SPLEEN, 0, reference)
    spleen = _by_name(_score(prediction, reference))["spleen"]
    assert (spleen.dice, spleen.iou, spleen.hd95_mm, spleen.prediction_volume_ml) == (0.0, 0.0, None, 0.0)
    assert (spleen.prediction_ids, spleen.reference_ids) == ([], [SPLEEN])


def test_score_segmentation_has_no_classes_when_both_maps_are_background() -> None:
    empty = np.zeros((4, 4, 4), dtype=np.uint8)
    assert _score(empty, empty.copy()).classes == []


def test_score_segmentation_attaches_dice_floors_by_case_insensitive_structure_name() -> None:
    labels = _two_organs()
    scores = _score(labels, labels.copy(), dice_floors={"LIVER": 0.9, "brain": 0.5})
    by_name = _by_name(scores)
    assert by_name["liver"].dice_floor == 0.9
    assert by_name["spleen"].dice_floor is None
    assert "brain" not in by_name
    assert scores.unmatched_dice_floors == ["brain"]


@pytest.mark.parametrize("prediction_space", ["totalsegmentator", "maisi"])
@pytest.mark.parametrize("floor_name", ["left kidney", "kidney_left", "Left Kidney"])
def test_score_segmentation_attaches_a_dice_floor_by_anatomy_or_class_name_whichever_spaces_are_compared(
        prediction_space: str, floor_name: str) -> None:
    reference = np.zeros((8, 8, 8), dtype=np.uint8)
    reference[1:4, 1:4, 1:4] = KIDNEY_LEFT
    prediction = reference.copy()
    if prediction_space == "maisi":
        prediction[reference == KIDNEY_LEFT] = load_label_dictionary(LabelSpace.MAISI).id_of("left kidney")
    scores = _score(prediction, reference, prediction_space=prediction_space, dice_floors={floor_name: 0.9})
    [kidney] = scores.classes
    assert kidney.dice_floor == 0.9
    assert scores.unmatched_dice_floors == []


def test_score_segmentation_keeps_the_strictest_floor_when_two_names_of_one_structure_are_given() -> None:
    labels = _two_organs()
    scores = _score(labels, labels.copy(), dice_floors={"liver": 0.8, "LIVER": 0.95})
    assert _by_name(scores)["liver"].dice_floor == 0.95


def test_score_segmentation_refuses_an_unknown_label_space_with_every_choice() -> None:
    labels = _two_organs()
    with pytest.raises(UsageError, match="prediction label space 'bogus' is not one of .*totalsegmentator") as caught:
        _score(labels, labels.copy(), prediction_space="bogus")
    assert caught.value.exit_code == ExitCode.USAGE


def test_score_segmentation_pairs_classes_across_label_spaces_by_anatomy() -> None:
    reference = _two_organs()
    maisi = load_label_dictionary(LabelSpace.MAISI)
    prediction = np.zeros_like(reference)
    prediction[reference == LIVER] = maisi.id_of("liver")
    prediction[reference == SPLEEN] = maisi.id_of("spleen")
    scores = _score(prediction, reference, prediction_space="maisi", reference_space="totalsegmentator")
    assert (scores.prediction_space, scores.reference_space) == ("maisi", "totalsegmentator")
    liver = _by_name(scores)["liver"]
    assert (liver.prediction_ids, liver.reference_ids, liver.dice) == ([maisi.id_of("liver")], [LIVER], 1.0)
    assert all(item.dice == 1.0 for item in scores.classes)


def test_score_segmentation_merges_and_reports_the_parts_of_a_coarse_class_on_the_other_side() -> None:
    reference = np.zeros((8, 8, 8), dtype=np.uint8)
    reference[1:4, 1:4, 1:4] = KIDNEY_RIGHT
    reference[5:7, 5:7, 5:7] = KIDNEY_LEFT
    vista3d_kidney = load_label_dictionary(LabelSpace.VISTA3D).id_of("kidney")
    prediction = np.where(reference > 0, vista3d_kidney, 0).astype(np.uint8)
    scores = _score(prediction, reference, prediction_space="vista3d")
    [kidney] = scores.classes
    assert (kidney.name, kidney.prediction_ids, kidney.reference_ids) == (
        "kidney", [vista3d_kidney], [KIDNEY_RIGHT, KIDNEY_LEFT])
    assert kidney.dice == 1.0 and kidney.reference_volume_ml == pytest.approx(35 / 1000)
    [merge] = scores.merged
    assert (merge.into, merge.prediction_classes, sorted(merge.reference_classes)) == (
        "kidney", ["kidney"], ["kidney_left", "kidney_right"])


def test_score_segmentation_lists_a_class_the_other_space_cannot_express_without_scoring_it() -> None:
    reference = _two_organs()
    costal_cartilages = load_label_dictionary(LabelSpace.TOTALSEGMENTATOR).id_of("costal_cartilages")
    reference[10:12, 0:2, 0:2] = costal_cartilages
    mr = load_label_dictionary(LabelSpace.TOTALSEGMENTATOR_MR)
    prediction = np.where(reference == LIVER, mr.id_of("liver"), 0).astype(np.uint8)
    scores = _score(prediction, reference, prediction_space="totalsegmentator_mr")
    [unpaired] = scores.without_counterpart
    assert (unpaired.side, unpaired.label_id, unpaired.name, unpaired.voxel_count) == (
        "reference", costal_cartilages, "costal_cartilages", 8)
    assert set(_by_name(scores)) == {"liver", "spleen"}


def test_score_segmentation_scores_integral_float_labels_like_integer_labels() -> None:
    reference = _two_organs()
    prediction = reference.copy()
    prediction[1, 1:5, 1:5] = 0
    assert _score(prediction.astype(np.float32), reference) == _score(prediction, reference)


def test_score_segmentation_refuses_non_integral_labels() -> None:
    reference = _two_organs()
    with pytest.raises(InputError, match="prediction: label values are not integral"):
        _score(reference.astype(np.float32) + 0.5, reference)


def test_score_segmentation_refuses_maps_of_different_shapes() -> None:
    reference = _two_organs()
    with pytest.raises(InputError, match=r"prediction shape \(12, 12, 11\) differs from reference shape"):
        _score(reference[:, :, :11], reference)
