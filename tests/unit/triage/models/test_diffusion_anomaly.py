"""The diffusion anomaly member is declared, not implemented: unavailable, three NaN features, the reason."""

from __future__ import annotations

import numpy as np

from dicom_support.builders import chest_phantom
from medskills.triage.models.diffusion_anomaly import diffusion_feature_names, load_diffusion_anomaly_member
from medskills.triage.pack_manifest import DiffusionAnomalyMemberSpec
from medskills.triage.preprocessing import StudyInputs


def test_three_slice_statistics_named_after_the_member() -> None:
    assert diffusion_feature_names(DiffusionAnomalyMemberSpec(name="dad")) == (
        "dad_classifier_mean_probability", "dad_classifier_max_probability", "dad_classifier_std_probability")


def test_the_member_gives_nan_never_zero_and_says_why() -> None:
    member = load_diffusion_anomaly_member(None, DiffusionAnomalyMemberSpec())  # the pack is never read
    values = member.compute(StudyInputs(chest_phantom(slices=20, lung_slices=(2, 18))))
    assert values.shape == (3,) and np.isnan(values).all()
    assert "not implemented" in member.reason and member.finding_sources == {}
