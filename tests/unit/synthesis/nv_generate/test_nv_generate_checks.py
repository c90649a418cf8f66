"""NV-Generate-CTMR readiness checks: root, pinned commit, requirements, weights, configs, value rules, environment.

Roots are writable copies of the real upstream snapshot (``standin_upstream.snapshot``) or small folders
holding only the file a check reads; every finding is checked for its code, severity, field and fix.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from medskills.core.assets import resolve_version, sha256_pins, weight_paths
from medskills.core.io import sha256_file
from medskills.core.models import Check, Severity
from medskills.core.preflight import PreflightCollector
from medskills.core.provenance import GitState
from medskills.core.settings import Settings, load_settings
from medskills.core.skills import SkillId
from medskills.synthesis.diff_model.staging import diff_model_facts
from medskills.synthesis.nv_generate import checks
from medskills.synthesis.nv_generate.checks import (
    check_diff_model_weights,
    check_guidance,
    check_steps,
    check_upstream_commit,
    check_upstream_requirements,
    check_weight_files,
    check_weights,
    is_finite_number,
    is_integer_value,
    read_config_infer,
    resolve_generate_root,
    run_environment,
)
from medskills.synthesis.nv_generate.ct_inference import DEFAULT_CONFIG_INFER
from medskills.synthesis.nv_generate.staging import CUDA_ALLOC_CONF
from standin_upstream.snapshot import copy_snapshot, nv_generate_snapshot, write_fake_assets  # noqa: F401

PINNED_COMMIT = resolve_version(SkillId.SYNTH_CT, "rflow-ct").upstream_commit
CT_FACTS = diff_model_facts("rflow-ct")
_GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}


@pytest.fixture
def settings() -> Settings:
    """Settings from the isolated test environment (weight hash cache under pytest's temp folder)."""
    return load_settings()


def _only(checks_found: list[Check]) -> Check:
    assert len(checks_found) == 1, checks_found
    return checks_found[0]


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, env=_GIT_ENV, capture_output=True)


def _git_checkout(root: Path) -> Path:
    """``root`` as a git checkout with one commit holding ``tracked.txt``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "tracked.txt").write_text("v1\n")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "stand-in")
    return root


def _requirements_root(tmp_path: Path, *lines: str) -> Path:
    root = tmp_path / "nv_generate"
    root.mkdir()
    (root / "requirements.txt").write_text("\n".join(lines) + "\n")
    return root


# resolve_generate_root


def test_resolve_generate_root_returns_the_root_without_findings_when_nv_generate_root_is_a_clone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nv_generate_snapshot: Path) -> None:
    clone = copy_snapshot(tmp_path / "clone", snapshot=nv_generate_snapshot)
    monkeypatch.setenv("NV_GENERATE_ROOT", str(clone))
    collector = PreflightCollector()
    assert resolve_generate_root(collector, load_settings()) == clone.absolute()
    report = collector.report()
    assert report.errors == [] and report.warnings == []


def test_resolve_generate_root_reports_a_readiness_error_with_the_setup_fix_when_no_clone_exists(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDSKILLS_WORKBENCH_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # the repo-local fallback .workbench_data/upstreams/... is absent here
    collector = PreflightCollector()
    assert resolve_generate_root(collector, load_settings()) is None
    error = _only(collector.report().errors)
    assert error.code == "upstream_missing" and error.severity is Severity.ERROR
    assert error.field == "NV_GENERATE_ROOT" and not error.blocks_request
    assert "NV-Generate-CTMR upstream not found" in error.message
    assert error.fix is not None and "medskills setup synth-ct" in error.fix
    assert collector.report().request_valid and not collector.report().environment_ready


# check_upstream_commit


def test_check_upstream_commit_records_nothing_when_there_is_no_root() -> None:
    collector = PreflightCollector()
    check_upstream_commit(collector, None, skill=SkillId.SYNTH_CT, version="rflow-ct")
    assert collector.report().errors == [] and collector.report().warnings == []


def test_check_upstream_commit_warns_that_the_commit_cannot_be_recorded_when_the_root_is_not_git(
        tmp_path: Path) -> None:
    collector = PreflightCollector()
    check_upstream_commit(collector, tmp_path, skill=SkillId.SYNTH_CT, version="rflow-ct")
    warning = _only(collector.report().warnings)
    assert warning.code == "upstream_not_git" and warning.severity is Severity.WARNING
    assert warning.field == "NV_GENERATE_ROOT" and str(tmp_path) in warning.message
    assert collector.report().errors == []


def test_check_upstream_commit_warns_with_the_checkout_fix_when_head_is_not_the_pin(tmp_path: Path) -> None:
    root = _git_checkout(tmp_path / "clone")
    collector = PreflightCollector()
    check_upstream_commit(collector, root, skill=SkillId.SYNTH_CT, version="rflow-ct")
    warning = _only(collector.report().warnings)
    assert warning.code == "upstream_commit_differs" and warning.field == "NV_GENERATE_ROOT"
    assert PINNED_COMMIT[:10] in warning.message
    assert warning.fix == f"git -C {root} checkout {PINNED_COMMIT}"
    assert collector.report().errors == []


def test_check_upstream_commit_also_warns_about_uncommitted_changes_when_a_tracked_file_is_edited(
        tmp_path: Path) -> None:
    root = _git_checkout(tmp_path / "clone")
    (root / "tracked.txt").write_text("edited\n")
    collector = PreflightCollector()
    check_upstream_commit(collector, root, skill=SkillId.SYNTH_CT, version="rflow-ct")
    codes = [warning.code for warning in collector.report().warnings]
    assert codes == ["upstream_commit_differs", "upstream_dirty"]
    dirty = collector.report().warnings[1]
    assert dirty.field == "NV_GENERATE_ROOT" and str(root) in dirty.message


def test_check_upstream_commit_is_silent_when_a_clean_checkout_is_at_the_pin(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A local repository cannot have the pinned hash, so git_state answers as it would for such a clone."""
    monkeypatch.setattr(checks, "git_state", lambda root: GitState(commit=PINNED_COMMIT, is_dirty=False))
    collector = PreflightCollector()
    check_upstream_commit(collector, tmp_path, skill=SkillId.SYNTH_CT, version="rflow-ct")
    assert collector.report().warnings == [] and collector.report().errors == []


# check_upstream_requirements


def test_check_upstream_requirements_records_nothing_when_there_is_no_root() -> None:
    collector = PreflightCollector()
    check_upstream_requirements(collector, None)
    assert collector.report().errors == []


def test_check_upstream_requirements_is_silent_when_every_package_is_importable(tmp_path: Path) -> None:
    root = _requirements_root(tmp_path, "# comment", "numpy>=1.24.0", "pydantic", "PyYAML>=6.0")
    collector = PreflightCollector()
    check_upstream_requirements(collector, root)
    assert collector.report().errors == []


def test_check_upstream_requirements_names_each_missing_package_and_the_pip_command_when_one_is_absent(
        tmp_path: Path) -> None:
    root = _requirements_root(tmp_path, "numpy>=1.24.0", "medskills-absent-package>=1.0")
    collector = PreflightCollector()
    check_upstream_requirements(collector, root)
    error = _only(collector.report().errors)
    assert error.code == "upstream_packages_missing" and error.field == "requirements.txt"
    assert not error.blocks_request
    assert error.message.startswith("1 package(s) from ")
    assert "medskills-absent-package>=1.0 (import medskills_absent_package)" in error.message
    assert "numpy" not in error.message
    assert error.fix is not None and error.fix.startswith(sys.executable)
    assert error.fix.endswith("-m pip install 'medskills-absent-package>=1.0'")


def test_check_upstream_requirements_reports_an_unreadable_file_with_the_restore_fix_when_it_is_missing(
        tmp_path: Path) -> None:
    collector = PreflightCollector()
    check_upstream_requirements(collector, tmp_path)
    error = _only(collector.report().errors)
    assert error.code == "upstream_requirements_unreadable" and not error.blocks_request
    assert error.field == str(tmp_path / "requirements.txt")
    assert error.fix == f"restore it: git -C {tmp_path} checkout -- requirements.txt"


# is_integer_value / is_finite_number


@pytest.mark.parametrize(("value", "expected"), [(0, True), (-3, True), (1000, True), (True, False),
                                                 (False, False), (30.0, False), ("30", False), (None, False)])
def test_is_integer_value_accepts_json_integers_only_when_not_booleans(value: object, expected: bool) -> None:
    assert is_integer_value(value) is expected


@pytest.mark.parametrize(("value", "expected"), [(0, True), (-1.5, True), (7.5, True), (True, False),
                                                 (math.nan, False), (math.inf, False), (-math.inf, False),
                                                 ("1.0", False), (None, False)])
def test_is_finite_number_accepts_finite_non_boolean_numbers_only(value: object, expected: bool) -> None:
    assert is_finite_number(value) is expected


# check_steps / check_guidance


@pytest.mark.parametrize("value", [1, 30, 1000])
def test_check_steps_accepts_integers_from_1_to_1000(value: int) -> None:
    collector = PreflightCollector()
    assert check_steps(collector, value, fix="use 30") is True
    assert collector.report().errors == []


@pytest.mark.parametrize("value", [0, 1001, -5, 30.0, 30.5, True, "30", None])
def test_check_steps_reports_steps_out_of_range_when_not_an_integer_in_1_to_1000(value: object) -> None:
    collector = PreflightCollector()
    assert check_steps(collector, value, fix="rflow-ct uses 30") is False
    error = _only(collector.report().errors)
    assert error.code == "steps_out_of_range" and error.blocks_request
    assert error.field == "num_inference_steps" and error.fix == "rflow-ct uses 30"
    assert f"got {value!r}" in error.message and "1..1000" in error.message


def test_check_steps_names_the_given_key_in_the_field_and_message_when_one_is_passed() -> None:
    collector = PreflightCollector()
    check_steps(collector, 0, key="mask_generation_num_inference_steps", fix="1000")
    error = _only(collector.report().errors)
    assert error.field == "mask_generation_num_inference_steps"
    assert error.message.startswith("mask_generation_num_inference_steps must be")


@pytest.mark.parametrize("value", [0, 0.0, 2, 7.5])
def test_check_guidance_accepts_finite_numbers_from_zero(value: float) -> None:
    collector = PreflightCollector()
    assert check_guidance(collector, value, fix="0") is True
    assert collector.report().errors == []


@pytest.mark.parametrize("value", [-0.1, math.nan, math.inf, True, "2", None])
def test_check_guidance_reports_guidance_invalid_when_negative_not_finite_or_not_a_number(value: object) -> None:
    collector = PreflightCollector()
    assert check_guidance(collector, value, fix="upstream ships 0 for CT") is False
    error = _only(collector.report().errors)
    assert error.code == "guidance_invalid" and error.field == "cfg_guidance_scale" and error.blocks_request
    assert error.fix == "upstream ships 0 for CT" and f"got {value!r}" in error.message


# check_weights / check_weight_files


def test_check_weights_returns_an_empty_inventory_without_findings_when_there_is_no_root(settings: Settings) -> None:
    collector = PreflightCollector()
    assert check_weights(collector, settings, SkillId.SYNTH_CT, "rflow-ct", None) == []
    assert collector.report().errors == []


def test_check_weights_reports_each_missing_file_with_the_setup_fix_when_the_models_folder_is_empty(
        tmp_path: Path, settings: Settings) -> None:
    collector = PreflightCollector()
    inventory = check_weights(collector, settings, SkillId.SYNTH_CT, "rflow-ct", tmp_path)
    expected = weight_paths(SkillId.SYNTH_CT, "rflow-ct", tmp_path)
    assert [weight.path for weight in inventory] == expected and not any(w.is_present for w in inventory)
    errors = collector.report().errors
    assert [error.code for error in errors] == ["weights_missing"] * len(expected)
    for error, path in zip(errors, expected, strict=True):
        assert str(path) in error.message and error.field == "weights" and not error.blocks_request
        assert error.fix == "run `medskills setup synth-ct` (downloads at the pinned revision)"


def test_check_weights_inventories_only_the_named_files_when_names_are_given(
        tmp_path: Path, settings: Settings) -> None:
    collector = PreflightCollector()
    names = ("mask_generation_autoencoder.pt", "mask_generation_diffusion_unet.pt")
    inventory = check_weights(collector, settings, SkillId.SYNTH_CT, "rflow-ct", tmp_path, names=names)
    assert [weight.path.name for weight in inventory] == list(names)
    assert len(collector.report().errors) == 2


def test_check_weights_reports_a_hash_mismatch_against_the_packaged_pin_when_a_file_was_altered(
        tmp_path: Path, settings: Settings, nv_generate_snapshot: Path) -> None:
    write_fake_assets(tmp_path, versions=("rflow-ct",))
    collector = PreflightCollector()
    inventory = check_weights(collector, settings, SkillId.SYNTH_CT, "rflow-ct", tmp_path)
    assert all(weight.is_present for weight in inventory)
    error = _only(collector.report().errors)  # only autoencoder_v1.pt carries a packaged pin
    autoencoder = tmp_path / "models" / "autoencoder_v1.pt"
    assert error.code == "weights_hash_mismatch" and error.field == "weights" and not error.blocks_request
    assert str(autoencoder) in error.message and sha256_file(autoencoder) in error.message
    assert error.message.endswith(f"expected {sha256_pins(SkillId.SYNTH_CT, 'rflow-ct')[autoencoder.name]}.")
    assert error.fix == "delete the file and download it again with `medskills setup`"


def test_check_weights_is_silent_and_marks_matches_when_the_given_pins_match_the_files(
        tmp_path: Path, settings: Settings, nv_generate_snapshot: Path) -> None:
    write_fake_assets(tmp_path, versions=("rflow-ct",))
    pins = {path.name: sha256_file(path) for path in weight_paths(SkillId.SYNTH_CT, "rflow-ct", tmp_path)}
    collector = PreflightCollector()
    inventory = check_weights(collector, settings, SkillId.SYNTH_CT, "rflow-ct", tmp_path, expected_sha256=pins)
    assert collector.report().errors == []
    assert all(weight.is_hash_match is True for weight in inventory)


def test_check_weight_files_checks_exactly_the_given_paths_when_they_are_outside_the_manifest(
        tmp_path: Path, settings: Settings) -> None:
    present, absent = tmp_path / "custom.pt", tmp_path / "other.pt"
    present.write_bytes(b"weights")
    collector = PreflightCollector()
    inventory = check_weight_files(collector, settings, [present, absent], skill=SkillId.SYNTH_CT,
                                   version="rflow-ct", expected_sha256={"custom.pt": "0" * 64})
    assert [weight.path for weight in inventory] == [present, absent]
    assert [error.code for error in collector.report().errors] == ["weights_hash_mismatch", "weights_missing"]


# check_diff_model_weights


def test_check_diff_model_weights_returns_an_empty_inventory_when_there_is_no_root(settings: Settings) -> None:
    collector = PreflightCollector()
    assert check_diff_model_weights(collector, settings, CT_FACTS, None, skill=SkillId.SYNTH_CT) == []
    assert collector.report().errors == []


def test_check_diff_model_weights_checks_the_checkpoints_the_clone_environment_file_names(
        tmp_path: Path, settings: Settings, nv_generate_snapshot: Path) -> None:
    root = copy_snapshot(tmp_path / "clone", snapshot=nv_generate_snapshot)
    write_fake_assets(root, versions=("rflow-ct",))
    pins = {name: sha256_file(root / "models" / name) for name in ("autoencoder_v1.pt", "diff_unet_3d_rflow-ct.pt")}
    collector = PreflightCollector()
    inventory = check_diff_model_weights(collector, settings, CT_FACTS, root, skill=SkillId.SYNTH_CT,
                                         expected_sha256=pins)
    assert [weight.path for weight in inventory] == [(root / "models" / "autoencoder_v1.pt").resolve(),
                                                      (root / "models" / "diff_unet_3d_rflow-ct.pt").resolve()]
    assert collector.report().errors == [] and all(weight.is_hash_match for weight in inventory)


def test_check_diff_model_weights_follows_a_renamed_checkpoint_when_the_environment_file_names_another(
        tmp_path: Path, settings: Settings, nv_generate_snapshot: Path) -> None:
    root = copy_snapshot(tmp_path / "clone", snapshot=nv_generate_snapshot)
    environment_path = root / CT_FACTS.environment
    environment = json.loads(environment_path.read_text())
    environment_path.write_text(json.dumps({**environment, "model_filename": "my_unet.pt"}))
    collector = PreflightCollector()
    inventory = check_diff_model_weights(collector, settings, CT_FACTS, root, skill=SkillId.SYNTH_CT)
    assert [weight.path.name for weight in inventory] == ["autoencoder_v1.pt", "my_unet.pt"]
    assert [error.code for error in collector.report().errors] == ["weights_missing", "weights_missing"]


def test_check_diff_model_weights_reports_an_unreadable_environment_file_as_a_readiness_error(
        tmp_path: Path, settings: Settings) -> None:
    collector = PreflightCollector()
    assert check_diff_model_weights(collector, settings, CT_FACTS, tmp_path, skill=SkillId.SYNTH_CT) == []
    error = _only(collector.report().errors)
    assert error.code == "upstream_env_unreadable" and error.field == CT_FACTS.environment
    assert not error.blocks_request and str(tmp_path / CT_FACTS.environment) in error.message


def test_check_diff_model_weights_reports_an_environment_file_lacking_checkpoint_keys(
        tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / CT_FACTS.environment).write_text(json.dumps({"model_dir": "./models"}))
    collector = PreflightCollector()
    assert check_diff_model_weights(collector, settings, CT_FACTS, tmp_path, skill=SkillId.SYNTH_CT) == []
    error = _only(collector.report().errors)
    assert error.code == "upstream_env_unreadable" and "model_filename" in error.message


# run_environment


def test_run_environment_sets_the_upstream_variables_and_uses_the_root_as_data_root_by_default(
        tmp_path: Path) -> None:
    environment = run_environment(tmp_path)
    assert environment["PYTHONDONTWRITEBYTECODE"] == "1" and environment["HF_HUB_OFFLINE"] == "1"
    assert environment["PYTORCH_CUDA_ALLOC_CONF"] == CUDA_ALLOC_CONF
    assert environment["MONAI_DATA_DIRECTORY"] == str(tmp_path)


def test_run_environment_points_monai_at_the_data_root_and_drops_unlisted_variables_when_one_is_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "nope")
    monkeypatch.setenv("PATH", "/usr/bin")
    environment = run_environment(tmp_path / "root", data_root=tmp_path / "data")
    assert environment["MONAI_DATA_DIRECTORY"] == str(tmp_path / "data")
    assert environment["PATH"] == "/usr/bin" and "AWS_SECRET_ACCESS_KEY" not in environment


# read_config_infer


def test_read_config_infer_returns_a_copy_of_the_shipped_values_when_there_is_no_root() -> None:
    collector = PreflightCollector()
    config = read_config_infer(collector, None)
    assert config == DEFAULT_CONFIG_INFER and config is not DEFAULT_CONFIG_INFER
    assert collector.report().errors == []


def test_read_config_infer_keeps_upstream_reference_keys_over_the_shipped_values_when_the_file_is_present(
        nv_generate_snapshot: Path) -> None:
    collector = PreflightCollector()
    config = read_config_infer(collector, nv_generate_snapshot)
    assert config["mask_generation_diffusion"] == "$@mask_generation_diffusion_def"
    assert config["spacing"] == [1.5, 1.5, 2.0] and set(DEFAULT_CONFIG_INFER) <= set(config)
    assert collector.report().errors == []


def test_read_config_infer_lets_the_clone_values_win_and_fills_missing_keys_from_the_shipped_values(
        tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "config_infer.json").write_text(json.dumps({"num_inference_steps": 12}))
    config = read_config_infer(PreflightCollector(), tmp_path)
    assert config == {**DEFAULT_CONFIG_INFER, "num_inference_steps": 12}


@pytest.mark.parametrize("content", [None, "{not json", "[1, 2]"], ids=["missing", "not-json", "not-an-object"])
def test_read_config_infer_reports_a_readiness_error_and_falls_back_when_the_file_is_missing_or_broken(
        tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "configs" / "config_infer.json"
    if content is not None:
        path.parent.mkdir()
        path.write_text(content)
    collector = PreflightCollector()
    assert read_config_infer(collector, tmp_path) == DEFAULT_CONFIG_INFER
    error = _only(collector.report().errors)
    assert error.code == "upstream_config_unreadable" and error.field == str(path) and not error.blocks_request
    assert error.fix == "restore it: `git -C <root> checkout -- configs`"
