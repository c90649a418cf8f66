"""Densitometry from a 1-HU histogram: every statistic exact on a hand-countable lung, thresholds inclusive."""

from __future__ import annotations

import math

import numpy as np
import pytest

from medskills.triage.densitometry import hu_histogram, measure_density, split_sides


def test_statistics_on_a_hand_countable_lung() -> None:
    # 20 voxels: 2 at -1000, 1 at -950 (counts as LAA-950), 2 at -910, 5 at -850, 6 at -600, 4 at -250
    values = np.array([-1000] * 2 + [-950] + [-910] * 2 + [-850] * 5 + [-600] * 6 + [-250] * 4, dtype=np.float32)
    density = measure_density(hu_histogram(values), voxel_ml=0.5)
    assert density.volume_ml == 10.0
    assert density.mean_hu == pytest.approx(float(values.mean()))
    assert density.laa_950_percent == pytest.approx(15.0)  # 3 of 20, -950 included
    assert density.laa_910_percent == pytest.approx(25.0)  # 5 of 20, -910 included
    assert density.haa_percent == pytest.approx(50.0)  # 10 of 20, both ends included
    assert density.perc15_hu == -950.0  # the 3rd of 20 voxels reaches 15 %


def test_values_outside_the_range_are_clipped_to_its_ends_and_fractions_truncated() -> None:
    histogram = hu_histogram(np.array([-3000.0, 5000.0, -950.7], dtype=np.float32))
    assert histogram[0] == 1 and histogram[-1] == 1 and histogram[-950 + 1100] == 1


def test_an_empty_region_has_zero_volume_and_nan_statistics() -> None:
    density = measure_density(hu_histogram(np.array([], dtype=np.float32)), voxel_ml=1.0)
    assert density.volume_ml == 0.0 and all(math.isnan(v) for v in (density.mean_hu, density.perc15_hu,
                                                                    density.laa_950_percent, density.haa_percent))


def test_the_split_is_the_emptiest_plane_between_two_lungs() -> None:
    field = np.zeros((40, 4, 4), dtype=bool)
    field[5:17] = True
    field[21:35] = True
    field[19] = True  # a thin bridge: the gap at 17, 18 and 20 is emptier
    assert split_sides(field) in (17, 18, 20)
    assert split_sides(np.zeros((10, 2, 2), dtype=bool)) == 5
