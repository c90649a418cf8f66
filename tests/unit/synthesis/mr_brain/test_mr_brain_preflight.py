"""MR-brain preflight on a copy of the real upstream: weights are found where its environment file says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medskills.core.provenance import DeviceInfo
from medskills.core.settings import load_settings
from medskills.synthesis.mr_brain.run import generate_mr_brain
from medskills.synthesis.mr_brain.request import MRBrainRequest
from standin_upstream.snapshot import copy_snapshot, nv_generate_snapshot, write_fake_assets  # noqa: F401

GPU = DeviceInfo(cuda_available=True, device_name="stand-in", total_memory_gb=24.0, torch_version="x")
ENVIRONMENT = "configs/environment_maisi_diff_model_rflow-mr-brain.json"


@pytest.fixture
def real_root(tmp_path: Path, nv_generate_snapshot: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = copy_snapshot(tmp_path / "nv_generate", snapshot=nv_generate_snapshot)
    write_fake_assets(root)
    monkeypatch.setenv("NV_GENERATE_ROOT", str(root))
    monkeypatch.chdir(tmp_path)
    return root


def _preflight(tmp_path: Path):
    request = MRBrainRequest(output_dir=tmp_path / "out", is_preflight_only=True)
    return generate_mr_brain(request, settings=load_settings(), device=GPU, expected_sha256={})


def test_weights_are_the_files_the_upstream_environment_names(tmp_path, real_root):
    record = _preflight(tmp_path)
    assert record.preflight.environment_ready, record.preflight.errors
    assert {w.path for w in record.provenance.weights} == {
        (real_root / "models" / "autoencoder_v1.pt").resolve(),
        (real_root / "models" / "diff_unet_3d_rflow-mr-brain_v1.pt").resolve()}


def test_a_clone_naming_another_checkpoint_is_checked_for_that_one(tmp_path, real_root):
    """At 61c4ec7 the environment named ``_v0``; preflight must follow the file, not a fixed name."""
    environment = real_root / ENVIRONMENT
    document = json.loads(environment.read_text())
    environment.write_text(json.dumps({**document, "model_filename": "diff_unet_3d_rflow-mr-brain_v0.pt"}))
    record = _preflight(tmp_path)
    (missing,) = [e for e in record.preflight.errors if e.code == "weights_missing"]
    assert missing.message.endswith("diff_unet_3d_rflow-mr-brain_v0.pt is missing.")
    (real_root / "models" / "diff_unet_3d_rflow-mr-brain_v0.pt").write_bytes(b"fake v0")
    (real_root / "models" / "diff_unet_3d_rflow-mr-brain_v1.pt").unlink()
    assert _preflight(tmp_path).preflight.environment_ready


def test_unreadable_environment_file_is_a_readiness_error(tmp_path, real_root):
    (real_root / ENVIRONMENT).write_text("{not json")
    record = _preflight(tmp_path)
    assert "upstream_env_unreadable" in [e.code for e in record.preflight.errors]
    assert record.preflight.request_valid
