"""The record of one ``synth ct-mask`` run (``OUT/result.json``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from medskills.core.models import FrozenModel, RunRecord
from medskills.core.skills import CTSynthesisMode, SkillId
from medskills.synthesis.ct_mask.evidence import MaskOutputSummary
from medskills.synthesis.paired_ct.record import AnatomySizeCondition

__all__ = ["MASK_RUNNER_MODULE", "UPSTREAM_FUNCTION", "ExpectedLabel", "CTMaskRecord"]


MASK_RUNNER_MODULE = "medskills.synthesis.ct_mask._runner"

UPSTREAM_FUNCTION = "scripts.sample_mask.ldm_conditional_sample_one_mask"


class ExpectedLabel(FrozenModel):
    """A requested anatomy and the MAISI id its voxels must carry."""

    anatomy: str
    maisi_label_id: int


class CTMaskRecord(RunRecord):
    """Evidence of one mask-only run."""

    skill: SkillId = SkillId.SYNTH_CT
    mode: Literal[CTSynthesisMode.CT_MASK] = CTSynthesisMode.CT_MASK
    entrypoint: str = UPSTREAM_FUNCTION
    runner_module: str = MASK_RUNNER_MODULE
    overrides: dict[str, Any]
    random_seed: int
    controllable_anatomy_size: list[tuple[str, float]] = []
    anatomy_size_condition: AnatomySizeCondition | None = None
    expected_labels: list[ExpectedLabel] = []
    job_path: Path | None = None
    output: MaskOutputSummary | None = None
