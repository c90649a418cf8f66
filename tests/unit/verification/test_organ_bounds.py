"""The table of plausible organ volumes and fragmentation limits, and which class ids form each organ."""

from __future__ import annotations

import pytest

from medskills.core.label_spaces import LabelSpace, load_label_dictionary
from medskills.verification.organ_bounds import OrganBound, load_organ_bounds, organ_class_ids


def _bound(anatomy: str) -> OrganBound:
    return next(item for item in load_organ_bounds() if item.anatomy == anatomy)


def _names(ids: list[int], space: LabelSpace) -> list[str]:
    dictionary = load_label_dictionary(space)
    return [dictionary.name_of(label_id) for label_id in ids]


def _any_bound(anatomy: str) -> OrganBound:
    return OrganBound(anatomy=anatomy, min_volume_ml=1.0, max_volume_ml=2.0, min_largest_component_fraction=0.5,
                      source="test")


def test_load_organ_bounds_lists_the_thirteen_bounded_organs() -> None:
    assert [item.anatomy for item in load_organ_bounds()] == [
        "liver", "spleen", "pancreas", "left kidney", "right kidney", "left lung", "right lung", "heart", "aorta",
        "stomach", "gallbladder", "bladder", "brain"]


def test_load_organ_bounds_reads_the_liver_range_and_the_low_pancreas_fraction() -> None:
    liver, pancreas = _bound("liver"), _bound("pancreas")
    assert (liver.min_volume_ml, liver.max_volume_ml, liver.min_largest_component_fraction) == (600.0, 3500.0, 0.9)
    assert pancreas.min_largest_component_fraction == 0.5
    assert "Heinemann" in liver.source


def test_load_organ_bounds_gives_every_organ_a_source_an_ordered_range_and_a_fraction_in_zero_one() -> None:
    for item in load_organ_bounds():
        assert item.source.strip(), item.anatomy
        assert 0 < item.min_volume_ml < item.max_volume_ml, item.anatomy
        assert 0 < item.min_largest_component_fraction <= 1, item.anatomy


def test_load_organ_bounds_names_only_anatomies_present_in_every_label_space() -> None:
    for item in load_organ_bounds():
        for space in LabelSpace:
            assert organ_class_ids(item, space), (item.anatomy, space)


@pytest.mark.parametrize(("space", "expected"), [
    (LabelSpace.MAISI, [1]), (LabelSpace.VISTA3D, [1]), (LabelSpace.TOTALSEGMENTATOR, [5]),
    (LabelSpace.TOTALSEGMENTATOR_MR, [5]),
])
def test_organ_class_ids_give_the_liver_id_of_each_label_space(space: LabelSpace, expected: list[int]) -> None:
    assert organ_class_ids(_bound("liver"), space) == expected


def test_organ_class_ids_count_the_lobes_towards_their_lung() -> None:
    assert _names(organ_class_ids(_bound("right lung"), LabelSpace.TOTALSEGMENTATOR), LabelSpace.TOTALSEGMENTATOR) == [
        "lung_upper_lobe_right", "lung_middle_lobe_right", "lung_lower_lobe_right"]
    assert organ_class_ids(_bound("left lung"), LabelSpace.MAISI) == [28, 29]


def test_organ_class_ids_include_both_the_whole_lung_and_its_lobes_when_the_space_has_both() -> None:
    assert _names(organ_class_ids(_bound("left lung"), LabelSpace.VISTA3D), LabelSpace.VISTA3D) == [
        "left lung upper lobe", "left lung lower lobe", "left lung"]


def test_organ_class_ids_give_the_whole_lung_class_when_the_space_has_no_lobes() -> None:
    assert _names(organ_class_ids(_bound("left lung"), LabelSpace.TOTALSEGMENTATOR_MR),
                  LabelSpace.TOTALSEGMENTATOR_MR) == ["lung_left"]


def test_organ_class_ids_leave_out_a_coarser_parent_class() -> None:
    """VISTA3D's ``kidney`` and ``lung`` hold both sides, so they never count towards one side's organ."""
    assert organ_class_ids(_bound("left kidney"), LabelSpace.VISTA3D) == [14]
    assert 20 not in organ_class_ids(_bound("left lung"), LabelSpace.VISTA3D)


def test_organ_class_ids_of_a_parent_anatomy_collect_the_parent_and_all_its_parts() -> None:
    assert _names(organ_class_ids(_any_bound("kidney"), LabelSpace.VISTA3D), LabelSpace.VISTA3D) == [
        "kidney", "right kidney", "left kidney"]
    assert organ_class_ids(_any_bound("kidney"), LabelSpace.MAISI) == [5, 14]


def test_organ_class_ids_are_empty_when_the_space_has_no_class_for_the_anatomy() -> None:
    assert organ_class_ids(_any_bound("trachea"), LabelSpace.TOTALSEGMENTATOR_MR) == []


def test_organ_class_ids_are_empty_when_the_anatomy_is_not_in_the_table() -> None:
    assert organ_class_ids(_any_bound("not an organ"), LabelSpace.MAISI) == []
