"""Median-HU ranges per organ group (upstream statistics) and the group medians of a CT and its MAISI labels."""

from __future__ import annotations

import numpy as np
import pytest

from medskills.verification.hu_statistics import HURange, group_medians_hu, load_hu_ranges


def _ranges_by_group() -> dict[str, HURange]:
    return {item.group: item for item in load_hu_ranges()}


def _volume(values_by_id: dict[int, list[float]], *, dtype: type = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """A flat 1 x 1 x N image and label map holding the given HU values under each MAISI id (0 elsewhere)."""
    labels, image = [0, 0], [-1000.0, 5000.0]  # background voxels with extreme values
    for label_id, values in values_by_id.items():
        labels += [label_id] * len(values)
        image += values
    return (np.asarray(image, dtype=dtype).reshape(1, 1, -1), np.asarray(labels, dtype=np.int32).reshape(1, 1, -1))


def test_load_hu_ranges_gives_the_seven_upstream_groups_in_order() -> None:
    assert [item.group for item in load_hu_ranges()] == ["liver", "spleen", "pancreas", "kidney", "lung", "bone",
                                                         "brain"]


def test_load_hu_ranges_groups_both_kidneys_and_the_five_lung_lobes() -> None:
    ranges = _ranges_by_group()
    assert ranges["kidney"].maisi_ids == (5, 14)
    assert ranges["lung"].maisi_ids == (28, 29, 30, 31, 32)
    assert ranges["liver"].maisi_ids == (1,) and ranges["brain"].maisi_ids == (22,)


def test_load_hu_ranges_gives_every_maisi_id_to_at_most_one_group() -> None:
    ids = [label_id for item in load_hu_ranges() for label_id in item.maisi_ids]
    assert len(ids) == len(set(ids))


def test_load_hu_ranges_takes_the_lower_of_sigma_and_percentile_lows_and_the_higher_of_the_highs() -> None:
    ranges = _ranges_by_group()
    # liver: sigma_6_low -21.596... < percentile_0_5 9.53; percentile_99_5 162.0 > sigma_6_high 156.28
    assert (ranges["liver"].low_hu, ranges["liver"].high_hu) == (-21.596, 162.0)
    # brain: percentile_0_5 -951.0 < sigma_6_low -304.8; sigma_6_high 369.5118... > percentile_99_5 126.25
    assert (ranges["brain"].low_hu, ranges["brain"].high_hu) == (-951.0, 369.512)
    assert (ranges["lung"].low_hu, ranges["lung"].high_hu) == (-1088.558, -366.95)


def test_load_hu_ranges_fixes_the_high_end_of_bone_at_1000_hu() -> None:
    bone = _ranges_by_group()["bone"]
    assert (bone.low_hu, bone.high_hu) == (71.399, 1000.0)


def test_load_hu_ranges_have_low_below_high_for_every_group() -> None:
    assert all(item.low_hu < item.high_hu for item in load_hu_ranges())


def test_group_medians_give_the_median_and_voxel_count_of_each_present_group() -> None:
    image, labels = _volume({1: [10.0, 30.0, 20.0], 3: [100.0, 120.0]})
    assert group_medians_hu(image, labels) == {"liver": (20.0, 3), "spleen": (110.0, 2)}


def test_group_medians_pool_the_ids_of_one_group() -> None:
    image, labels = _volume({5: [100.0, 200.0], 14: [300.0], 28: [-900.0], 32: [-700.0], 30: [-800.0]})
    assert group_medians_hu(image, labels) == {"kidney": (200.0, 3), "lung": (-800.0, 3)}


def test_group_medians_leave_out_groups_without_voxels_and_ids_outside_every_group() -> None:
    image, labels = _volume({2: [55.0], 200: [66.0], 22: [30.0]})
    assert group_medians_hu(image, labels) == {"brain": (30.0, 1)}


def test_group_medians_accept_label_ids_above_255() -> None:
    image, labels = _volume({1: [40.0], 300: [99.0], 1000: [98.0]})
    assert group_medians_hu(image, labels) == {"liver": (40.0, 1)}


def test_group_medians_are_empty_when_the_label_map_is_all_background() -> None:
    image = np.full((2, 3, 4), 50.0, dtype=np.float32)
    assert group_medians_hu(image, np.zeros((2, 3, 4), dtype=np.uint8)) == {}


def test_group_medians_leave_non_finite_values_out_of_the_median_and_the_count() -> None:
    image, labels = _volume({1: [10.0, np.nan, 30.0, np.inf, -np.inf], 3: [np.nan, np.nan]})
    assert group_medians_hu(image, labels) == {"liver": (20.0, 2)}


def test_group_medians_of_an_integer_image_are_not_truncated() -> None:
    image, labels = _volume({1: [1.0, 2.0]}, dtype=np.int16)
    median, count = group_medians_hu(image, labels)["liver"]
    assert (median, count) == (1.5, 2)
    assert isinstance(median, float) and isinstance(count, int)


def test_group_medians_read_3d_volumes_voxel_by_voxel() -> None:
    rng = np.random.default_rng(0)
    image = rng.normal(60.0, 20.0, size=(5, 6, 7)).astype(np.float32)
    labels = rng.choice(np.array([0, 1, 3, 33, 120]), size=image.shape)
    result = group_medians_hu(image, labels)
    assert result["liver"] == pytest.approx((float(np.median(image[labels == 1].astype(np.float64))),
                                             int((labels == 1).sum())))
    bone = np.isin(labels, [33, 120])
    assert result["bone"] == pytest.approx((float(np.median(image[bone].astype(np.float64))), int(bone.sum())))
    assert set(result) == {"liver", "spleen", "bone"}
