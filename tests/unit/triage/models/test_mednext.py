"""MedNeXt member: the Celsus MedNeXt3DClassifier layout and outputs, classes from the pack, optional body crop."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from medskills.core.errors import ModelPackError
from medskills.triage.models import UnavailableMember
from medskills.core.io import sha256_file
from medskills.triage.models.mednext import MedNeXtMember, build_mednext_classifier, celsus_to_monai_keys
from medskills.triage.pack_manifest import MedNeXtArchitecture
from medskills.triage.preprocessing import StudyInputs
from triage_models_support.builders import load_single_member, synthetic_volume, tiny_mednext_member
from triage_models_support.golden import GOLDEN_DIR, layout_state_dict, read_golden, seeded_input


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


# --- fidelity to the original code (Celsus_PLI MedNeXt3DClassifier, see golden/) ---


def _golden_member(root: Path, name: str, checkpoint_state: dict[str, object] | None = None) -> MedNeXtMember:
    import torch

    golden = read_golden(name)
    checkpoint = root / f"{name}.pt"
    if checkpoint_state is None:
        shutil.copyfile(GOLDEN_DIR / f"{name}_celsus_state.pt", checkpoint)
    else:
        torch.save(checkpoint_state, checkpoint)
    entry = {
        "kind": "mednext",
        "checkpoint": {"path": checkpoint.name, "sha256": sha256_file(checkpoint)},
        "classes": golden["classes"],
        "architecture": golden["config"],
    }
    member = load_single_member(root, entry)
    assert isinstance(member, MedNeXtMember)
    return member


@pytest.mark.parametrize(("name", "file_saved_by_the_original"), [("mednext", True), ("mednext_grn", False)])
def test_golden_logits_equal_the_original_classifier(
    tmp_pack_root: Path, name: str, file_saved_by_the_original: bool
) -> None:
    """The state dict the original saved (or one laid out as it saves) loads strictly and gives its logits."""
    import torch

    golden = read_golden(name)
    state = None
    if not file_saved_by_the_original:
        layout = layout_state_dict(golden["state_dict_layout"], golden["weight_seed"])
        state = {"model_state": {f"module.{key}": value for key, value in layout.items()}}
    member = _golden_member(tmp_pack_root, name, state)
    with torch.inference_mode():
        logits = member.network(seeded_input(golden["input_shape"], golden["input_seed"]))[0]
    np.testing.assert_allclose(logits.numpy(), golden["expected"]["logits"], atol=golden["tolerance"]["logit_abs"])


def test_default_layout_is_the_celsus_layout() -> None:
    """Pins the Celsus layout: 3x3x3 stride-2 stem, stages.N, downsamples.N with res_conv, classifier.1."""
    import torch

    celsus = read_golden("mednext_celsus_default_layout")["keys"]
    with torch.device("meta"):
        network = build_mednext_classifier(MedNeXtArchitecture(), 22)
    ours = {key: list(value.shape) for key, value in network.state_dict().items()}
    assert len(celsus) == 124 and ours == celsus
    assert ours["stem.weight"] == [32, 1, 3, 3, 3]
    assert network.stem.stride == (2, 2, 2) and network.stem.padding == (0, 0, 0)


def test_grn_parameters_load_under_their_celsus_names() -> None:
    celsus = {"module.stages.0.0.grn_gamma": 1, "module.downsamples.0.grn_beta": 2, "stem.bias": 3}
    renamed = celsus_to_monai_keys(celsus)
    assert renamed == {"stages.0.0.global_resp_gamma": 1, "downsamples.0.global_resp_beta": 2, "stem.bias": 3}


def test_checkpoint_in_another_layout_is_refused_naming_the_keys(tmp_pack_root: Path) -> None:
    golden = read_golden("mednext")
    layout = layout_state_dict(golden["state_dict_layout"], golden["weight_seed"])
    foreign = {key.replace("stages.", "encoder.enc_stages."): value for key, value in layout.items()}
    with pytest.raises(ModelPackError, match=r"missing .*stages\.0\.0\.conv1\.bias.*unexpected .*encoder\.enc_stages"):
        _golden_member(tmp_pack_root, "mednext", foreign)


def test_expansion_ratio_needs_one_entry_per_stage() -> None:
    with pytest.raises(ValueError, match="one entry per stage"):
        MedNeXtArchitecture(depth_config=(1, 1), expansion_ratio=(2,))
