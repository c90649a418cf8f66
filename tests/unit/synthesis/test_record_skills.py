"""Synthesis records write the canonical SkillId and still read the names earlier records carry."""

from __future__ import annotations

import pytest

from medskills.core.skills import SkillId
from medskills.synthesis.ct_from_mask.record import CTFromMaskRecord
from medskills.synthesis.ct_image.record import CTImageRecord
from medskills.synthesis.ct_mask.record import CTMaskRecord
from medskills.synthesis.mr_brain.record import MRBrainRecord
from medskills.synthesis.paired_ct.record import CTSynthesisRecord

RECORDS = [(CTSynthesisRecord, SkillId.SYNTH_CT), (CTMaskRecord, SkillId.SYNTH_CT),
           (CTFromMaskRecord, SkillId.SYNTH_CT), (CTImageRecord, SkillId.SYNTH_CT),
           (MRBrainRecord, SkillId.SYNTH_MR_BRAIN)]


@pytest.mark.parametrize(("record", "skill"), RECORDS)
def test_record_default_skill_is_the_canonical_skill_id(record: type, skill: SkillId) -> None:
    assert record.model_fields["skill"].default is skill
    assert record.model_fields["skill"].annotation in (SkillId, "SkillId")


@pytest.mark.parametrize("legacy", ["nv-generate-ct-rflow", "nv_generate_ct", "NV_GENERATE_CT_RFLOW"])
def test_record_skill_reads_legacy_names_as_synth_ct(legacy: str) -> None:
    validated = CTSynthesisRecord.__pydantic_validator__.validate_assignment(
        CTSynthesisRecord.model_construct(), "skill", legacy)
    assert validated.skill is SkillId.SYNTH_CT


def test_record_skill_refuses_an_unknown_skill() -> None:
    with pytest.raises(ValueError, match="skill"):
        CTSynthesisRecord.__pydantic_validator__.validate_assignment(
            CTSynthesisRecord.model_construct(), "skill", "segment-brain")
