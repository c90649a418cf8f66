"""Readiness rules of the CT preflight, each shown to fire, on stand-in upstream roots."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from medskills.core.io import sha256_file
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import load_settings
from medskills.synthesis.paired_ct import preflight as ct_preflight
from medskills.synthesis.paired_ct.preflight import run_ct_preflight
from medskills.synthesis.paired_ct.request import CTRunRequest
from standin_upstream import build_nv_generate_root
from standin_upstream.fixtures import DiskUsage, pretend_room_to_extract_masks
from standin_upstream.snapshot import copy_snapshot, nv_generate_snapshot, write_fake_assets  # noqa: F401

GPU = DeviceInfo(cuda_available=True, device_name="stand-in", total_memory_gb=24.0, torch_version="x")
NO_GPU = DeviceInfo(cuda_available=False, torch_version="x")


def _preflight(tmp_path: Path, monkeypatch, *, root: Path | None, device: DeviceInfo = GPU,
               overrides: dict | None = None, pins: bool = True, **environment: str):
    if root is not None:
        monkeypatch.setenv("NV_GENERATE_ROOT", str(root))
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # keeps the .workbench_data default away from the repo
    request = CTRunRequest(config_path=None, output_dir=tmp_path / "out", is_preflight_only=True)
    expected = ({p.name: sha256_file(p) for p in (root / "models").iterdir()}
                if pins and root is not None and (root / "models").is_dir() else None)
    return run_ct_preflight(request, overrides or {}, settings=load_settings(), device=device, expected_sha256=expected)


def _codes(outcome, *, kind: str = "errors") -> list[str]:
    return [check.code for check in getattr(outcome.report, kind)]


@pytest.fixture
def scan_dir(shared_data: Path) -> Path:
    return shared_data / "ct_abdomen_3mm"


def test_healthy_standin_is_ready(tmp_path, monkeypatch, scan_dir):
    standin = build_nv_generate_root(tmp_path, scan_dir=scan_dir)
    outcome = _preflight(tmp_path, monkeypatch, root=standin.root)
    assert outcome.report.request_valid and outcome.report.environment_ready, outcome.report.errors
    assert outcome.is_inventory_complete and outcome.data_root == standin.root


def test_missing_upstream_names_both_locations_and_setup_but_request_stays_valid(tmp_path, monkeypatch):
    outcome = _preflight(tmp_path, monkeypatch, root=None)
    (error,) = [e for e in outcome.report.errors if e.code == "upstream_missing"]
    assert "NV_GENERATE_ROOT is not set" in error.message and ".workbench_data/upstreams/NV-Generate-CTMR" in error.message
    assert "medskills setup synth-ct" in error.fix and not error.blocks_request
    assert outcome.report.request_valid and not outcome.report.environment_ready and outcome.report.cost is not None


def test_wrong_nv_generate_root_is_named(tmp_path, monkeypatch):
    outcome = _preflight(tmp_path, monkeypatch, root=tmp_path / "nowhere")
    assert f"NV_GENERATE_ROOT={tmp_path / 'nowhere'} does not exist" in outcome.report.errors[0].message


def test_missing_weights_are_a_readiness_error(tmp_path, monkeypatch, scan_dir):
    standin = build_nv_generate_root(tmp_path, scan_dir=scan_dir, with_weights=False)
    outcome = _preflight(tmp_path, monkeypatch, root=standin.root)
    assert _codes(outcome).count("weights_missing") == 5 and outcome.report.request_valid


def test_weights_not_matching_the_pins_are_an_error(tmp_path, monkeypatch, scan_dir):
    standin = build_nv_generate_root(tmp_path, scan_dir=scan_dir)
    outcome = _preflight(tmp_path, monkeypatch, root=standin.root, pins=False)
    assert "weights_hash_mismatch" in _codes(outcome)  # the real autoencoder_v1.pt pin cannot match


UPSTREAM_DATASETS = ["all_anatomy_size_conditions.json", "all_masks_flexible_size_and_spacing_4000.zip",
                     "candidate_masks_flexible_size_and_spacing_4000.json"]


@pytest.mark.parametrize("overrides", [{}, {"controllable_anatomy_size": [["lung tumor", 0.5]]}],
                         ids=["path_b", "path_a"])
def test_every_path_requires_all_three_files_upstream_downloads(tmp_path, monkeypatch, scan_dir, overrides):
    standin = build_nv_generate_root(tmp_path, scan_dir=scan_dir, with_datasets=False)
    outcome = _preflight(tmp_path, monkeypatch, root=standin.root, overrides=overrides)
    fields = [e.field for e in outcome.report.errors if e.code == "dataset_missing"]
    assert sorted(Path(f).name for f in fields) == UPSTREAM_DATASETS
    assert not outcome.is_inventory_complete and outcome.report.request_valid


def test_extracted_mask_folder_without_its_zip_is_not_ready(tmp_path, monkeypatch, scan_dir):
    standin = build_nv_generate_root(tmp_path, scan_dir=scan_dir)
    (standin.data_root / "datasets" / "all_masks_flexible_size_and_spacing_4000.zip").unlink()
    assert (standin.data_root / "datasets" / "all_masks_flexible_size_and_spacing_4000").is_dir()
    outcome = _preflight(tmp_path, monkeypatch, root=standin.root)
    (error,) = [e for e in outcome.report.errors if e.code == "dataset_missing"]
    assert error.field.endswith(".zip") and "download_model_data" in error.message
    assert not outcome.is_inventory_complete and not outcome.report.environment_ready


def test_datasets_are_checked_where_upstream_reads_them(tmp_path, monkeypatch, scan_dir):
    standin = build_nv_generate_root(tmp_path, scan_dir=scan_dir)  # datasets under the root only
    elsewhere = tmp_path / "other_data"
    outcome = _preflight(tmp_path, monkeypatch, root=standin.root, MONAI_DATA_DIRECTORY=str(elsewhere))
    assert "dataset_missing" in _codes(outcome) and outcome.data_root == elsewhere


def test_zip_only_mask_candidates_warn_about_extraction(tmp_path, monkeypatch, scan_dir):
    standin = build_nv_generate_root(tmp_path, scan_dir=scan_dir, is_masks_extracted=False)
    pretend_room_to_extract_masks(monkeypatch)
    outcome = _preflight(tmp_path, monkeypatch, root=standin.root)
    assert outcome.report.environment_ready and "masks_not_extracted" in _codes(outcome, kind="warnings")


def test_zip_only_without_disk_space_is_an_error(tmp_path, monkeypatch, scan_dir):
    standin = build_nv_generate_root(tmp_path, scan_dir=scan_dir, is_masks_extracted=False)
    monkeypatch.setattr(ct_preflight.shutil, "disk_usage", lambda _path: DiskUsage(1, 1, 1_000_000))
    outcome = _preflight(tmp_path, monkeypatch, root=standin.root)
    assert "no_space_to_extract" in _codes(outcome)
    monkeypatch.setattr(ct_preflight.shutil, "disk_usage", shutil.disk_usage)


def test_differing_upstream_label_dict_warns(tmp_path, monkeypatch, scan_dir):
    standin = build_nv_generate_root(tmp_path, scan_dir=scan_dir, label_dict_overrides={"extra organ": 150})
    outcome = _preflight(tmp_path, monkeypatch, root=standin.root)
    warning = next(w for w in outcome.report.warnings if w.code == "label_dict_differs")
    assert "'extra organ'" in warning.message and outcome.table.by_name()["extra organ"].id == 150


def test_null_environment_value_and_missing_reference_keys_are_errors(tmp_path, monkeypatch, scan_dir):
    standin = build_nv_generate_root(tmp_path, scan_dir=scan_dir)
    environment = standin.root / "configs" / "environment_rflow-ct.json"
    environment.write_text(json.dumps({**json.loads(environment.read_text()), "output_dir": None}))
    infer = standin.root / "configs" / "config_infer.json"
    infer.write_text(json.dumps({k: v for k, v in json.loads(infer.read_text()).items() if k != "controlnet"}))
    (standin.root / "configs" / "config_network_rflow.json").unlink()
    codes = _codes(_preflight(tmp_path, monkeypatch, root=standin.root))
    assert {"upstream_env_null", "upstream_reference_keys_missing", "upstream_file_missing"} <= set(codes)


def test_no_gpu_is_an_error_unless_allowed(tmp_path, monkeypatch, scan_dir):
    standin = build_nv_generate_root(tmp_path, scan_dir=scan_dir)
    assert "no_gpu" in _codes(_preflight(tmp_path, monkeypatch, root=standin.root, device=NO_GPU))
    allowed = _preflight(tmp_path, monkeypatch, root=standin.root, device=NO_GPU, MEDSKILLS_ALLOW_NO_GPU="1")
    assert allowed.report.environment_ready and "no_gpu_allowed" in _codes(allowed, kind="warnings")


@pytest.mark.parametrize("versions, code", [
    ({"numpy": "1.26.4", "monai": "1.6.1", "torch": "2.13.0"}, "numpy_np_long"),
    ({"numpy": "2.1.0", "monai": "1.4.0", "torch": "2.13.0"}, "monai_too_old"),
])
def test_package_version_traps_are_readiness_errors(tmp_path, monkeypatch, scan_dir, versions, code):
    standin = build_nv_generate_root(tmp_path, scan_dir=scan_dir)
    monkeypatch.setattr(ct_preflight, "package_versions", lambda names: versions)
    outcome = _preflight(tmp_path, monkeypatch, root=standin.root)
    assert code in _codes(outcome) and outcome.report.request_valid


def test_missing_core_package_without_a_clone_is_a_readiness_error(tmp_path, monkeypatch):
    monkeypatch.setattr(ct_preflight, "package_versions", lambda names: {"numpy": "2.1.0", "monai": None,
                                                                         "torch": "2.13.0"})
    outcome = _preflight(tmp_path, monkeypatch, root=None)
    assert "package_missing" in _codes(outcome) and outcome.report.request_valid


def test_every_upstream_requirement_must_be_importable_and_the_fix_is_one_pip_command(tmp_path, monkeypatch,
                                                                                      real_root):
    outcome = _preflight(tmp_path, monkeypatch, root=real_root, pins=False)
    assert "upstream_packages_missing" not in _codes(outcome)  # the test environment has all of requirements.txt
    requirements = real_root / "requirements.txt"
    requirements.write_text(requirements.read_text() + "surely-absent-package>=1.0\nPyYAML>=6.0\n")
    outcome = _preflight(tmp_path, monkeypatch, root=real_root, pins=False)
    (error,) = [e for e in outcome.report.errors if e.code == "upstream_packages_missing"]
    assert "surely-absent-package>=1.0 (import surely_absent_package)" in error.message and "yaml" not in error.message
    assert error.fix.endswith("-m pip install 'surely-absent-package>=1.0'") and outcome.report.request_valid


def test_unknown_override_key_suggests_the_right_key(tmp_path, monkeypatch):
    outcome = _preflight(tmp_path, monkeypatch, root=None, overrides={"anatomy_lst": ["liver"]})
    error = next(e for e in outcome.report.errors if e.code == "unknown_key")
    assert "'anatomy_list'" in error.message and not outcome.report.request_valid


def test_vram_estimate_close_to_gpu_memory_warns(tmp_path, monkeypatch):
    small_gpu = DeviceInfo(cuda_available=True, device_name="small", total_memory_gb=16.0, torch_version="x")
    outcome = _preflight(tmp_path, monkeypatch, root=None, device=small_gpu)
    assert "vram_tight" in _codes(outcome, kind="warnings")


# --- the real upstream's own config files as override files (issue 11, item 1) ---------------------


@pytest.fixture
def real_root(tmp_path: Path, nv_generate_snapshot: Path) -> Path:
    root = copy_snapshot(tmp_path / "nv_generate", snapshot=nv_generate_snapshot)
    write_fake_assets(root)
    return root


def _preset_paths(snapshot: Path) -> list[Path]:
    presets = sorted(snapshot.glob("configs/config_infer_*g_*.json"))
    assert len(presets) >= 9, presets
    return [snapshot / "configs" / "config_infer.json", *presets]


def test_upstream_config_infer_and_every_preset_are_valid_override_files(tmp_path, monkeypatch, real_root,
                                                                          nv_generate_snapshot):
    for path in _preset_paths(nv_generate_snapshot):
        overrides = json.loads(path.read_text())
        assert overrides["mask_generation_diffusion"] == "$@mask_generation_diffusion_def"
        outcome = _preflight(tmp_path, monkeypatch, root=real_root, overrides=overrides, pins=False)
        assert outcome.report.request_valid, (path.name, outcome.report.errors)
        assert outcome.settings is not None and outcome.settings.output_size == tuple(overrides["output_size"])


def test_changed_network_reference_is_refused_with_the_upstream_value_named(tmp_path, monkeypatch, real_root,
                                                                           nv_generate_snapshot):
    overrides = json.loads((nv_generate_snapshot / "configs" / "config_infer.json").read_text())
    overrides["controlnet"] = "$@my_controlnet_def"
    overrides["autoencoder"] = {"_target_": "torch.nn.Identity"}
    outcome = _preflight(tmp_path, monkeypatch, root=real_root, overrides=overrides, pins=False)
    errors = [e for e in outcome.report.errors if e.code == "reference_key_changed"]
    assert [e.field for e in errors] == ["controlnet", "autoencoder"] and not outcome.report.request_valid
    assert "$@controlnet_def" in errors[0].message and "remove 'controlnet'" in errors[0].fix
