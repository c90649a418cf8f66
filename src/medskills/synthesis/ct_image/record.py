"""The record of one ``synth ct-image`` run (``OUT/result.json``)."""

from __future__ import annotations

from typing import Any, Literal

from medskills.core.models import RunRecord
from medskills.core.skills import CTSynthesisMode, SkillId
from medskills.synthesis.diff_model.staging import DIFF_MODEL_ENTRYPOINT, DiffModelInference, StagedDiffModel
from medskills.synthesis.nv_generate.ct_inference import CTVersion
from medskills.synthesis.nv_generate.image_evidence import ImageOutputSummary

__all__ = ["CTImageRecord"]



class CTImageRecord(RunRecord):
    """Evidence of one CT image-only run."""

    skill: SkillId = SkillId.SYNTH_CT
    mode: Literal[CTSynthesisMode.CT_IMAGE] = CTSynthesisMode.CT_IMAGE
    version: CTVersion
    entrypoint: str = f"python -m {DIFF_MODEL_ENTRYPOINT}"
    overrides: dict[str, Any]
    defaults_source: str
    inference: DiffModelInference | None = None
    staging: StagedDiffModel | None = None
    output: ImageOutputSummary | None = None
