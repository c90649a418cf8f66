"""The skills medskills runs: one closed set, with the names older records and seeds used as aliases.

Records write the canonical value (``synth-ct``, ``synth-mr-brain``, ``segment-ctmr``), which is also
the name ``medskills setup`` and ``doctor --skill`` take. Reading accepts every name a record of an
earlier medskills, the seed scripts or the reference verifiers wrote, so ``SkillId("nv_generate_ct")``
is ``SkillId.SYNTH_CT``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["SKILL_ALIASES", "CTSynthesisMode", "SkillId"]


class SkillId(StrEnum):
    """A skill: what a run record's ``skill`` names and what the asset manifest is keyed by."""

    SYNTH_CT = "synth-ct"
    SYNTH_MR_BRAIN = "synth-mr-brain"
    SEGMENT_CTMR = "segment-ctmr"

    @classmethod
    def _missing_(cls, value: object) -> SkillId | None:
        """Accept a legacy name (underscore or ``nv-`` prefixed) and any letter case."""
        if not isinstance(value, str):
            return None
        name = value.strip().lower()
        for member in cls:
            if name == member.value:
                return member
        return SKILL_ALIASES.get(name)


class CTSynthesisMode(StrEnum):
    """Which single-purpose ``synth`` command wrote a ``synth-ct`` record (its ``mode``).

    The paired run (``synth ct``) writes no mode; ``verify ct-synthesis`` grades only that one.
    """

    CT_MASK = "ct-mask"
    CT_IMAGE = "ct-image"
    CT_FROM_MASK = "ct-from-mask"


SKILL_ALIASES: dict[str, SkillId] = {
    # medskills records before the one SkillId (prefixed names)
    "nv-generate-ct-rflow": SkillId.SYNTH_CT,
    "nv-generate-mr-brain": SkillId.SYNTH_MR_BRAIN,
    "nv-segment-ctmr": SkillId.SEGMENT_CTMR,
    # the seed scripts and reference verifiers (underscore names)
    "nv_generate_ct_rflow": SkillId.SYNTH_CT,
    "nv_generate_ct_from_mask": SkillId.SYNTH_CT,
    "nv_generate_ct": SkillId.SYNTH_CT,
    "nv_generate_mr_brain": SkillId.SYNTH_MR_BRAIN,
    "nv_generate_mr": SkillId.SYNTH_MR_BRAIN,
    "nv_segment_ctmr": SkillId.SEGMENT_CTMR,
}
