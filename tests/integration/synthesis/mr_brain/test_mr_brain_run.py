"""MR-brain synthesis end to end against the stand-in upstream: success, every failure mode, the shim."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from medskills.core.errors import ExitCode
from medskills.core.models import Status
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import Settings
from medskills.core.upstream import UpstreamCommand, run_upstream
from medskills.synthesis.mr_brain.run import generate_mr_brain
from medskills.synthesis.mr_brain.request import MRBrainRequest
from medskills.synthesis.mr_brain.record import MRBrainRecord
from standin_upstream import Behaviour, StandinRoot
from standin_upstream.diff_model import set_extra_switches, stand_in_pins
from standin_upstream.diff_model_fixtures import advanced_standin, gpu_device, standin_settings  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parents[4]
SHIM = REPO_ROOT / "skills" / "nv-generate-mr-brain" / "scripts" / "run_mr_brain.py"
MR_WEIGHTS = ("autoencoder_v1.pt", "diff_unet_3d_rflow-mr-brain_v1.pt")


def _small_config(tmp_path: Path, **extra: object) -> Path:
    path = tmp_path / "small.json"
    path.write_text(json.dumps({"dim": [64, 64, 32], "spacing": [3.0, 3.0, 4.0], "num_inference_steps": 5, **extra}))
    return path


def _run(
    tmp_path: Path, standin: StandinRoot, settings: Settings, device: DeviceInfo, *, timeout: float = 120.0,
    **options: object,
) -> MRBrainRecord:
    request = MRBrainRequest(config_path=_small_config(tmp_path), output_dir=tmp_path / "out",
                             timeout_seconds=timeout, **options)
    return generate_mr_brain(request, settings=settings, device=device,
                             expected_sha256=stand_in_pins(standin.root, MR_WEIGHTS))


def test_mr_brain_run_writes_graded_image_and_evidence(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, gpu_device: DeviceInfo
) -> None:
    record = _run(tmp_path, advanced_standin, standin_settings, gpu_device, modality="mri_t2")
    assert record.exit_code == ExitCode.OK, record.failure_reasons
    assert record.status is Status.PASSED
    assert record.output is not None and record.output.num_samples == 1
    sample = record.output.samples[0]
    assert sample.shape == (64, 64, 32) and sample.spacing_mm == (3.0, 3.0, 4.0)
    assert sample.is_nonnegative and sample.is_nonconstant and sample.is_finite
    assert sample.path.name.startswith("mr_brain_mri_t2_seed1234_size64x64x32_spacing3.00x3.00x4.00_")
    assert sample.path.name.endswith("_rank0_modality10.nii.gz")
    staged = json.loads(record.staging.model_config_path.read_text())["diffusion_unet_inference"]
    assert staged["random_seed"] == 1234 and staged["modality"] == 10 and staged["cfg_guidance_scale"] == 2
    environment = json.loads(record.staging.environment_path.read_text())
    assert Path(environment["model_dir"]).is_absolute() and environment["output_dir"] == str(tmp_path / "out")
    call = advanced_standin.calls()[-1]
    assert call["cwd"] == str(advanced_standin.root)
    assert call["environment"]["PYTHONDONTWRITEBYTECODE"] == "1"
    assert record.invocation.argv[1:3] == ["-m", "scripts.diff_model_infer"]
    assert record.request.upstream_default_cfg_guidance_scale == 2.0
    assert record.request.defaults_source.endswith("config_maisi_diff_model_rflow-mr-brain.json")
    assert all(weight.is_hash_match for weight in record.provenance.weights)
    saved = json.loads((tmp_path / "out" / "result.json").read_text())
    assert saved["output"]["all_images_nonnegative"] is True
    assert record.card_path is not None and "data:image/png;base64" in record.card_path.read_text()


def test_mr_brain_upstream_default_guidance_is_read_from_the_present_config(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, gpu_device: DeviceInfo
) -> None:
    config = advanced_standin.root / "configs" / "config_maisi_diff_model_rflow-mr-brain.json"
    document = json.loads(config.read_text())
    document["diffusion_unet_inference"]["cfg_guidance_scale"] = 10
    config.write_text(json.dumps(document))
    record = _run(tmp_path, advanced_standin, standin_settings, gpu_device, is_preflight_only=True)
    assert record.request.upstream_default_cfg_guidance_scale == 10.0
    assert record.request.cfg_guidance_scale == 10.0


@pytest.mark.parametrize(
    ("behaviour", "extra", "failed_gate"),
    [
        (Behaviour(exit_code=3), {}, "upstream_exit_zero"),
        (Behaviour(writes_no_outputs=True), {}, "images_written"),
        (Behaviour(is_constant_image=True), {}, "images_nonconstant"),
        (Behaviour(), {"has_negative_values": True}, "intensity_plausible"),
    ],
    ids=["non-zero-exit", "no-output", "constant-volume", "negative-values"],
)
def test_mr_brain_failure_modes_exit_1_with_the_failed_gate(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, gpu_device: DeviceInfo,
    behaviour: Behaviour, extra: dict[str, object], failed_gate: str,
) -> None:
    advanced_standin.set_behaviour(behaviour)
    set_extra_switches(advanced_standin.root, **extra)
    record = _run(tmp_path, advanced_standin, standin_settings, gpu_device)
    assert record.exit_code == ExitCode.FAILED
    assert record.status is Status.FAILED
    assert failed_gate in {gate.gate for gate in record.gates if gate.status is Status.FAILED}
    assert any(reason.startswith(failed_gate) for reason in record.failure_reasons)
    assert (tmp_path / "out" / "result.json").is_file()


def test_mr_brain_timeout_exits_124(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, gpu_device: DeviceInfo
) -> None:
    advanced_standin.set_behaviour(Behaviour(sleep_seconds=30))
    record = _run(tmp_path, advanced_standin, standin_settings, gpu_device, timeout=1.5)
    assert record.exit_code == ExitCode.TIMEOUT
    assert record.invocation.is_timed_out
    assert "timed out" in record.failure_reasons[0]


def test_mr_brain_stale_output_is_not_counted(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, gpu_device: DeviceInfo
) -> None:
    def runner_with_stale_file(command: UpstreamCommand):  # type: ignore[no-untyped-def]
        invocation = run_upstream(command)
        staged = json.loads(Path(command.argv[command.argv.index("-e") + 1]).read_text())
        for path in Path(staged["output_dir"]).glob("*.nii.gz"):
            os.utime(path, (0, 0))
        return invocation

    request = MRBrainRequest(config_path=_small_config(tmp_path), output_dir=tmp_path / "out")
    record = generate_mr_brain(request, settings=standin_settings, device=gpu_device, runner=runner_with_stale_file,
                               expected_sha256=stand_in_pins(advanced_standin.root, MR_WEIGHTS))
    assert record.output.num_samples == 0 and record.exit_code == ExitCode.FAILED


def test_mr_brain_cost_gate_needs_yes(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, gpu_device: DeviceInfo
) -> None:
    config = tmp_path / "big.json"
    config.write_text(json.dumps({"dim": [512, 512, 256]}))
    request = MRBrainRequest(config_path=config, output_dir=tmp_path / "out")
    record = generate_mr_brain(request, settings=standin_settings, device=gpu_device,
                               expected_sha256=stand_in_pins(advanced_standin.root, MR_WEIGHTS))
    assert record.exit_code == ExitCode.USAGE
    assert "--yes" in record.failure_reasons[0]
    assert (tmp_path / "out" / "result.json").is_file() and advanced_standin.calls() == []


def test_mr_brain_missing_or_mismatched_weights_block_the_run(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, gpu_device: DeviceInfo
) -> None:
    (advanced_standin.root / "models" / "diff_unet_3d_rflow-mr-brain_v1.pt").unlink()
    request = MRBrainRequest(config_path=_small_config(tmp_path), output_dir=tmp_path / "out")
    record = generate_mr_brain(request, settings=standin_settings, device=gpu_device)
    codes = {check.code for check in record.preflight.errors}
    assert {"weights_missing", "weights_hash_mismatch"} <= codes
    assert record.exit_code == ExitCode.USAGE and record.preflight.request_valid


def test_mr_brain_no_gpu_is_an_error_unless_allowed(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    cpu = DeviceInfo(cuda_available=False, torch_version="cpu")
    request = MRBrainRequest(config_path=_small_config(tmp_path), output_dir=tmp_path / "out")
    pins = stand_in_pins(advanced_standin.root, MR_WEIGHTS)
    refused = generate_mr_brain(request, settings=standin_settings, device=cpu, expected_sha256=pins)
    assert refused.exit_code == ExitCode.USAGE and "no_gpu" in {c.code for c in refused.preflight.errors}
    allowed = standin_settings.model_copy(update={"allow_no_gpu": True})
    record = generate_mr_brain(request, settings=allowed, device=cpu, expected_sha256=pins)
    assert record.exit_code == ExitCode.OK
    assert "no_gpu_allowed" in {check.code for check in record.preflight.warnings}


def _shim(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SHIM), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, check=False)


def test_shim_preflight_only_default_flair_skull_stripped_is_valid(tmp_path: Path) -> None:
    done = _shim("default", "--output-dir", str(tmp_path / "mr-preflight"), "--modality", "mri_flair_skull_stripped",
                 "--preflight-only")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["preflight"]["request_valid"] is True
    assert result["request"]["modality_id"] == 31


def test_shim_rejects_dim_not_multiple_of_32_with_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"dim": [250, 256, 128]}))
    done = _shim(str(config), "--output-dir", str(tmp_path / "out"), "--modality", "mri_t1", "--preflight-only")
    assert done.returncode == 2
    result = json.loads(done.stdout)
    assert result["preflight"]["request_valid"] is False
    rule = [check for check in result["preflight"]["errors"] if check["code"] == "multiple_of_32"]
    assert rule and "dim[0]=250" in rule[0]["message"] and "multiple of 32" in rule[0]["message"]


def test_shim_allow_no_gpu_records_a_warning(tmp_path: Path) -> None:
    done = _shim("default", "--output-dir", str(tmp_path / "out"), "--preflight-only",
                 env={"MEDSKILLS_ALLOW_NO_GPU": "1"})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "no_gpu_allowed" in {check["code"] for check in result["preflight"]["warnings"]}


def test_generated_volume_is_derived_from_the_real_t1_scan(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, gpu_device: DeviceInfo
) -> None:
    record = _run(tmp_path, advanced_standin, standin_settings, gpu_device)
    data = np.asarray(nib.load(str(record.output.samples[0].path)).dataobj)
    assert data.dtype == np.int16 and np.count_nonzero(data) > data.size // 10
