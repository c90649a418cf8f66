"""White-matter peak normalisation of a skull-stripped T1, as upstream's ``intensity_norm`` does it.

Upstream calls intensity-normalization's ``KDENormalize(norm_value=110)`` with the T1 modality: the
brain voxels up to their 96th percentile get a Gaussian kernel density estimate on an 80-point grid
with bandwidth ``max / 80``, the last local maximum is the white-matter peak, and the image is scaled
so that peak becomes 110. Upstream then clips negatives, divides by the 99.9th percentile of the
positive voxels and clips to [0, 1]. The density comes from the same estimator intensity-normalization
uses (statsmodels' ``KDEUnivariate``, Gaussian kernel, binned FFT); the package itself is not needed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from medskills.core.errors import InputError
from medskills.segmentation.brain_preprocess.models import BrainPreprocessParameters

__all__ = ["normalise_white_matter", "white_matter_peak"]


def white_matter_peak(values: npt.NDArray[np.floating], parameters: BrainPreprocessParameters) -> float:
    """Intensity of the last (highest) peak of the smoothed histogram of the brain ``values``.

    Raises:
        InputError: fewer than two distinct values, or no peak in the density.
    """
    from scipy import signal
    from statsmodels.nonparametric.kde import KDEUnivariate

    data = np.asarray(values, dtype=np.float64).ravel()
    data = data[data <= np.percentile(data, parameters.kde_tail_percentage)]
    if data.size < 2 or float(data.max()) <= float(data.min()):
        raise InputError("the brain region has fewer than two distinct intensities; it cannot be normalised.")
    bandwidth = float(data.max()) / parameters.kde_bandwidth_divisor
    estimate = KDEUnivariate(data)
    estimate.fit(kernel="gau", bw=bandwidth, gridsize=parameters.kde_grid_size, fft=True)
    grid, density = np.asarray(estimate.support), np.asarray(estimate.density)
    peaks = signal.argrelmax(density)[0]
    if peaks.size == 0:
        raise InputError("the brain intensity histogram has no peak; the T1 cannot be normalised.")
    return float(grid[peaks[-1]])


def normalise_white_matter(
    image: npt.NDArray[np.floating], brain: npt.NDArray[np.bool_], parameters: BrainPreprocessParameters
) -> tuple[npt.NDArray[np.float32], float]:
    """Scale ``image`` so its white-matter peak is ``kde_norm_value``, then rescale to [0, 1].

    Returns the normalised image (zero outside ``brain``) and the peak found.
    """
    inside = np.asarray(image, dtype=np.float32)[brain & (image > 0)]
    peak = white_matter_peak(inside, parameters)
    scaled = np.where(brain, np.asarray(image, dtype=np.float32) * np.float32(parameters.kde_norm_value / peak), 0)
    scaled = np.maximum(scaled, 0).astype(np.float32)
    positive = scaled[scaled > 0]
    ceiling = float(np.percentile(positive, parameters.rescale_percentile)) if positive.size else 1.0
    return np.clip(scaled / np.float32(max(ceiling, 1e-6)), 0.0, 1.0).astype(np.float32), peak
