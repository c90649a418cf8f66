"""Supervised head member: the original classifier's outputs, classes from checkpoint or pack, strict layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medskills.core.errors import ModelPackError
from medskills.triage.pack import hash_path
from medskills.triage.models.supervised import SupervisedMember
from medskills.triage.preprocessing import StudyInputs
from triage_models_support.builders import load_single_member, synthetic_volume
from triage_models_support.ctclip_builders import tiny_supervised_member
from triage_models_support.golden import layout_state_dict, read_golden, seeded_input


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


# --- fidelity to the original code (expected numbers from Celsus_PLI SimpleCTCLIPClassifier, see golden/) ---

GOLDEN = read_golden("supervised")


def test_golden_probabilities_equal_the_original_classifier(tmp_pack_root: Path) -> None:
    """A state dict laid out as SimpleCTCLIPClassifier saves it loads strictly and gives its outputs."""
    import torch

    checkpoint = tmp_pack_root / "supervised.pt"
    torch.save(layout_state_dict(GOLDEN["state_dict_layout"], GOLDEN["weight_seed"]), checkpoint)
    entry = {
        "kind": "supervised",
        "checkpoint": {"path": checkpoint.name, "sha256": hash_path(checkpoint)},
        "classes": GOLDEN["classes"],
        "architecture": GOLDEN["config"],
    }
    member = load_single_member(tmp_pack_root, entry)
    assert isinstance(member, SupervisedMember)
    with torch.inference_mode():
        latent = member.image_tower(seeded_input(GOLDEN["input_shape"], GOLDEN["input_seed"]))[0]
    np.testing.assert_allclose(
        member.probabilities(latent), GOLDEN["expected"]["probabilities"], atol=GOLDEN["tolerance"]["probability_abs"]
    )


def test_supervised_tower_takes_attention_keys_and_values_before_the_norm(tmp_pack_root: Path) -> None:
    """Pins the behaviour that differed: the shared tower's attention norm gain reaches only the queries."""
    import torch

    member = load_single_member(tmp_pack_root, tiny_supervised_member(tmp_pack_root))
    assert isinstance(member, SupervisedMember)
    volume = torch.randn(1, 1, 8, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        before = member.image_tower.visual_transformer.encode(volume)
        for module in member.image_tower.modules():
            if type(module).__name__ == "CosineAttention":
                module.norm.gamma.mul_(3.0)
        after = member.image_tower.visual_transformer.encode(volume)
    torch.testing.assert_close(after, before)
