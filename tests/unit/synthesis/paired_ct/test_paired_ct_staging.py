"""Staged configs: absolute paths, reference keys kept, corrected ddpm path, exact command and environment."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from medskills.core.preflight import PreflightCollector
from medskills.synthesis.nv_generate.anatomy import load_anatomy_table
from medskills.synthesis.nv_generate.config_rules import check_inference_config
from medskills.synthesis.nv_generate.ct_inference import DEFAULT_CONFIG_INFER, CTVersion
from medskills.synthesis.paired_ct.request import CTRunRequest
from medskills.synthesis.nv_generate.staging import stage_ct_configs
from medskills.synthesis.paired_ct.staging import build_ct_command
from standin_upstream import build_nv_generate_root


def _stage(tmp_path: Path, scan_dir: Path, version: CTVersion, *, is_complete: bool = True):
    standin = build_nv_generate_root(tmp_path, scan_dir=scan_dir, separate_data_root=True)
    request = CTRunRequest(config_path=None, output_dir=tmp_path / "out", version=version, random_seed=5)
    settings = check_inference_config(PreflightCollector(), {**DEFAULT_CONFIG_INFER, "anatomy_list": ["liver"]},
                                      table=load_anatomy_table(), version=version)
    output_dir = tmp_path / "out"
    output_dir.mkdir()
    base_config = json.loads((standin.root / "configs" / "config_infer.json").read_text())
    staged = stage_ct_configs(request.version, settings, root=standin.root, data_root=standin.data_root,
                              base_config=base_config, output_dir=output_dir)
    command = build_ct_command(request, staged, root=standin.root, data_root=standin.data_root, output_dir=output_dir,
                               is_inventory_complete=is_complete)
    return standin, staged, command


def test_staged_files_hold_absolute_paths_and_keep_reference_keys(tmp_path, shared_data):
    standin, staged, _ = _stage(tmp_path, shared_data / "ct_abdomen_3mm", CTVersion.RFLOW_CT)
    assert staged.inference_path == tmp_path / "out" / "_staged_configs" / "config_infer.json"
    inference = json.loads(staged.inference_path.read_text())
    assert inference["mask_generation_diffusion"] == "$@mask_generation_diffusion_def"
    assert inference["anatomy_list"] == ["liver"] and inference["output_dir"] == str(tmp_path / "out")
    environment = json.loads(staged.environment_path.read_text())
    assert environment["trained_controlnet_path"] == str(standin.root / "models" / "controlnet_3d_rflow-ct.pt")
    assert environment["all_mask_files_base_dir"] == str(standin.data_root / "datasets"
                                                        / "all_masks_flexible_size_and_spacing_4000")
    assert environment["label_dict_json"] == str(standin.root / "configs" / "label_dict.json")
    assert staged.corrections == ()


def test_ddpm_anatomy_size_path_is_corrected_and_recorded(tmp_path, shared_data):
    standin, staged, _ = _stage(tmp_path, shared_data / "ct_abdomen_3mm", CTVersion.DDPM_CT)
    environment = json.loads(staged.environment_path.read_text())
    assert environment["all_anatomy_size_conditions_json"] == str(standin.data_root / "datasets"
                                                                 / "all_anatomy_size_conditions.json")
    assert len(staged.corrections) == 1
    assert staged.network_path.name == "config_network_ddpm.json"


def test_command_is_the_exact_upstream_call_with_allow_listed_environment(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "nope")
    standin, staged, command = _stage(tmp_path, shared_data / "ct_abdomen_3mm", CTVersion.RFLOW_CT)
    assert command.argv[:3] == [sys.executable, "-m", "scripts.inference"]
    assert command.argv[3:] == ["-t", str(staged.network_path), "-i", str(staged.inference_path),
                                "-e", str(staged.environment_path), "--random-seed", "5", "--version", "rflow-ct"]
    assert command.cwd == standin.root and command.log_dir == tmp_path / "out" / "logs"
    assert command.env["MONAI_DATA_DIRECTORY"] == str(standin.data_root)
    assert command.env["PYTHONDONTWRITEBYTECODE"] == "1" and command.env["HF_HUB_OFFLINE"] == "1"
    assert "AWS_SECRET_ACCESS_KEY" not in command.env


def test_hub_offline_is_not_forced_when_the_inventory_is_incomplete(tmp_path, shared_data, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    _, _, command = _stage(tmp_path, shared_data / "ct_abdomen_3mm", CTVersion.RFLOW_CT, is_complete=False)
    assert "HF_HUB_OFFLINE" not in command.env
