"""Astra member with a tiny random I3ResNet in the published key layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from medskills.core.errors import ModelPackError
from medskills.triage.models import UnavailableMember, load_member
from medskills.triage.models._i3resnet import build_i3resnet
from medskills.triage.models.astra import AstraMember, NormalReference, astra_feature_names, fit_normal_reference
from medskills.triage.pack import load_pack
from medskills.triage.pack_manifest import I3ResNetArchitecture
from medskills.triage.preprocessing import StudyInputs
from triage_models_support.builders import TINY_I3RESNET, synthetic_volume, tiny_astra_member, write_pack


def _member(root: Path, **kwargs: object) -> AstraMember | UnavailableMember:
    write_pack(root, {"model_version": "v1", "members": [tiny_astra_member(root, **kwargs)]})
    pack = load_pack(root, require_stacker=False)
    return load_member(pack, pack.manifest.members[0])  # type: ignore[return-value]


def test_full_size_definition_matches_the_published_astra_layout() -> None:
    state = build_i3resnet(I3ResNetArchitecture()).state_dict()
    assert len(state) == 930
    assert tuple(state["conv1.weight"].shape) == (64, 3, 3, 7, 7)
    assert tuple(state["layer3.35.conv2.weight"].shape) == (256, 256, 3, 3, 3)
    assert tuple(state["layer4.0.downsample.0.weight"].shape) == (2048, 1024, 1, 1, 1)
    assert sum(v.numel() for v in state.values() if v.is_floating_point()) == 117_517_632


def test_astra_member_gives_named_finite_deterministic_features(tmp_pack_root: Path) -> None:
    member = _member(tmp_pack_root, with_reference=True)
    assert isinstance(member, AstraMember)
    names = member.feature_names
    assert len(names) == TINY_I3RESNET.embedding_dim + 1
    assert names[0] == "astra_embedding_0000" and names[-1] == "astra_atypicality"
    volume = synthetic_volume()
    first = member.compute(StudyInputs(volume))
    second = member.compute(StudyInputs(volume))
    assert first.shape == (len(names),) and np.all(np.isfinite(first))
    np.testing.assert_array_equal(first, second)
    assert first[-1] == pytest.approx(np.linalg.norm(first[:-1]))  # identity precision, zero mean


def test_atypicality_is_nan_without_a_normal_reference(tmp_pack_root: Path) -> None:
    values = _member(tmp_pack_root).compute(StudyInputs(synthetic_volume()))
    assert np.isnan(values[-1]) and np.all(np.isfinite(values[:-1]))


def test_missing_astra_weights_give_an_unavailable_member_with_nan(tmp_pack_root: Path) -> None:
    write_pack(tmp_pack_root, {"model_version": "v1", "members": [tiny_astra_member(tmp_pack_root)]})
    (tmp_pack_root / "astra_encoder.pt").unlink()
    pack = load_pack(tmp_pack_root, require_stacker=False)
    member = load_member(pack, pack.manifest.members[0])
    assert isinstance(member, UnavailableMember)
    assert np.all(np.isnan(member.compute(StudyInputs(synthetic_volume()))))


def test_weights_with_a_different_layout_are_refused(tmp_pack_root: Path) -> None:
    entry = tiny_astra_member(tmp_pack_root)
    entry["architecture"] = {"blocks_per_layer": [1, 1, 2, 1], "base_channels": 4}
    write_pack(tmp_pack_root, {"model_version": "v1", "members": [entry]})
    pack = load_pack(tmp_pack_root, require_stacker=False)
    with pytest.raises(ModelPackError, match="missing"):
        load_member(pack, pack.manifest.members[0])


def test_weights_holding_pickled_objects_are_refused(tmp_pack_root: Path) -> None:
    entry = tiny_astra_member(tmp_pack_root)
    weights = tmp_pack_root / "astra_encoder.pt"
    torch.save({"state_dict": {}, "meta": Path("/tmp")}, weights)  # a Path is not weights-only safe
    from medskills.triage.pack import hash_path

    entry["encoder"] = {"path": weights.name, "sha256": hash_path(weights)}
    write_pack(tmp_pack_root, {"model_version": "v1", "members": [entry]})
    pack = load_pack(tmp_pack_root, require_stacker=False)
    with pytest.raises(ModelPackError, match="weights_only"):
        load_member(pack, pack.manifest.members[0])


def test_fit_normal_reference_scores_outliers_higher() -> None:
    rng = np.random.default_rng(0)
    normals = rng.normal(size=(50, 8))
    reference = fit_normal_reference(normals)
    assert reference.distance(np.full(8, 6.0)) > reference.distance(np.zeros(8))


def test_normal_reference_roundtrips_through_npz(tmp_path: Path) -> None:
    reference = fit_normal_reference(np.random.default_rng(1).normal(size=(30, 4)))
    loaded = NormalReference.read(reference.write(tmp_path / "ref.npz"), dim=4)
    np.testing.assert_array_equal(loaded.precision, reference.precision)
    with pytest.raises(ModelPackError, match=r"expected \(8,\)"):
        NormalReference.read(tmp_path / "ref.npz", dim=8)


def test_feature_names_follow_the_member_name() -> None:
    from medskills.triage.pack_manifest import AstraMemberSpec

    spec = AstraMemberSpec(name="astra2", encoder={"path": "x.pt", "sha256": "0" * 64})
    assert astra_feature_names(spec)[0] == "astra2_embedding_0000" and len(astra_feature_names(spec)) == 2049
