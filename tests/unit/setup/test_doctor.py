"""Doctor rows and verdicts: CUDA, version traps, upstream roots, weights, datasets, offline mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from medskills.core.skills import SkillId
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import Settings
from medskills.setup import doctor
from medskills.setup.doctor import NO_CUDA_FIX, run_doctor
from medskills.setup.models import RowStatus

CPU = DeviceInfo(cuda_available=False, torch_version="2.13.0+cpu")
GPU = DeviceInfo(cuda_available=True, device_name="NVIDIA A100", total_memory_gb=80.0, torch_version="2.13.0")


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(workbench_dir=tmp_path, weight_hash_cache=tmp_path / "cache.json", **extra)


def _row(report, area: str, name: str):
    return next(r for r in report.rows if r.area == area and r.name == name)


def _plenty(_: Path) -> int:
    return 10**12


def test_no_cuda_fails_synthesis_with_the_gpu_fix(tmp_path: Path) -> None:
    report = run_doctor(settings=_settings(tmp_path), skill=SkillId.SYNTH_CT, device_probe=lambda: CPU,
                        free_bytes=_plenty)
    row = _row(report, "runtime", "CUDA / GPU")
    assert row.status == RowStatus.FAIL and row.blocks == [SkillId.SYNTH_CT]
    assert row.fix == NO_CUDA_FIX and "CUDA build of torch" in row.fix
    assert report.exit_code == 1 and report.can_run == {SkillId.SYNTH_CT: False}


def test_no_cuda_is_only_a_warning_for_segmentation(tmp_path: Path) -> None:
    report = run_doctor(settings=_settings(tmp_path), skill=SkillId.SEGMENT_CTMR, device_probe=lambda: CPU,
                        free_bytes=_plenty)
    assert _row(report, "runtime", "CUDA / GPU").status == RowStatus.WARN


def test_allow_no_gpu_turns_the_failure_into_a_warning(tmp_path: Path) -> None:
    report = run_doctor(settings=_settings(tmp_path, allow_no_gpu=True), skill=SkillId.SYNTH_MR_BRAIN,
                        device_probe=lambda: CPU, free_bytes=_plenty)
    assert _row(report, "runtime", "CUDA / GPU").status == RowStatus.WARN


def test_this_cpu_machine_reports_no_cuda_for_synthesis(tmp_path: Path) -> None:
    if doctor.probe_device().cuda_available:
        pytest.skip("this machine has CUDA")
    report = run_doctor(settings=_settings(tmp_path), free_bytes=_plenty)
    row = _row(report, "runtime", "CUDA / GPU")
    assert row.fix == NO_CUDA_FIX
    assert row.status == RowStatus.FAIL and set(row.blocks) == {SkillId.SYNTH_CT, SkillId.SYNTH_MR_BRAIN}
    assert report.exit_code == 1  # a failed row fails doctor, with or without --skill


def test_without_a_driver_torch_is_not_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "has_nvidia_driver", lambda: False)
    monkeypatch.setattr(doctor, "detect_device", lambda: pytest.fail("torch import attempted"))
    device = doctor.probe_device()
    assert not device.cuda_available and device.torch_version is not None


def test_gpu_row_names_the_device_and_vram(tmp_path: Path) -> None:
    report = run_doctor(settings=_settings(tmp_path), device_probe=lambda: GPU, free_bytes=_plenty)
    row = _row(report, "runtime", "CUDA / GPU")
    assert row.status == RowStatus.OK and row.detail == "NVIDIA A100, 80.0 GB VRAM"


def test_numpy_and_monai_traps_block_synthesis_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    versions = {"numpy": "1.26.4", "monai": "1.4.0", "nibabel": "5.2.0", "pydicom": "2.4.4", "huggingface_hub": None}
    monkeypatch.setattr(doctor, "package_versions", lambda names: {n: versions[n] for n in names})
    report = run_doctor(settings=_settings(tmp_path), device_probe=lambda: GPU, free_bytes=_plenty)
    numpy_row, monai_row = _row(report, "packages", "numpy"), _row(report, "packages", "monai")
    assert numpy_row.status == RowStatus.FAIL and "np.long" in numpy_row.detail and 'numpy>=2' in numpy_row.fix
    assert monai_row.status == RowStatus.FAIL and "RFlowScheduler" in monai_row.detail
    assert SkillId.SEGMENT_CTMR not in numpy_row.blocks + monai_row.blocks
    assert _row(report, "packages", "pydicom").status == RowStatus.WARN
    assert _row(report, "packages", "huggingface_hub").status == RowStatus.WARN


def test_current_versions_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    versions = {"numpy": "2.1.0", "monai": "1.5.2", "nibabel": "5.2.0", "pydicom": "3.0.1", "huggingface_hub": "1.0"}
    monkeypatch.setattr(doctor, "package_versions", lambda names: {n: versions[n] for n in names})
    report = run_doctor(settings=_settings(tmp_path), device_probe=lambda: GPU, free_bytes=_plenty)
    assert all(r.status == RowStatus.OK for r in report.rows if r.area == "packages")


def test_missing_upstream_names_setup_as_the_fix(tmp_path: Path) -> None:
    report = run_doctor(settings=_settings(tmp_path), skill=SkillId.SEGMENT_CTMR, device_probe=lambda: GPU,
                        free_bytes=_plenty)
    row = _row(report, "segment-ctmr", "upstream")
    assert row.status == RowStatus.FAIL and "medskills setup segment-ctmr" in row.fix
    assert report.exit_code == 1


def test_weights_and_datasets_are_inventoried_against_pins(tmp_path: Path) -> None:
    root = tmp_path / "gen"
    (root / "models").mkdir(parents=True)
    (root / "models" / "autoencoder_v1.pt").write_bytes(b"not the pinned autoencoder")
    (root / "datasets" / "all_masks_flexible_size_and_spacing_4000").mkdir(parents=True)
    settings = _settings(tmp_path, nv_generate_root=root)
    report = run_doctor(settings=settings, skill=SkillId.SYNTH_CT, device_probe=lambda: GPU, free_bytes=_plenty)
    weights = _row(report, "synth-ct", "weights")
    assert weights.status == RowStatus.FAIL
    assert "1/5 present" in weights.detail and "sha256 mismatch autoencoder_v1.pt" in weights.detail
    datasets = _row(report, "synth-ct", "datasets")
    assert datasets.status == RowStatus.FAIL and "0/3" in datasets.detail  # an extracted folder is not the zip
    assert "all_anatomy_size_conditions.json" in datasets.detail
    assert "all_masks_flexible_size_and_spacing_4000.zip" in datasets.detail
    assert "not a git clone" in _row(report, "synth-ct", "upstream").detail


def test_disk_row_warns_when_missing_assets_do_not_fit(tmp_path: Path) -> None:
    report = run_doctor(settings=_settings(tmp_path), skill=SkillId.SYNTH_CT, device_probe=lambda: GPU,
                        free_bytes=lambda _: 10**9)
    assert _row(report, "machine", "disk space").status == RowStatus.WARN


def test_offline_row_follows_hf_hub_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    on = run_doctor(settings=settings, device_probe=lambda: GPU, free_bytes=_plenty)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    off = run_doctor(settings=settings, device_probe=lambda: GPU, free_bytes=_plenty)
    assert _row(on, "machine", "HF offline mode").status == RowStatus.OK
    assert _row(off, "machine", "HF offline mode").status == RowStatus.WARN
