"""Organ volumes, field-of-view cuts and fragmentation measured on small label maps, and the checks on them."""

from __future__ import annotations

import numpy as np
import pytest

from medskills.core.label_spaces import LabelSpace
from medskills.core.models import Status
from medskills.verification.organ_bounds import OrganBound, load_organ_bounds
from medskills.verification.organ_checks import (
    OrganMeasurement,
    largest_component_fraction,
    measure_organs,
    organ_checks,
)

# TotalSegmentator ids
SPLEEN, LIVER, ADRENAL_GLAND_RIGHT, UPPER_LOBE_LEFT, LOWER_LOBE_LEFT = 1, 5, 8, 10, 11
UNIT_SPACING = (1.0, 1.0, 1.0)


def _bound(anatomy: str) -> OrganBound:
    return next(item for item in load_organ_bounds() if item.anatomy == anatomy)


def _measure(labels: np.ndarray, spacing_mm: tuple[float, float, float] = UNIT_SPACING) -> dict[str, OrganMeasurement]:
    measured = measure_organs(labels, space=LabelSpace.TOTALSEGMENTATOR, spacing_mm=spacing_mm)
    return {item.bound.anatomy: item for item in measured}


def _measurement(anatomy: str, *, volume_ml: float = 1000.0, is_cut: bool = False, fraction: float = 1.0,
                 count: int = 1) -> OrganMeasurement:
    return OrganMeasurement(bound=_bound(anatomy), class_ids=(1,), volume_ml=volume_ml, is_cut_by_field_of_view=is_cut,
                            largest_component_fraction=fraction, component_count=count)


def _volume_check_status(anatomy: str, volume_ml: float, *, is_cut: bool = False) -> Status:
    volume_checks, _ = organ_checks([_measurement(anatomy, volume_ml=volume_ml, is_cut=is_cut)])
    return volume_checks[0].status


def test_largest_component_fraction_is_zero_with_no_components_when_the_mask_is_empty() -> None:
    assert largest_component_fraction(np.zeros((3, 3, 3), dtype=bool)) == (0.0, 0)


def test_largest_component_fraction_is_one_when_the_mask_is_one_blob() -> None:
    mask = np.zeros((5, 5, 5), dtype=bool)
    mask[1:4, 1:4, 1:3] = True
    assert largest_component_fraction(mask) == (1.0, 1)


def test_largest_component_fraction_is_the_share_of_the_biggest_of_several_components() -> None:
    mask = np.zeros((8, 8, 8), dtype=bool)
    mask[0:3, 0:2, 0:1] = True  # 6 voxels
    mask[6:8, 6:7, 6:7] = True  # 2 voxels
    assert largest_component_fraction(mask) == (0.75, 2)


def test_largest_component_fraction_joins_voxels_that_touch_only_at_a_corner() -> None:
    mask = np.zeros((3, 3, 3), dtype=bool)
    mask[0, 0, 0] = mask[1, 1, 1] = mask[2, 2, 2] = True
    assert largest_component_fraction(mask) == (1.0, 1)


def test_measure_organs_gives_volume_in_ml_from_the_voxel_count_and_spacing() -> None:
    labels = np.zeros((10, 10, 10), dtype=np.uint8)
    labels[3:7, 3:7, 3:7] = LIVER  # 64 voxels of 2 x 2 x 2.5 mm = 10 mm^3 each
    liver = _measure(labels, (2.0, 2.0, 2.5))["liver"]
    assert liver.volume_ml == pytest.approx(0.64)
    assert liver.class_ids == (LIVER,)
    assert (liver.is_cut_by_field_of_view, liver.largest_component_fraction, liver.component_count) == (False, 1.0, 1)


def test_measure_organs_measures_only_bounded_organs_with_voxels_in_bound_table_order() -> None:
    labels = np.zeros((12, 12, 12), dtype=np.uint8)
    labels[1:3, 1:3, 1:3] = LIVER
    labels[5:7, 5:7, 5:7] = SPLEEN
    labels[9:11, 9:11, 9:11] = ADRENAL_GLAND_RIGHT  # a class without bounds
    assert [item.bound.anatomy for item in measure_organs(labels, space=LabelSpace.TOTALSEGMENTATOR,
                                                          spacing_mm=UNIT_SPACING)] == ["liver", "spleen"]


def test_measure_organs_returns_nothing_when_the_map_is_all_background() -> None:
    assert measure_organs(np.zeros((4, 4, 4), dtype=np.uint8), space=LabelSpace.MAISI, spacing_mm=UNIT_SPACING) == []


@pytest.mark.parametrize("face", [(0, slice(None), slice(None)), (-1, slice(None), slice(None)),
                                  (slice(None), 0, slice(None)), (slice(None), -1, slice(None)),
                                  (slice(None), slice(None), 0), (slice(None), slice(None), -1)],
                         ids=["axis0_first", "axis0_last", "axis1_first", "axis1_last", "axis2_first", "axis2_last"])
def test_measure_organs_marks_an_organ_cut_by_the_field_of_view_when_it_touches_any_face(
    face: tuple[int | slice, ...],
) -> None:
    labels = np.zeros((6, 7, 8), dtype=np.uint8)
    labels[2:4, 2:4, 2:4] = LIVER
    labels[face] = SPLEEN
    measured = _measure(labels)
    assert measured["spleen"].is_cut_by_field_of_view is True
    assert measured["liver"].is_cut_by_field_of_view is False


def test_measure_organs_pools_the_lobes_of_a_lung_into_one_organ() -> None:
    labels = np.zeros((10, 10, 10), dtype=np.uint8)
    labels[2:5, 2:8, 2:8] = UPPER_LOBE_LEFT
    labels[5:8, 2:8, 2:8] = LOWER_LOBE_LEFT
    lung = _measure(labels)["left lung"]
    assert lung.class_ids == (UPPER_LOBE_LEFT, LOWER_LOBE_LEFT)
    assert lung.volume_ml == pytest.approx(216 / 1000)
    assert (lung.largest_component_fraction, lung.component_count) == (1.0, 1)


def test_measure_organs_counts_components_across_the_boxes_of_all_the_organs_classes() -> None:
    labels = np.zeros((20, 20, 20), dtype=np.uint8)
    labels[1:4, 1:4, 1:4] = UPPER_LOBE_LEFT  # 27 voxels
    labels[15:17, 15:17, 15:17] = LOWER_LOBE_LEFT  # 8 voxels, far from the upper lobe
    lung = _measure(labels)["left lung"]
    assert (lung.largest_component_fraction, lung.component_count) == (round(27 / 35, 4), 2)


def test_measure_organs_gives_the_fragmentation_of_a_split_organ_rounded_to_four_places() -> None:
    labels = np.zeros((12, 12, 12), dtype=np.uint8)
    labels[1:3, 1:3, 1:2] = LIVER  # 4 voxels
    labels[5:7, 5:7, 5:7] = LIVER  # 8 voxels
    liver = _measure(labels)["liver"]
    assert (liver.largest_component_fraction, liver.component_count) == (0.6667, 2)


def test_measure_organs_ignores_other_classes_inside_the_organs_box() -> None:
    labels = np.zeros((10, 10, 10), dtype=np.uint8)
    labels[2:8, 2:8, 2:8] = LIVER
    labels[4:6, 4:6, 4:6] = SPLEEN  # inside the liver's box, not part of it
    liver = _measure(labels)["liver"]
    assert liver.volume_ml == pytest.approx((216 - 8) / 1000)
    assert (liver.largest_component_fraction, liver.component_count) == (1.0, 1)


def test_organ_checks_name_one_volume_and_one_fragmentation_check_per_organ() -> None:
    volume_checks, fragmentation_checks = organ_checks([_measurement("liver"), _measurement("left kidney",
                                                                                          volume_ml=150.0)])
    assert [item.name for item in volume_checks] == ["volume_liver", "volume_left_kidney"]
    assert [item.name for item in fragmentation_checks] == ["fragmentation_liver", "fragmentation_left_kidney"]


def test_organ_checks_are_empty_when_no_organ_was_measured() -> None:
    assert organ_checks([]) == ([], [])


@pytest.mark.parametrize(("volume_ml", "expected"), [
    (599.9, Status.FAILED), (600.0, Status.PASSED), (3500.0, Status.PASSED), (3500.1, Status.FAILED),
])
def test_organ_checks_volume_passes_only_inside_the_inclusive_range_when_the_organ_is_whole(
    volume_ml: float, expected: Status,
) -> None:
    assert _volume_check_status("liver", volume_ml) is expected


@pytest.mark.parametrize(("volume_ml", "expected"), [
    (0.1, Status.PASSED), (3500.0, Status.PASSED), (3500.1, Status.FAILED),
])
def test_organ_checks_volume_applies_only_the_upper_bound_when_the_organ_is_cut_by_the_field_of_view(
    volume_ml: float, expected: Status,
) -> None:
    assert _volume_check_status("liver", volume_ml, is_cut=True) is expected


def test_organ_checks_volume_states_the_range_measurement_and_source() -> None:
    [volume], _ = organ_checks([_measurement("liver", volume_ml=1500.04)])
    assert (volume.measured, volume.threshold) == (1500.04, "600-3500 mL")
    assert volume.reason == f"liver: 1500.0 mL. Range source: {_bound('liver').source}"


def test_organ_checks_volume_of_a_cut_organ_states_a_zero_lower_bound_and_why() -> None:
    [volume], _ = organ_checks([_measurement("spleen", volume_ml=12.0, is_cut=True)])
    assert volume.threshold == "0-1000 mL"
    assert volume.reason.startswith("spleen: 12.0 mL (cut by the field of view: only the upper bound applies). ")


@pytest.mark.parametrize(("fraction", "expected"), [(0.8999, Status.FAILED), (0.9, Status.PASSED),
                                                    (1.0, Status.PASSED)])
def test_organ_checks_fragmentation_passes_when_the_largest_component_reaches_the_minimum_fraction(
    fraction: float, expected: Status,
) -> None:
    _, [fragmentation] = organ_checks([_measurement("liver", fraction=fraction, count=3)])
    assert fragmentation.status is expected
    assert (fragmentation.measured, fragmentation.threshold) == (fraction, 0.9)


def test_organ_checks_fragmentation_uses_each_organs_own_minimum_fraction() -> None:
    _, checks = organ_checks([_measurement("pancreas", fraction=0.51, count=2),
                              _measurement("spleen", fraction=0.51, count=2)])
    assert [item.status for item in checks] == [Status.PASSED, Status.FAILED]


def test_organ_checks_fragmentation_reason_gives_the_percentage_and_component_count() -> None:
    _, [fragmentation] = organ_checks([_measurement("liver", fraction=0.75, count=4)])
    assert fragmentation.reason == ("liver: 75.0% of its volume in the largest of 4 connected components "
                                    "(26-connectivity)")


def test_organ_checks_fail_a_whole_organ_measured_on_a_real_small_map() -> None:
    """End to end on a map: a 64-voxel liver is far below the 600 mL floor and not cut, so the check fails."""
    labels = np.zeros((10, 10, 10), dtype=np.uint8)
    labels[3:7, 3:7, 3:7] = LIVER
    volume_checks, fragmentation_checks = organ_checks(measure_organs(labels, space=LabelSpace.TOTALSEGMENTATOR,
                                                                      spacing_mm=(3.0, 3.0, 3.0)))
    assert [(item.name, item.status) for item in volume_checks] == [("volume_liver", Status.FAILED)]
    assert [(item.name, item.status) for item in fragmentation_checks] == [("fragmentation_liver", Status.PASSED)]
