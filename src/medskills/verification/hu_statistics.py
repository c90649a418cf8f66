"""Median-HU plausibility per organ group, with ranges taken from upstream NV-Generate-CTMR statistics.

Facts from ``configs/image_median_statistics_ct.json`` (NV-Generate-CTMR, commit da438fe) are shipped
as ``medskills/data/verification/ct_hu_statistics.json``. The acceptance range follows the upstream
quality check (``scripts/quality_check.py``): low = min(sigma_6_low, percentile_0_5), high =
max(sigma_6_high, percentile_99_5), with bone's high end fixed at 1000 HU. Group ids are the MAISI ids
upstream uses in ``scripts/sample.py`` (the lung group here is lobes 28-32).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import numpy.typing as npt

__all__ = ["HURange", "group_medians_hu", "load_hu_ranges"]

_BONE_HIGH_HU = 1000.0


@dataclass(frozen=True)
class HURange:
    """Accepted median HU of one organ group and the MAISI ids that form it."""

    group: str
    maisi_ids: tuple[int, ...]
    low_hu: float
    high_hu: float


@cache
def load_hu_ranges() -> tuple[HURange, ...]:
    """The seven organ groups with upstream statistics: liver, spleen, pancreas, kidney, lung, bone, brain."""
    text = resources.files("medskills").joinpath("data", "verification", "ct_hu_statistics.json").read_text("utf-8")
    ranges = []
    for item in json.loads(text)["groups"]:
        high = max(item["sigma_6_high"], item["percentile_99_5"])
        ranges.append(HURange(
            group=item["group"], maisi_ids=tuple(item["maisi_ids"]),
            low_hu=round(min(item["sigma_6_low"], item["percentile_0_5"]), 3),
            high_hu=_BONE_HIGH_HU if item["group"] == "bone" else round(high, 3),
        ))
    return tuple(ranges)


def group_medians_hu(
    image: npt.NDArray[np.generic], maisi_labels: npt.NDArray[np.integer]
) -> dict[str, tuple[float, int]]:
    """Median HU and voxel count of each organ group present in ``maisi_labels`` (same shape as ``image``).

    One lookup-table pass maps ids to groups; only the voxels of some group are then sorted.
    """
    ranges = load_hu_ranges()
    lookup = np.zeros(max(int(maisi_labels.max(initial=0)) + 1, 256), dtype=np.uint8)
    for index, item in enumerate(ranges, start=1):
        lookup[list(item.maisi_ids)] = index
    groups = np.take(lookup, maisi_labels).ravel()
    in_group = np.flatnonzero(groups)
    values = np.asarray(image).ravel()[in_group].astype(np.float64)
    group_of_value = groups[in_group]
    order = np.argsort(group_of_value, kind="stable")
    values, group_of_value = values[order], group_of_value[order]
    boundaries = np.searchsorted(group_of_value, np.arange(1, len(ranges) + 2))
    result = {}
    for index, item in enumerate(ranges):
        chunk = values[boundaries[index]:boundaries[index + 1]]
        chunk = chunk[np.isfinite(chunk)]
        if chunk.size:
            result[item.group] = (float(np.median(chunk)), int(chunk.size))
    return result
