"""The record of one ``synth ct-from-mask`` run (``OUT/result.json``) and its resolved request."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from medskills.core.models import FrozenModel, RunRecord
from medskills.core.skills import CTSynthesisMode, SkillId
from medskills.synthesis.nv_generate.ct_inference import CTVersion
from medskills.synthesis.nv_generate.image_evidence import ImageOutputSummary
from medskills.synthesis.nv_generate.user_mask import MaskEvidence
from medskills.synthesis.nv_generate.user_mask import SourceLabels

__all__ = ["CT_FROM_MASK_ENTRYPOINT", "CTFromMaskRequestEvidence", "CTFromMaskRecord"]


CT_FROM_MASK_ENTRYPOINT = "scripts.infer_image_from_mask"


class CTFromMaskRequestEvidence(FrozenModel):
    """The request as resolved."""

    request_path: Path
    mask_path: Path
    overrides: dict[str, Any]
    source_labels: SourceLabels
    body_envelope_ct: Path | None
    allow_missing_body_label: bool
    random_seed: int
    num_inference_steps: int | None
    cfg_guidance_scale: float | None
    version: CTVersion = CTVersion.RFLOW_CT


class CTFromMaskRecord(RunRecord):
    """Evidence of one CT-from-mask run."""

    skill: SkillId = SkillId.SYNTH_CT
    mode: Literal[CTSynthesisMode.CT_FROM_MASK] = CTSynthesisMode.CT_FROM_MASK
    entrypoint: str = f"python -m {CT_FROM_MASK_ENTRYPOINT}"
    request: CTFromMaskRequestEvidence
    mask: MaskEvidence | None = None
    upstream_mask_path: Path | None = None
    staged_config_paths: list[Path] = []
    output: ImageOutputSummary | None = None
