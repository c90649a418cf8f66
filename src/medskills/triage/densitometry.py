"""Lung densitometry from a lung field: volume, mean density, Perc15, %LAA and %HAA per side.

The HU values are counted in a 1-HU histogram (one pass per side; CT stores integer HU), from which
every statistic follows exactly: Perc15 is the lowest HU at which the cumulative count reaches 15 %.
The thresholds follow the quantitative-CT literature (``docs/triage_qct.md``): %LAA-950 counts voxels
at or below -950 HU, %LAA-910 at or below -910 HU, %HAA voxels from -600 to -250 HU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["HISTOGRAM_HU_RANGE", "LungDensity", "measure_density", "split_sides"]

HISTOGRAM_HU_RANGE = (-1100, 1100)
LAA_950_HU = -950
LAA_910_HU = -910
HAA_HU_RANGE = (-600, -250)
PERC15_FRACTION = 0.15


@dataclass(frozen=True)
class LungDensity:
    """Densitometry of one lung region (NaN everywhere when the region is empty)."""

    volume_ml: float
    mean_hu: float
    perc15_hu: float
    laa_950_percent: float
    laa_910_percent: float
    haa_percent: float


def hu_histogram(values: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]:
    """Counts per integer HU from ``HISTOGRAM_HU_RANGE[0]`` (values outside are clipped to the ends)."""
    low, high = HISTOGRAM_HU_RANGE
    bins = values.astype(np.intp)  # CT stores integer HU; fractions are truncated
    np.clip(bins, low, high, out=bins)
    bins -= low
    return np.bincount(bins, minlength=high - low + 1)


def measure_density(histogram: npt.NDArray[np.int64], voxel_ml: float) -> LungDensity:
    """Every statistic of :class:`LungDensity` from a :func:`hu_histogram`."""
    total = int(histogram.sum())
    if total == 0:
        return LungDensity(0.0, *([float("nan")] * 5))
    low = HISTOGRAM_HU_RANGE[0]
    hu = np.arange(histogram.size, dtype=np.float64) + low
    cumulative = np.cumsum(histogram)

    def percent_between(first: int, last: int) -> float:
        return 100.0 * float(histogram[first - low : last - low + 1].sum()) / total

    return LungDensity(
        volume_ml=total * voxel_ml,
        mean_hu=float((hu * histogram).sum() / total),
        perc15_hu=float(hu[int(np.searchsorted(cumulative, PERC15_FRACTION * total))]),
        laa_950_percent=percent_between(low, LAA_950_HU),
        laa_910_percent=percent_between(low, LAA_910_HU),
        haa_percent=percent_between(*HAA_HU_RANGE),
    )


def split_sides(field: npt.NDArray[np.bool_]) -> int:
    """Axis-0 index of the sagittal plane between the lungs: the least lung in the middle half.

    In RAS+ order axis 0 grows towards the patient's right, so ``[:split]`` is the left lung.
    """
    profile = field.sum(axis=(1, 2))
    hits = np.flatnonzero(profile)
    if hits.size == 0:
        return int(field.shape[0]) // 2
    first, last = int(hits[0]), int(hits[-1])
    quarter = (last - first) // 4
    middle = profile[first + quarter : last - quarter + 1]
    if middle.size == 0:
        return (first + last) // 2
    return first + quarter + int(np.argmin(middle))
