"""The typed run record of a paired CT synthesis run (``OUT/result.json``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, JsonValue

from medskills.core.skills import SkillId
from medskills.core.models import Artifact, FrozenModel, RunRecord
from medskills.core.volumes import Geometry, GeometryComparison, IntensitySummary
from medskills.synthesis.nv_generate.ct_inference import CTVersion, InferenceSettings, MaskPath

__all__ = [
    "AnatomySizeCondition",
    "CTOutputSection",
    "CTRequestSection",
    "CTSynthesisRecord",
    "ClassVolume",
    "LabelMappingEntry",
    "ModelSection",
    "SampleEvidence",
]

LABEL_SEMANTICS = (
    "Saved label maps hold ordinals 1..N, not MAISI ids: ordinal k is the k-th name of the effective anatomy "
    "list (the controllable names in Path A, else anatomy_list). Every other structure, body included unless "
    "listed, is 0. output.output_label_mapping gives ordinal -> MAISI id."
)
SEED_CAVEAT = (
    "Upstream receives the seed as a string: torch/numpy/python RNGs are seeded, but Path-B mask augmentation "
    "seeds from an object id, so Path-B runs are not bit-reproducible."
)


class LabelMappingEntry(FrozenModel):
    """One output ordinal and the MAISI class it stands for."""

    output_label_id: int
    maisi_label_id: int
    anatomy: str


class ClassVolume(FrozenModel):
    """Voxel count and volume of one label present in a saved label map."""

    output_label_id: int
    maisi_label_id: int | None = Field(description="None when the ordinal is not in the mapping.")
    anatomy: str | None
    voxel_count: int
    volume_ml: float


class SampleEvidence(FrozenModel):
    """Everything measured on one saved image/label pair, from one read of each file."""

    image_path: Path
    label_path: Path
    image: Artifact | None = None
    label: Artifact | None = None
    is_image_readable: bool
    is_label_readable: bool
    image_error: str | None = None
    label_error: str | None = None
    image_dtype: str | None = None
    label_dtype: str | None = None
    image_geometry: Geometry | None = None
    label_geometry: Geometry | None = None
    geometry_match: GeometryComparison | None = None
    intensity: IntensitySummary | None = None
    has_hu_below_minus_500: bool = False
    has_hu_above_200: bool = False
    is_nonconstant: bool = False
    label_ids_present: list[int] = Field(default_factory=list)
    label_foreground_voxels: int = 0
    label_background_voxels: int = 0
    class_volumes: list[ClassVolume] = Field(default_factory=list)

    @property
    def is_pair_readable(self) -> bool:
        """Both files read and the label map is integral."""
        return self.is_image_readable and self.is_label_readable


class AnatomySizeCondition(FrozenModel):
    """Path A's 10-slot size vector, as upstream computes it from the stored conditions database."""

    slots: list[str]
    values: list[float]
    requested: dict[str, float]
    database_path: Path
    note: str = "nearest stored condition by L1 distance over the requested slots, then requested slots overwritten"


class ModelSection(FrozenModel):
    """Which model ran, where its code and weights come from, under which licences (from ``core.assets``)."""

    name: str
    version: CTVersion
    upstream_repo: str
    pinned_upstream_commit: str
    weights_repos: list[str]
    weights_revision: str | None
    licences: list[str]


class CTRequestSection(FrozenModel):
    """What was asked: the raw overrides and, when valid, the effective settings."""

    config_path: Path | None
    config_overrides: dict[str, JsonValue]
    version: CTVersion
    random_seed: int
    seed_caveat: str = SEED_CAVEAT
    is_preflight_only: bool
    timeout_seconds: float
    settings: InferenceSettings | None = None
    anatomy_list_requested: list[str] = Field(default_factory=list)
    effective_anatomy_for_output: list[str] = Field(default_factory=list)
    mask_path: MaskPath | None = None
    expected_output_label_mapping: list[LabelMappingEntry] = Field(
        default_factory=list, description="Known before the run: saved ordinal -> MAISI id -> name (in Path A "
        "the controllable names, in order; else anatomy_list).")
    paired_output_label_semantics: str = LABEL_SEMANTICS


class CTOutputSection(FrozenModel):
    """What came out, checked file by file."""

    directory: Path
    samples: list[SampleEvidence]
    num_samples: int
    ignored_files: list[Path] = Field(default_factory=list, description="Volumes in OUT not written by this run.")
    is_all_pairs_readable: bool
    is_all_geometry_consistent: bool
    has_any_foreground: bool
    is_all_images_nonconstant: bool
    is_all_images_hu_like: bool
    union_label_ids_present: list[int]
    output_label_mapping: list[LabelMappingEntry]
    expected_output_label_ids: list[int]
    expected_maisi_label_ids: list[int]
    missing_expected_output_label_ids: list[int]
    is_all_expected_labels_present: bool
    mask_path: MaskPath
    anatomy_size_condition: AnatomySizeCondition | None = None
    quality_check_failures: list[str] = Field(default_factory=list)
    peak_gpu_memory_gb: float | None = None
    staged_inference_config: Path
    staged_environment_config: Path
    staging_corrections: list[str] = Field(default_factory=list)


class CTSynthesisRecord(RunRecord):
    """``result.json`` of ``synth ct``: the base record plus typed request and output sections."""

    skill: SkillId = SkillId.SYNTH_CT
    model: ModelSection
    request: CTRequestSection
    output: CTOutputSection | None = None
