"""MedNeXt member: MONAI encoder + pooled linear head, classes from the pack, optional body crop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medskills.core.errors import ModelPackError
from medskills.triage.models import UnavailableMember
from medskills.triage.models.mednext import MedNeXtMember
from medskills.triage.preprocessing import StudyInputs
from triage_models_support.builders import load_single_member, synthetic_volume, tiny_mednext_member


def test_mednext_member_gives_pack_named_probabilities(tmp_pack_root: Path) -> None:
    member = load_single_member(tmp_pack_root, tiny_mednext_member(tmp_pack_root))
    assert isinstance(member, MedNeXtMember)
    assert member.feature_names == (
        "mednext_normal",
        "mednext_pneumothorax",
        "mednext_cancer",
        "mednext_mean_probability",
        "mednext_max_probability",
        "mednext_top3_mean",
    )
    values = member.compute(StudyInputs(synthetic_volume()))
    assert values.shape == (6,) and np.all((values >= 0) & (values <= 1))
    assert values[3] == pytest.approx(values[1:3].mean())  # aggregates skip "normal"


def test_softmax_activation_sums_to_one(tmp_pack_root: Path) -> None:
    entry = tiny_mednext_member(tmp_pack_root) | {"probability_activation": "softmax"}
    member = load_single_member(tmp_pack_root, entry)
    assert isinstance(member, MedNeXtMember)
    assert member.compute(StudyInputs(synthetic_volume()))[:3].sum() == pytest.approx(1.0)


def test_class_count_mismatch_with_the_checkpoint_is_refused(tmp_pack_root: Path) -> None:
    entry = tiny_mednext_member(tmp_pack_root) | {"classes": ["a", "b"]}
    with pytest.raises(ModelPackError, match="wrong shape"):
        load_single_member(tmp_pack_root, entry)


def test_missing_checkpoint_gives_nan_features(tmp_pack_root: Path) -> None:
    entry = tiny_mednext_member(tmp_pack_root)
    (tmp_pack_root / "mednext.pt").unlink()
    member = load_single_member(tmp_pack_root, entry)
    assert isinstance(member, UnavailableMember)
    assert np.all(np.isnan(member.compute(StudyInputs(synthetic_volume()))))


def test_crop_by_body_part_uses_the_shared_body_mask(tmp_pack_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import medskills.triage.chest

    calls = []
    original = medskills.triage.chest.body_mask
    monkeypatch.setattr(medskills.triage.chest, "body_mask", lambda volume: calls.append(volume) or original(volume))
    member = load_single_member(tmp_pack_root, tiny_mednext_member(tmp_pack_root, crop_by_body_part=True))
    assert isinstance(member, MedNeXtMember)
    assert np.all(np.isfinite(member.compute(StudyInputs(synthetic_volume()))))
    assert len(calls) == 1
