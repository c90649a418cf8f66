"""One SkillId: canonical names, and every legacy record or seed name read as its alias."""

from __future__ import annotations

import pytest

from medskills.core.skills import SKILL_ALIASES, CTSynthesisMode, SkillId


@pytest.mark.parametrize(("legacy", "skill"), [
    ("nv-generate-ct-rflow", SkillId.SYNTH_CT), ("nv_generate_ct_from_mask", SkillId.SYNTH_CT),
    ("nv_generate_ct", SkillId.SYNTH_CT), ("nv_generate_mr", SkillId.SYNTH_MR_BRAIN),
    ("nv-generate-mr-brain", SkillId.SYNTH_MR_BRAIN), ("nv_segment_ctmr", SkillId.SEGMENT_CTMR),
])
def test_a_legacy_skill_name_reads_as_its_canonical_skill(legacy: str, skill: SkillId) -> None:
    assert SkillId(legacy) is skill


def test_skill_names_are_case_insensitive_and_canonical_values_are_what_is_written() -> None:
    assert SkillId("SYNTH-CT") is SkillId.SYNTH_CT
    assert str(SkillId("nv_generate_ct_rflow")) == "synth-ct"


def test_an_unknown_skill_name_is_refused() -> None:
    with pytest.raises(ValueError, match="not a valid SkillId"):
        SkillId("nv_generate_pet")


def test_every_alias_names_a_member_and_no_alias_shadows_a_canonical_value() -> None:
    assert set(SKILL_ALIASES.values()) <= set(SkillId)
    assert not set(SKILL_ALIASES) & {member.value for member in SkillId}


def test_each_ct_synthesis_mode_is_the_synth_command_that_writes_it() -> None:
    import typer

    from medskills.cli import app
    from medskills.synthesis.ct_from_mask.record import CTFromMaskRecord
    from medskills.synthesis.ct_image.record import CTImageRecord
    from medskills.synthesis.ct_mask.record import CTMaskRecord

    synth = typer.main.get_command(app).commands["synth"].commands  # type: ignore[attr-defined]
    assert {str(mode) for mode in CTSynthesisMode} <= set(synth)
    writers = {CTMaskRecord: CTSynthesisMode.CT_MASK, CTImageRecord: CTSynthesisMode.CT_IMAGE,
               CTFromMaskRecord: CTSynthesisMode.CT_FROM_MASK}
    assert {record: record.model_fields["mode"].default for record in writers} == writers
