"""The recipe, step by step: deepbrain mask, N4, white-matter normalisation, 1 mm, affine to the template.

:func:`run_brain_preprocessing` computes and writes the volumes and the revert metadata into a folder
(``segment ctmr --preprocess`` uses it as is); :mod:`.command` wraps it with preflight, the run
record and the card.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from medskills.core.io import sha256_file, write_json_atomic
from medskills.core.volumes import LoadedVolume, write_nifti
from medskills.pretrained import DeepbrainModel
from medskills.segmentation.brain_preprocess.bias_field import correct_bias_field
from medskills.segmentation.brain_preprocess.intensity import normalise_white_matter
from medskills.segmentation.brain_preprocess.mask import ADULT_BRAIN_MASK_RANGE_ML, clean_brain_mask
from medskills.segmentation.brain_preprocess.models import (
    BrainPreprocessOutput,
    BrainPreprocessParameters,
    MaskSummary,
    RevertMetadata,
)
from medskills.segmentation.brain_preprocess.registration import (
    register_to_template,
    resample_isotropic,
    resample_to_template,
    write_transform,
)
from medskills.segmentation.brain_preprocess.template import LoadedTemplate

__all__ = ["OUTPUT_NAMES", "BrainPreprocessResult", "run_brain_preprocessing"]

logger = logging.getLogger(__name__)

OUTPUT_NAMES = {
    "preprocessed": "preprocessed.nii.gz",
    "brain_mask": "brain_mask.nii.gz",
    "brain_mask_native": "brain_mask_native.nii.gz",
    "revert_metadata": "preprocess_meta.json",
    "transform": "template_to_input.tfm",
}
T = TypeVar("T")


@dataclass(frozen=True)
class BrainPreprocessResult:
    """The written output and the arrays the card draws (input as given, mask on the input grid)."""

    output: BrainPreprocessOutput
    input_array: npt.NDArray[np.generic]
    input_affine: npt.NDArray[np.float64]
    native_mask: npt.NDArray[np.bool_]
    preprocessed: npt.NDArray[np.float32]
    template_mask: npt.NDArray[np.uint8]


def _timed(step_seconds: dict[str, float], name: str, action: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = action()
    step_seconds[name] = round(time.perf_counter() - started, 3)
    logger.info("brain preprocessing: %s took %.1f s", name, step_seconds[name])
    return result


def _to_ras(loaded: LoadedVolume) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The input reoriented to RAS (axis permutations and flips only, no interpolation), its affine, and
    the orientation change that takes it back to the input's voxel order."""
    import nibabel as nib

    source, ras = nib.orientations.io_orientation(loaded.affine), nib.orientations.axcodes2ornt("RAS")
    change = nib.orientations.ornt_transform(source, ras)
    array = np.asarray(nib.orientations.apply_orientation(np.asarray(loaded.array, dtype=np.float32), change))
    affine = loaded.affine @ nib.orientations.inv_ornt_aff(change, loaded.array.shape)
    return array, affine, nib.orientations.ornt_transform(ras, source)


def run_brain_preprocessing(
    loaded: LoadedVolume, output_dir: Path, *, model: DeepbrainModel, template: LoadedTemplate,
    parameters: BrainPreprocessParameters,
) -> BrainPreprocessResult:
    """Preprocess ``loaded`` onto the template grid and write the volumes and revert metadata to ``output_dir``."""
    import nibabel as nib

    seconds: dict[str, float] = {}
    ras, ras_affine, back_to_input = _to_ras(loaded)
    probability = _timed(seconds, "brain_extraction", lambda: model.predict_probability(ras))
    brain = clean_brain_mask(probability, threshold=parameters.mask_probability_threshold)
    corrected = _timed(seconds, "n4_bias_field", lambda: correct_bias_field(ras * brain.mask, brain.mask, ras_affine,
                                                                           parameters))
    normalised, input_peak = _timed(seconds, "white_matter_normalisation",
                                    lambda: normalise_white_matter(corrected, brain.mask, parameters))
    isotropic, isotropic_affine = _timed(seconds, "resample_1mm",
                                         lambda: resample_isotropic(normalised, ras_affine, parameters))
    fixed, template_peak = normalise_white_matter(template.array, template.array > 0, parameters)
    transform, record = _timed(seconds, "affine_registration", lambda: register_to_template(
        isotropic, isotropic_affine, fixed, template.affine, parameters))
    shape = template.identity.shape
    preprocessed = np.asarray(resample_to_template(isotropic, isotropic_affine, transform, shape, template.affine,
                                                   is_label_map=False), dtype=np.float32)
    template_mask = np.asarray(resample_to_template(brain.mask.astype(np.uint8), ras_affine, transform, shape,
                                                    template.affine, is_label_map=True), dtype=np.uint8)
    native_mask = np.asarray(nib.orientations.apply_orientation(brain.mask, back_to_input), dtype=bool)
    paths = {key: output_dir / name for key, name in OUTPUT_NAMES.items()}
    write_nifti(paths["preprocessed"], preprocessed, template.affine)
    write_nifti(paths["brain_mask"], template_mask, template.affine)
    write_nifti(paths["brain_mask_native"], native_mask.astype(np.uint8), loaded.affine)
    write_transform(transform, paths["transform"])
    record = record.model_copy(update={"transform_file": paths["transform"]})
    voxel_ml = float(abs(np.linalg.det(loaded.affine[:3, :3]))) / 1000.0
    mask_summary = MaskSummary(
        volume_ml=round(float(native_mask.sum()) * voxel_ml, 2), voxel_count=int(native_mask.sum()),
        raw_component_count=brain.raw_component_count, main_component_fraction=brain.main_component_fraction,
        adult_range_ml=ADULT_BRAIN_MASK_RANGE_ML)
    shape_in = loaded.array.shape
    metadata = RevertMetadata(
        input_path=loaded.path.absolute(), input_sha256=sha256_file(loaded.path),
        input_shape=(int(shape_in[0]), int(shape_in[1]), int(shape_in[2])),
        input_affine=[[float(v) for v in row] for row in loaded.affine], template=template.identity,
        transform=record, parameters=parameters, preprocessed_path=paths["preprocessed"])
    write_json_atomic(paths["revert_metadata"], metadata)
    output = BrainPreprocessOutput(
        preprocessed_path=paths["preprocessed"], brain_mask_path=paths["brain_mask"],
        brain_mask_native_path=paths["brain_mask_native"], revert_metadata_path=paths["revert_metadata"],
        mask=mask_summary, white_matter_peak_input=input_peak, white_matter_peak_template=template_peak,
        template=template.identity, transform=record, parameters=parameters, weights_sha256=model.weights_sha256,
        step_seconds=seconds)
    return BrainPreprocessResult(output=output, input_array=loaded.array, input_affine=loaded.affine,
                                 native_mask=native_mask,
                                 preprocessed=preprocessed, template_mask=template_mask)

