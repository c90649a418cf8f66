"""Staging the CT configs: settings over the base config, every environment path rule, the clone left untouched.

The environment files are the real upstream ones (``../shared/upstreams/NV-Generate-CTMR/configs``) or small
files holding one case each; the end-to-end staging of a stand-in root is in ``test_paired_ct_staging.py``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pydantic import JsonValue

from medskills.core.errors import EnvironmentProblem
from medskills.core.preflight import PreflightCollector
from medskills.synthesis.nv_generate.anatomy import load_anatomy_table
from medskills.synthesis.nv_generate.config_rules import check_inference_config
from medskills.synthesis.nv_generate.ct_inference import DEFAULT_CONFIG_INFER, CTVersion, InferenceSettings
from medskills.synthesis.nv_generate.staging import STAGED_DIR_NAME, StagedRun, stage_ct_configs
from standin_upstream.snapshot import nv_generate_snapshot  # noqa: F401

ANATOMY_FILE = "datasets/all_anatomy_size_conditions.json"


def _settings(version: CTVersion, **overrides: JsonValue) -> InferenceSettings:
    collector = PreflightCollector()
    settings = check_inference_config(collector, {**DEFAULT_CONFIG_INFER, **overrides}, table=load_anatomy_table(),
                                      version=version)
    assert settings is not None, collector.report().errors
    return settings


def _root_with(tmp_path: Path, version: CTVersion, environment: dict[str, JsonValue]) -> Path:
    root = tmp_path / "clone"
    (root / "configs").mkdir(parents=True)
    (root / "configs" / f"environment_{version.value}.json").write_text(json.dumps(environment))
    return root


def _root_from_snapshot(tmp_path: Path, snapshot: Path) -> Path:
    root = tmp_path / "clone"
    shutil.copytree(snapshot / "configs", root / "configs", copy_function=shutil.copyfile)
    (root / "configs").chmod(0o755)  # the snapshot is read-only; its copy must stay removable
    return root


def _stage(root: Path, tmp_path: Path, version: CTVersion = CTVersion.RFLOW_CT, *,
           settings: InferenceSettings | None = None, base_config: dict[str, JsonValue] | None = None) -> StagedRun:
    output_dir = tmp_path / "out"
    output_dir.mkdir(exist_ok=True)
    return stage_ct_configs(version, settings or _settings(version), root=root, data_root=tmp_path / "data",
                            base_config=base_config if base_config is not None else {}, output_dir=output_dir)


def test_stage_ct_configs_writes_the_returned_contents_into_the_staged_folder(tmp_path: Path,
                                                                              nv_generate_snapshot: Path) -> None:
    staged = _stage(_root_from_snapshot(tmp_path, nv_generate_snapshot), tmp_path)
    staged_dir = tmp_path / "out" / STAGED_DIR_NAME
    assert sorted(path.name for path in staged_dir.iterdir()) == ["config_infer.json", "environment_rflow-ct.json"]
    assert staged.inference_path == staged_dir / "config_infer.json"
    assert staged.environment_path == staged_dir / "environment_rflow-ct.json"
    assert json.loads(staged.inference_path.read_text()) == staged.inference_config
    assert json.loads(staged.environment_path.read_text()) == staged.environment_config


def test_stage_ct_configs_puts_the_validated_settings_and_output_dir_over_the_base_config(tmp_path: Path) -> None:
    root = _root_with(tmp_path, CTVersion.RFLOW_CT, {})
    settings = _settings(CTVersion.RFLOW_CT, num_inference_steps=12, anatomy_list=["liver"])
    base: dict[str, JsonValue] = {"num_inference_steps": 99, "output_dir": "./output",
                                  "controlnet": "$@controlnet_def", "upstream_only": 1}
    staged = _stage(root, tmp_path, settings=settings, base_config=base)
    assert staged.inference_config == {**base, **settings.as_config_values(), "output_dir": str(tmp_path / "out")}
    assert staged.inference_config["num_inference_steps"] == 12
    assert staged.inference_config["controlnet"] == "$@controlnet_def" and staged.inference_config["upstream_only"] == 1


def test_stage_ct_configs_makes_weight_label_and_dataset_paths_absolute_in_the_real_environment_file(
        tmp_path: Path, nv_generate_snapshot: Path) -> None:
    root = _root_from_snapshot(tmp_path, nv_generate_snapshot)
    environment = _stage(root, tmp_path).environment_config
    upstream = json.loads((nv_generate_snapshot / "configs" / "environment_rflow-ct.json").read_text())
    assert environment.keys() == upstream.keys()
    for key in ("trained_autoencoder_path", "trained_diffusion_path", "trained_controlnet_path",
                "trained_mask_generation_autoencoder_path", "trained_mask_generation_diffusion_path",
                "label_dict_json", "label_dict_remap_json"):
        assert environment[key] == str((root / upstream[key]).resolve()), key
    for key in ("all_mask_files_base_dir", "all_mask_files_json", "all_anatomy_size_conditions_json"):
        assert environment[key] == str(tmp_path / "data" / upstream[key]), key
    assert environment["output_dir"] == str(tmp_path / "out")


def test_stage_ct_configs_corrects_and_records_the_ddpm_anatomy_size_path_from_the_real_environment_file(
        tmp_path: Path, nv_generate_snapshot: Path) -> None:
    staged = _stage(_root_from_snapshot(tmp_path, nv_generate_snapshot), tmp_path, CTVersion.DDPM_CT)
    assert staged.environment_config["all_anatomy_size_conditions_json"] == str(tmp_path / "data" / ANATOMY_FILE)
    (correction,) = staged.corrections
    assert correction.startswith("all_anatomy_size_conditions_json: 'datasets/configs/all_anatomy_size_conditions")
    assert correction.endswith(f"-> '{ANATOMY_FILE}' (the file the downloader writes)")
    assert staged.environment_path.name == "environment_ddpm-ct.json"


def test_stage_ct_configs_records_no_correction_when_the_anatomy_size_path_is_already_right(tmp_path: Path) -> None:
    root = _root_with(tmp_path, CTVersion.RFLOW_CT, {"all_anatomy_size_conditions_json": ANATOMY_FILE})
    staged = _stage(root, tmp_path)
    assert staged.corrections == ()
    assert staged.environment_config["all_anatomy_size_conditions_json"] == str(tmp_path / "data" / ANATOMY_FILE)


def test_stage_ct_configs_keeps_the_datasets_tail_under_the_data_root_when_the_value_has_a_prefix(
        tmp_path: Path) -> None:
    root = _root_with(tmp_path, CTVersion.RFLOW_CT, {"all_mask_files_json": "./datasets/sub/masks.json"})
    expected = tmp_path / "data" / "datasets" / "sub" / "masks.json"
    assert _stage(root, tmp_path).environment_config["all_mask_files_json"] == str(expected)


def test_stage_ct_configs_moves_a_value_under_the_data_root_only_when_datasets_is_a_whole_folder_name(
        tmp_path: Path) -> None:
    root = _root_with(tmp_path, CTVersion.RFLOW_CT, {"all_mask_files_json": "mydatasets/masks.json"})
    assert _stage(root, tmp_path).environment_config["all_mask_files_json"] == "mydatasets/masks.json"


def test_stage_ct_configs_resolves_model_dir_against_the_clone(tmp_path: Path) -> None:
    root = _root_with(tmp_path, CTVersion.RFLOW_CT, {"model_dir": "./models"})
    assert _stage(root, tmp_path).environment_config["model_dir"] == str((root / "models").resolve())


def test_stage_ct_configs_passes_other_strings_and_non_string_values_through_unchanged(tmp_path: Path) -> None:
    environment: dict[str, JsonValue] = {"output_prefix": "unet_3d", "num_splits": 4, "flags": [1, 2], "none": None,
                                         "modality_mapping_path": "./configs/modality_mapping.json"}
    staged = _stage(_root_with(tmp_path, CTVersion.RFLOW_CT, environment), tmp_path)
    assert staged.environment_config == {**environment, "output_dir": str(tmp_path / "out")}
    assert staged.corrections == ()


@pytest.mark.parametrize(("version", "network"), [(CTVersion.RFLOW_CT, "rflow"), (CTVersion.DDPM_CT, "ddpm")])
def test_stage_ct_configs_points_at_the_clone_network_config_of_the_version(
        tmp_path: Path, version: CTVersion, network: str) -> None:
    root = _root_with(tmp_path, version, {})
    expected = (root / "configs" / f"config_network_{network}.json").resolve()
    assert _stage(root, tmp_path, version).network_path == expected


def test_stage_ct_configs_leaves_the_upstream_environment_file_unchanged(tmp_path: Path,
                                                                         nv_generate_snapshot: Path) -> None:
    root = _root_from_snapshot(tmp_path, nv_generate_snapshot)
    source = root / "configs" / "environment_ddpm-ct.json"
    before = source.read_bytes()
    _stage(root, tmp_path, CTVersion.DDPM_CT)
    assert source.read_bytes() == before
    assert sorted(path.name for path in root.iterdir()) == ["configs"]


@pytest.mark.parametrize("content", [None, "{broken"], ids=["missing", "not-json"])
def test_stage_ct_configs_raises_an_environment_problem_naming_the_file_when_it_is_missing_or_broken(
        tmp_path: Path, content: str | None) -> None:
    root = tmp_path / "clone"
    (root / "configs").mkdir(parents=True)
    source = root / "configs" / "environment_rflow-ct.json"
    if content is not None:
        source.write_text(content)
    with pytest.raises(EnvironmentProblem, match="Restore the upstream clone") as caught:
        _stage(root, tmp_path)
    assert str(source) in str(caught.value)
    assert not (tmp_path / "out" / STAGED_DIR_NAME).exists()
