"""fVLM is declared, not implemented: its member is always unavailable, says so, and gives NaN (never 0)."""

from __future__ import annotations

import numpy as np

from dicom_support.builders import chest_phantom
from medskills.triage.models.fvlm import FVLM_FINDINGS, fvlm_feature_names, load_fvlm_member
from medskills.triage.pack_manifest import FVLMMemberSpec
from medskills.triage.preprocessing import StudyInputs


def test_feature_names_are_one_per_finding_then_the_aggregates() -> None:
    names = fvlm_feature_names(FVLMMemberSpec(name="organs"))
    assert len(FVLM_FINDINGS) == 18 and len(names) == 21 and len(set(names)) == 21
    assert all(name.startswith("organs_") for name in names)
    assert names[-3:] == ("organs_mean_probability", "organs_max_probability", "organs_top3_mean")


def test_the_member_is_unavailable_with_nan_features_and_maps_features_to_findings() -> None:
    spec = FVLMMemberSpec()
    member = load_fvlm_member(None, spec)  # the pack is never read: nothing is implemented to load
    values = member.compute(StudyInputs(chest_phantom(slices=20, lung_slices=(2, 18))))
    assert values.shape == (21,) and np.isnan(values).all()
    assert "not implemented" in member.reason
    assert sorted(member.finding_sources.values()) == sorted(FVLM_FINDINGS)
    assert set(member.finding_sources) <= set(member.feature_names)
