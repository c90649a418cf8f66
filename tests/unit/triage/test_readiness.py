"""Triage service readiness as doctor reads it: no pack, a broken pack, a members-only pack."""

from __future__ import annotations

from pathlib import Path

from medskills.triage.readiness import EXTRA_MODULES, check_service_readiness
from triage_models_support.builders import tiny_astra_member, write_pack


def test_without_a_pack_the_built_in_pack_is_what_the_service_would_serve() -> None:
    from medskills.triage.default_pack import is_astra_installed

    readiness = check_service_readiness(None)
    assert readiness.is_builtin_pack and readiness.pack_dir is None and not readiness.has_stacker
    assert readiness.members == (["qct", "astra"] if is_astra_installed() else ["qct"])
    assert readiness.model_version is not None and readiness.model_version.startswith("builtin-default")


def test_without_a_pack_and_the_built_in_pack_off_only_the_extras_are_checked() -> None:
    readiness = check_service_readiness(None, is_builtin_allowed=False)
    assert not readiness.is_builtin_pack and readiness.pack_problem is None and readiness.members == []
    assert set(readiness.missing_modules) <= set(EXTRA_MODULES)


def test_a_pack_whose_weight_changed_is_a_problem_that_names_the_file(tmp_path: Path) -> None:
    root = tmp_path / "pack"
    root.mkdir()
    write_pack(root, {"model_version": "v1", "members": [tiny_astra_member(root)]})
    (root / "astra_encoder.pt").write_bytes(b"not the weights")
    readiness = check_service_readiness(root)
    assert readiness.pack_problem is not None and "astra_encoder.pt" in readiness.pack_problem


def test_a_members_only_pack_lists_its_members_and_no_stacker(tmp_path: Path) -> None:
    root = tmp_path / "pack"
    root.mkdir()
    write_pack(root, {"model_version": "v1", "members": [tiny_astra_member(root), tiny_astra_member(root, name="b")]})
    readiness = check_service_readiness(root)
    assert readiness.pack_problem is None and readiness.members == ["astra", "b"] and not readiness.has_stacker
    assert readiness.model_version == "v1"
