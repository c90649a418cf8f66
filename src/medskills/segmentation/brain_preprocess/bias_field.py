"""N4 bias-field correction with SimpleITK, set up as ANTsPy's ``n4_bias_field_correction`` defaults.

Upstream calls ``ants.n4_bias_field_correction(image)`` with no options: shrink factor 4, four fitting
levels of 50 iterations, convergence 1e-7, B-spline order 3 with a 200 mm mesh. The field is fitted
on the shrunk image inside the brain mask and applied at full resolution.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from medskills.segmentation.brain_preprocess._itk import import_simpleitk, to_itk
from medskills.segmentation.brain_preprocess.models import BrainPreprocessParameters

__all__ = ["correct_bias_field"]


def correct_bias_field(
    image: npt.NDArray[np.floating], brain: npt.NDArray[np.bool_], affine: npt.NDArray[np.float64],
    parameters: BrainPreprocessParameters,
) -> npt.NDArray[np.float32]:
    """Return ``image`` divided by its N4 bias field, zero outside ``brain``."""
    sitk = import_simpleitk()
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(parameters.thread_count)
    full = to_itk(np.asarray(image, dtype=np.float32), affine)
    mask = to_itk(brain.astype(np.uint8), affine)
    shrink = [parameters.n4_shrink_factor] * 3
    small, small_mask = sitk.Shrink(full, shrink), sitk.Shrink(mask, shrink)
    extent_mm = np.asarray(small.GetSize()) * np.asarray(small.GetSpacing())
    spans = np.maximum(1, np.ceil(extent_mm / parameters.n4_spline_distance_mm)).astype(int)
    corrector = sitk.N4BiasFieldCorrectionImageFilter()
    corrector.SetMaximumNumberOfIterations(list(parameters.n4_iterations))
    corrector.SetConvergenceThreshold(parameters.n4_convergence_threshold)
    corrector.SetSplineOrder(parameters.n4_spline_order)
    corrector.SetNumberOfControlPoints([int(n) + parameters.n4_spline_order for n in spans])
    corrector.Execute(small, small_mask)
    log_field = np.transpose(sitk.GetArrayFromImage(corrector.GetLogBiasFieldAsImage(full)), (2, 1, 0))
    corrected = np.asarray(image, dtype=np.float32) / np.exp(log_field).astype(np.float32)
    return np.where(brain, corrected, 0).astype(np.float32)
