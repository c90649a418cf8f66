"""Affine registration of the 1 mm brain to the template with SimpleITK, and resampling through it.

Upstream runs ``ants.registration(type_of_transform="Affine", aff_metric="meanSquares")`` on the
KDE-normalised images. This is the same kind of registration, every setting explicit: a centre-of-mass
start, a 12-parameter affine, mean squares on 20 % of the template's brain voxels (fixed seed), two levels (shrink
4-2, smoothing 2-1 mm), regular-step gradient descent with scales from physical shifts, and a
fixed ITK thread count, so two runs give the same transform.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from medskills.segmentation.brain_preprocess._itk import LPS_FROM_RAS, from_itk, import_simpleitk, to_itk
from medskills.segmentation.brain_preprocess.models import AffineTransformRecord, BrainPreprocessParameters

__all__ = ["register_to_template", "resample_isotropic", "resample_to_template", "write_transform"]


def resample_isotropic(
    image: npt.NDArray[np.floating], affine: npt.NDArray[np.float64], parameters: BrainPreprocessParameters
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float64]]:
    """Linear resampling to ``target_spacing_mm`` over the same field of view (same origin and axes)."""
    sitk = import_simpleitk()
    source = to_itk(np.asarray(image, dtype=np.float32), affine)
    spacing = [parameters.target_spacing_mm] * 3
    size = [max(1, int(round(n * s / parameters.target_spacing_mm))) for n, s in zip(source.GetSize(),
                                                                                      source.GetSpacing(), strict=True)]
    result = sitk.Resample(source, size, sitk.Transform(), sitk.sitkLinear, source.GetOrigin(), spacing,
                           source.GetDirection(), 0.0, sitk.sitkFloat32)
    array, new_affine = from_itk(result)
    return np.asarray(array, dtype=np.float32), new_affine


def register_to_template(
    moving: npt.NDArray[np.float32], moving_affine: npt.NDArray[np.float64],
    template: npt.NDArray[np.float32], template_affine: npt.NDArray[np.float64],
    parameters: BrainPreprocessParameters,
) -> tuple[Any, AffineTransformRecord]:
    """Find the affine mapping template points to moving points; return it and its record."""
    sitk = import_simpleitk()
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(parameters.thread_count)
    fixed_image, moving_image = to_itk(template, template_affine), to_itk(moving, moving_affine)
    initial = sitk.CenteredTransformInitializer(fixed_image, moving_image, sitk.AffineTransform(3),
                                                sitk.CenteredTransformInitializerFilter.MOMENTS)
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsMeanSquares()
    method.SetMetricSamplingStrategy(method.RANDOM)
    method.SetMetricSamplingPercentage(parameters.registration_sampling_fraction, parameters.registration_seed)
    method.SetInterpolator(sitk.sitkLinear)
    # gradients at the sampled points only, instead of whole gradient images at every level
    method.SetMetricUseFixedImageGradientFilter(False)
    method.SetMetricUseMovingImageGradientFilter(False)
    method.SetMetricFixedMask(to_itk((template > 0).astype(np.uint8), template_affine))
    method.SetOptimizerAsRegularStepGradientDescent(
        learningRate=parameters.registration_learning_rate, minStep=parameters.registration_minimum_step,
        numberOfIterations=parameters.registration_iterations,
        gradientMagnitudeTolerance=parameters.registration_gradient_tolerance)
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetShrinkFactorsPerLevel(list(parameters.registration_shrink_factors))
    method.SetSmoothingSigmasPerLevel(list(parameters.registration_smoothing_sigmas_mm))
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
    transform = sitk.AffineTransform(initial)
    method.SetInitialTransform(transform, inPlace=True)
    method.Execute(fixed_image, moving_image)
    return transform, _describe(transform, float(method.GetMetricValue()), method.GetOptimizerStopConditionDescription())


def _describe(transform: Any, metric_value: float, stop_condition: str) -> AffineTransformRecord:
    matrix = np.asarray(transform.GetMatrix(), dtype=np.float64).reshape(3, 3)
    center = np.asarray(transform.GetCenter(), dtype=np.float64)
    translation = np.asarray(transform.GetTranslation(), dtype=np.float64)
    # ITK: y = M (x - c) + c + t in LPS; conjugate by the LPS<->RAS flip for a RAS 4x4
    ras = np.eye(4)
    ras[:3, :3] = LPS_FROM_RAS @ matrix @ LPS_FROM_RAS
    ras[:3, 3] = LPS_FROM_RAS @ (translation + center - matrix @ center)
    return AffineTransformRecord(
        template_to_input_ras=[[float(v) for v in row] for row in ras],
        itk_matrix_lps=[float(v) for v in matrix.ravel()], itk_translation_lps_mm=[float(v) for v in translation],
        itk_center_lps_mm=[float(v) for v in center], final_metric_value=metric_value,
        optimizer_stop_condition=stop_condition)


def resample_to_template(
    volume: npt.NDArray[np.generic], affine: npt.NDArray[np.float64], transform: Any,
    template_shape: tuple[int, int, int], template_affine: npt.NDArray[np.float64], *, is_label_map: bool,
) -> npt.NDArray[np.generic]:
    """``volume`` (on ``affine``'s grid) drawn on the template grid through ``transform``."""
    sitk = import_simpleitk()
    reference = to_itk(np.zeros(template_shape, dtype=np.uint8), template_affine)
    interpolator = sitk.sitkNearestNeighbor if is_label_map else sitk.sitkLinear
    result = sitk.Resample(to_itk(volume, affine), reference, transform, interpolator, 0.0)
    return from_itk(result)[0]


def write_transform(transform: Any, path: Path) -> Path:
    """Save ``transform`` as an ITK ``.tfm`` file atomically (temporary name, then rename)."""
    import os
    import tempfile

    sitk = import_simpleitk()
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tfm", dir=path.parent)
    os.close(fd)
    try:
        sitk.WriteTransform(transform, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
