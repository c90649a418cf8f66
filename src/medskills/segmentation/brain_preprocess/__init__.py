"""Brain T1 preprocessing for MRI_BRAIN segmentation: upstream's recipe with offline parts.

deepbrain brain extraction (in place of SynthStrip), N4, white-matter KDE normalisation, 1 mm
resampling and affine registration to the MNI ICBM152 template, with metadata to revert outputs to
the input grid. See ``docs/brain_preprocessing.md``.
"""

from medskills.segmentation.brain_preprocess.command import evaluate_gates, preprocess_brain
from medskills.segmentation.brain_preprocess.models import (
    BrainPreprocessOutput,
    BrainPreprocessParameters,
    BrainPreprocessRecord,
    BrainPreprocessRequest,
    BrainRevertRecord,
    BrainRevertRequest,
    RevertMetadata,
)
from medskills.segmentation.brain_preprocess.pipeline import OUTPUT_NAMES, run_brain_preprocessing
from medskills.segmentation.brain_preprocess.revert import (
    read_revert_metadata,
    revert_brain_volume,
    revert_to_input_grid,
)
from medskills.segmentation.brain_preprocess.template import load_template

__all__ = [
    "OUTPUT_NAMES",
    "BrainPreprocessOutput",
    "BrainPreprocessParameters",
    "BrainPreprocessRecord",
    "BrainPreprocessRequest",
    "BrainRevertRecord",
    "BrainRevertRequest",
    "RevertMetadata",
    "evaluate_gates",
    "load_template",
    "preprocess_brain",
    "read_revert_metadata",
    "revert_brain_volume",
    "revert_to_input_grid",
    "run_brain_preprocessing",
]
