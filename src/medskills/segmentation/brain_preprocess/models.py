"""Typed parameters, template identity, transform, revert metadata and run records of brain preprocessing."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from medskills.core.models import SCHEMA_VERSION, FrozenModel, RunRecord

__all__ = [
    "AffineTransformRecord",
    "BrainPreprocessOutput",
    "BrainPreprocessParameters",
    "BrainPreprocessRecord",
    "BrainPreprocessRequest",
    "BrainRevertOutput",
    "BrainRevertRecord",
    "BrainRevertRequest",
    "MaskSummary",
    "RevertMetadata",
    "TemplateIdentity",
]

PREPROCESS_SKILL_ID = "brain-preprocess"
REVERT_SKILL_ID = "brain-preprocess-revert"


class BrainPreprocessParameters(FrozenModel):
    """Every setting of the recipe, recorded in the revert metadata and the run record.

    Defaults follow upstream's ``brain_t1_preprocess/preprocess.py`` where it sets a value
    (``KDENormalize(norm_value=110)``, the T1 last-peak mode, the 99.9th-percentile rescale, 1 mm,
    ``aff_metric="meanSquares"``) and ANTsPy's defaults where upstream relies on them (N4).
    """

    mask_probability_threshold: float = Field(default=0.5, description="deepbrain probability above which a voxel is brain.")
    n4_shrink_factor: int = 4
    n4_iterations: tuple[int, ...] = (50, 50, 50, 50)
    n4_convergence_threshold: float = 1e-7
    n4_spline_distance_mm: float = 200.0
    n4_spline_order: int = 3
    kde_norm_value: float = Field(default=110.0, description="The white-matter peak is scaled to this value.")
    kde_tail_percentage: float = Field(default=96.0, description="Brain voxels above this percentile are left out "
                                       "of the KDE, as intensity-normalization's get_last_tissue_mode does.")
    kde_grid_size: int = 80
    kde_bandwidth_divisor: float = Field(default=80.0, description="Bandwidth = maximum intensity / this.")
    rescale_percentile: float = Field(default=99.9, description="After KDE scaling, divide by this percentile and clip to [0, 1].")
    target_spacing_mm: float = 1.0
    registration_metric: str = "mean_squares"
    registration_shrink_factors: tuple[int, ...] = Field(default=(4, 2), description="4 mm then 2 mm: a full "
                                                         "1 mm level changed the matrix by under 1 % at 4x the time.")
    registration_smoothing_sigmas_mm: tuple[float, ...] = (2.0, 1.0)
    registration_sampling_fraction: float = 0.2
    registration_seed: int = 1152
    registration_iterations: int = 200
    registration_learning_rate: float = 1.0
    registration_minimum_step: float = 1e-4
    registration_gradient_tolerance: float = Field(default=1e-8, description="Intensities are in [0, 1], so "
                                                   "gradients are small; ITK's default 1e-4 stops at once.")
    thread_count: int = Field(default=2, description="ITK threads; fixed so the run is reproducible across machines.")


class TemplateIdentity(FrozenModel):
    """Which template the image was registered to, and how it was found."""

    name: str
    source_package: str
    source_version: str
    file_path: Path
    sha256: str
    shape: tuple[int, int, int]
    affine: list[list[float]] = Field(description="Voxel index to RAS mm.")


class AffineTransformRecord(FrozenModel):
    """The registration result. ``template_to_input_ras`` maps template-world RAS mm to input-world RAS mm."""

    template_to_input_ras: list[list[float]]
    itk_matrix_lps: list[float] = Field(description="ITK AffineTransform matrix, row-major, LPS.")
    itk_translation_lps_mm: list[float]
    itk_center_lps_mm: list[float]
    final_metric_value: float
    optimizer_stop_condition: str
    transform_file: Path | None = Field(default=None, description="The same transform in ITK .tfm format.")


class RevertMetadata(FrozenModel):
    """Everything needed to map a template-grid image or label map back onto the input grid."""

    schema_version: str = SCHEMA_VERSION
    input_path: Path
    input_sha256: str
    input_shape: tuple[int, int, int]
    input_affine: list[list[float]] = Field(description="Voxel index to RAS mm of the input as given.")
    template: TemplateIdentity
    transform: AffineTransformRecord
    parameters: BrainPreprocessParameters
    preprocessed_path: Path


class MaskSummary(FrozenModel):
    """The brain mask as measured on the input grid."""

    volume_ml: float
    voxel_count: int
    raw_component_count: int = Field(description="Connected components of the thresholded mask before cleanup.")
    main_component_fraction: float = Field(description="Share of the raw mask in its largest component.")
    adult_range_ml: tuple[float, float]


class BrainPreprocessRequest(FrozenModel):
    """``medskills preprocess brain T1 --output-dir OUT``."""

    image_path: Path
    output_dir: Path
    parameters: BrainPreprocessParameters = Field(default_factory=BrainPreprocessParameters)


class BrainPreprocessOutput(FrozenModel):
    """What the run wrote and measured."""

    preprocessed_path: Path
    brain_mask_path: Path = Field(description="Brain mask on the template grid.")
    brain_mask_native_path: Path = Field(description="Brain mask on the input grid.")
    revert_metadata_path: Path
    mask: MaskSummary
    white_matter_peak_input: float
    white_matter_peak_template: float
    template: TemplateIdentity
    transform: AffineTransformRecord
    parameters: BrainPreprocessParameters
    weights_sha256: str
    step_seconds: dict[str, float]


class BrainPreprocessRecord(RunRecord):
    """``OUT/result.json`` of ``medskills preprocess brain``."""

    skill: str = PREPROCESS_SKILL_ID
    request: BrainPreprocessRequest
    output: BrainPreprocessOutput | None = None


class BrainRevertRequest(FrozenModel):
    """``medskills preprocess brain-revert VOLUME --meta META --output OUT``."""

    volume_path: Path
    metadata_path: Path
    output_path: Path
    is_label_map: bool = Field(description="Nearest-neighbour for labels, linear for images.")


class BrainRevertOutput(FrozenModel):
    """The reverted file and the grid it is on."""

    output_path: Path
    shape: tuple[int, int, int]
    affine: list[list[float]]
    label_ids: list[int] | None = None


class BrainRevertRecord(FrozenModel):
    """The one JSON result of ``medskills preprocess brain-revert`` (it writes no run folder)."""

    schema_version: str = SCHEMA_VERSION
    skill: str = REVERT_SKILL_ID
    exit_code: int = 0
    request: BrainRevertRequest
    output: BrainRevertOutput
