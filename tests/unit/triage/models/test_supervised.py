"""Supervised head member: classes from checkpoint or pack, sigmoid probabilities, strict layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medskills.core.errors import ModelPackError
from medskills.triage.models.supervised import SupervisedMember
from medskills.triage.preprocessing import StudyInputs
from triage_models_support.builders import load_single_member, synthetic_volume
from triage_models_support.ctclip_builders import tiny_supervised_member


def test_classes_come_from_the_checkpoint(tmp_pack_root: Path) -> None:
    member = load_single_member(tmp_pack_root, tiny_supervised_member(tmp_pack_root))
    assert isinstance(member, SupervisedMember)
    assert member.classes == ("pneumothorax", "cancer", "normal")
    values = member.compute(StudyInputs(synthetic_volume()))
    assert member.feature_names[:3] == ("supervised_pneumothorax", "supervised_cancer", "supervised_normal")
    assert values.shape == (6,) and np.all((values >= 0) & (values <= 1))
    assert values[4] == pytest.approx(values[:2].max())  # max excludes "normal"


def test_pack_classes_override_the_checkpoint(tmp_pack_root: Path) -> None:
    entry = tiny_supervised_member(tmp_pack_root)
    entry["classes"] = ["a", "b", "c"]
    member = load_single_member(tmp_pack_root, entry)
    assert isinstance(member, SupervisedMember) and member.classes == ("a", "b", "c")


def test_missing_class_list_is_refused_with_a_fix(tmp_pack_root: Path) -> None:
    entry = tiny_supervised_member(tmp_pack_root, classes=None)
    with pytest.raises(ModelPackError, match="list the class names in pack.yaml"):
        load_single_member(tmp_pack_root, entry)


def test_class_count_must_match_the_head(tmp_pack_root: Path) -> None:
    entry = tiny_supervised_member(tmp_pack_root)
    entry["classes"] = ["only_one"]
    with pytest.raises(ModelPackError, match="wrong shape"):
        load_single_member(tmp_pack_root, entry)
