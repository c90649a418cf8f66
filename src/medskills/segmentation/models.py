"""Typed request, plan, output and run record of the NV-Segment-CTMR skill."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from typing import Any

from pydantic import Field

from medskills.core.errors import UsageError
from medskills.core.preflight import suggestion_text
from medskills.core.models import FrozenModel, RunRecord
from medskills.core.skills import SkillId
from medskills.core.volumes import Geometry, GeometryComparison, IntensitySummary
from medskills.segmentation.brain_preprocess.models import BrainPreprocessOutput
from medskills.segmentation.labels import PromptResolution, SegmentationModality

__all__ = [
    "BrainHeuristic",
    "BundleInfo",
    "ClassVolume",
    "DicomSegSummary",
    "InputKind",
    "InputSummary",
    "MemoryEstimate",
    "OutputType",
    "SegmentationOutput",
    "SegmentationPlan",
    "SegmentationRequest",
    "SegmentationRunRecord",
    "StageTimings",
]

SKILL_ID = SkillId.SEGMENT_CTMR


class OutputType(StrEnum):
    """Which label-map files to write. DICOM SEG needs a DICOM series as input."""

    NIFTI = "nifti"
    DICOM_SEG = "dicom-seg"
    BOTH = "both"


class InputKind(StrEnum):
    """What IMAGE was: a NIfTI file or a directory holding one DICOM series."""

    NIFTI = "nifti"
    DICOM_SERIES = "dicom_series"


class SegmentationRequest(FrozenModel):
    """What the user asked for, as given. ``modality`` stays raw here; preflight validates it."""

    image_path: Path
    modality: str
    output_dir: Path
    prompts: str | None = Field(default=None, description='--label-prompts as typed: "3,14" or "liver,spleen"; None = '
                                'everything. The resolved ids are in plan.prompts.')
    ground_truth_path: Path | None = Field(default=None, description="Recorded for the verifier; not graded here.")
    device: str | None = Field(default=None, description="cpu or cuda:N; None = cuda:0 when CUDA is available.")
    output_type: OutputType | None = Field(default=None, description="None: nifti for NIfTI input, both for DICOM.")
    is_confirmed: bool = Field(default=False, description="--yes: run even when the memory estimate is too high.")
    is_preflight_only: bool = False
    timeout_seconds: float | None = Field(default=None, gt=0, description="None: derived from the window count.")
    is_brain_preprocessing: bool = Field(default=False, description="--preprocess (MRI_BRAIN): run `preprocess "
                                         "brain` first and revert the label map to the input grid.")

    @classmethod
    def from_cli(cls, *, output_type: str | None, **fields: Any) -> SegmentationRequest:
        """Build from command-line values; a bad ``--output-type`` is a usage error with the choices."""
        if output_type is None:
            return cls(**fields)
        try:
            chosen = OutputType(output_type)
        except ValueError as err:
            choices = [member.value for member in OutputType]
            raise UsageError(f"--output-type {output_type!r} is not one of {', '.join(choices)}."
                             f"{suggestion_text(output_type, choices)}") from err
        return cls(output_type=chosen, **fields)


class BrainHeuristic(FrozenModel):
    """One MRI_BRAIN "was this preprocessed?" heuristic and what was observed."""

    name: str
    is_passed: bool
    observed: str


class InputSummary(FrozenModel):
    """The input as read once: kind, the NIfTI the bundle reads, geometry, intensities, DICOM identity."""

    path: Path
    kind: InputKind
    bundle_input_path: Path = Field(description="The NIfTI passed to the bundle (the input, or its conversion).")
    geometry: Geometry
    intensity: IntensitySummary
    study_instance_uid: str | None = None
    series_instance_uid: str | None = None
    source_instance_count: int = 0


class MemoryEstimate(FrozenModel):
    """The stitching buffer (prompts x voxels at model spacing x 4 bytes) against free memory."""

    prompt_count: int
    model_spacing_mm: tuple[float, float, float]
    patch_size: tuple[int, int, int]
    shape_at_model_spacing: tuple[int, int, int]
    windows_estimated: int = Field(description="Sliding windows over the whole resampled volume (upper bound).")
    buffer_bytes: int
    available_bytes: int | None
    available_source: str


class BundleInfo(FrozenModel):
    """The bundle that runs (or would run): where, which version, which weights and label dictionary."""

    root: Path
    is_layout_complete: bool
    version: str | None = None
    hf_repo_id: str | None = None
    hf_revision: str | None = None
    model_path: Path
    label_dictionary_source: str
    resample_spacing_mm: tuple[float, float, float]
    patch_size: tuple[int, int, int]


class SegmentationPlan(FrozenModel):
    """What preflight resolved: the validated modality, prompts, input, bundle, device and budget."""

    modality: SegmentationModality | None = None
    prompts: PromptResolution | None = None
    input: InputSummary | None = None
    bundle: BundleInfo
    device: str
    memory: MemoryEstimate | None = None
    timeout_seconds: float
    brain_heuristics: list[BrainHeuristic] = Field(default_factory=list)
    output_type: OutputType


class ClassVolume(FrozenModel):
    """One class present in the label map."""

    label_id: int
    name: str
    voxel_count: int
    volume_ml: float


class DicomSegSummary(FrozenModel):
    """The DICOM SEG written, and how its read-back checks went."""

    path: Path
    sop_instance_uid: str
    series_instance_uid: str
    segment_count: int
    frame_count: int
    referenced_instance_count: int
    is_readable_pydicom: bool
    is_readable_highdicom: bool
    is_realigned: bool = Field(description="Frames read back by highdicom equal the label map on the source grid.")
    repaired_source_attributes: list[str] = Field(default_factory=list, description="Blank source UIDs filled from "
                                                  "the file meta header or the series reader (de-identified input).")


class StageTimings(FrozenModel):
    """Wall-clock seconds per stage."""

    preflight_seconds: float
    conversion_seconds: float = 0.0
    upstream_seconds: float = 0.0
    postprocess_seconds: float = 0.0


class SegmentationOutput(FrozenModel):
    """What came out, recomputed from the files: label map, classes, geometry, DICOM SEG."""

    label_space: str = "vista3d"
    modality: SegmentationModality
    bundle_output_path: Path
    mask_path: Path | None = Field(default=None, description="int32 NIfTI label map (or the bundle's own NIfTI when "
                                   "only a DICOM SEG was requested).")
    dicom_seg: DicomSegSummary | None = None
    reference_output_path: Path | None = Field(default=None, description="output.json in the reference key shape.")
    label_ids_present: list[int] = Field(default_factory=list)
    unexpected_label_ids: list[int] = Field(default_factory=list)
    classes: list[ClassVolume] = Field(default_factory=list)
    voxel_volume_ml: float | None = None
    geometry: GeometryComparison | None = None
    windows_after_crop: int | None = Field(default=None, description="Windows over the foreground box the bundle "
                                                                      "crops to (value > 0, 10-voxel margin).")
    timings: StageTimings


class SegmentationRunRecord(RunRecord):
    """The segmentation run record: ``OUT/result.json`` and stdout."""

    skill: SkillId = SKILL_ID
    request: SegmentationRequest
    plan: SegmentationPlan | None = None
    output: SegmentationOutput | None = None
    brain_preprocessing: BrainPreprocessOutput | None = Field(default=None, description="--preprocess: what the "
                                                              "recipe wrote and measured before the bundle ran.")
