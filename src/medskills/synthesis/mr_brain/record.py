"""The record of one ``synth mr-brain`` run (``OUT/result.json``) and its resolved request."""

from __future__ import annotations

from pathlib import Path

from medskills.core.skills import SkillId
from medskills.core.models import FrozenModel, RunRecord
from medskills.synthesis.diff_model.staging import DIFF_MODEL_ENTRYPOINT, StagedDiffModel
from medskills.core.mr_brain_modality import MRBrainModality
from medskills.synthesis.mr_brain.request import MR_BRAIN_VERSION
from medskills.synthesis.nv_generate.image_evidence import ImageOutputSummary

__all__ = ["MRBrainRequestEvidence", "MRBrainRecord"]




class MRBrainRequestEvidence(FrozenModel):
    """The request as resolved: overrides given, modality, the rendered settings and their sources."""

    config_path: Path | None
    overrides: dict[str, object]
    modality_name: MRBrainModality | None
    modality_id: int | None
    dim_requested: tuple[int, int, int] | None
    spacing_requested_mm: tuple[float, float, float] | None
    num_inference_steps: int | None
    cfg_guidance_scale: float | None
    upstream_default_cfg_guidance_scale: float
    defaults_source: str
    random_seed: int
    version: str = MR_BRAIN_VERSION


class MRBrainRecord(RunRecord):
    """Evidence of one MR-brain run (``OUT/result.json``)."""

    skill: SkillId = SkillId.SYNTH_MR_BRAIN
    version: str = MR_BRAIN_VERSION
    entrypoint: str = f"python -m {DIFF_MODEL_ENTRYPOINT}"
    request: MRBrainRequestEvidence
    staging: StagedDiffModel | None = None
    output: ImageOutputSummary | None = None
