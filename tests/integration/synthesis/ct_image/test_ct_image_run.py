"""CT image-only synthesis against the stand-in: seed staged, CT rules, failure modes, the shim."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from medskills.core.errors import ExitCode
from medskills.core.models import Status
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import Settings
from medskills.synthesis.ct_image.run import generate_ct_image
from medskills.synthesis.ct_image.request import CTImageRequest
from medskills.synthesis.ct_image.record import CTImageRecord
from medskills.synthesis.nv_generate.ct_inference import CTVersion
from standin_upstream import Behaviour, StandinRoot
from standin_upstream.diff_model import stand_in_pins
from standin_upstream.diff_model_fixtures import advanced_standin, gpu_device, standin_settings  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parents[4]
SHIM = REPO_ROOT / "skills" / "nv-generate-ct-rflow" / "scripts" / "run_ct_image.py"
FIXTURE = REPO_ROOT / "skills" / "nv-generate-ct-rflow" / "fixtures" / "ct_image_only_default.json"


def _config(tmp_path: Path, **values: object) -> Path:
    path = tmp_path / "image.json"
    path.write_text(json.dumps({"dim": [256, 256, 128], "spacing": [1.5, 1.5, 3.0], "num_inference_steps": 5,
                                **values}))
    return path


def _run(tmp_path: Path, standin: StandinRoot, settings: Settings, device: DeviceInfo, *,
         version: CTVersion = CTVersion.RFLOW_CT, **options: object) -> CTImageRecord:
    request = CTImageRequest.model_validate({"config_path": _config(tmp_path), "output_dir": tmp_path / "out",
                                             "version": version, "random_seed": 42, **options})
    names = ("autoencoder_v1.pt", f"diff_unet_3d_{version.value}.pt")
    return generate_ct_image(request, settings=settings, device=device,
                             expected_sha256=stand_in_pins(standin.root, names))


@pytest.mark.parametrize("version", [CTVersion.RFLOW_CT, CTVersion.DDPM_CT])
def test_ct_image_run_stages_the_seed_and_grades_the_image(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, gpu_device: DeviceInfo,
    version: CTVersion,
) -> None:
    record = _run(tmp_path, advanced_standin, standin_settings, gpu_device, version=version)
    assert record.exit_code == ExitCode.OK, record.failure_reasons
    staged = json.loads(record.staging.model_config_path.read_text())["diffusion_unet_inference"]
    assert staged["random_seed"] == 42 and staged["modality"] == 1
    image = record.output.samples[0]
    assert image.path.name.startswith(f"ct_image_{version.value}_seed42_size256x256x128_spacing1.50x1.50x3.00_")
    assert image.is_hu_like and record.output.all_shapes_match_requested
    network = "rflow" if version is CTVersion.RFLOW_CT else "ddpm"
    assert record.invocation.argv[-1].endswith(f"config_network_{network}.json")
    assert (tmp_path / "out" / "summary.html").is_file()


@pytest.mark.parametrize(
    ("values", "code"),
    [({"dim": [256, 256, 100]}, "bad_dim"), ({"dim": [256, 384, 128]}, "bad_dim"),
     ({"spacing": [1.5, 1.5, 6.0]}, "bad_spacing"), ({"spacing": [0.8, 0.8, 2.0]}, "fov_too_small"),
     ({"num_inference_steps": 2000}, "steps_out_of_range"), ({"top_region_index": [0, 1, 0]}, "region_index_invalid"),
     ({"cfg_guidance_scale": -1}, "guidance_invalid"), ({"seed": 3}, "unknown_key")],
)
def test_ct_image_rules_refuse_with_exit_2(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, gpu_device: DeviceInfo,
    values: dict[str, object], code: str,
) -> None:
    request = CTImageRequest(config_path=_config(tmp_path, **values), output_dir=tmp_path / "out")
    record = generate_ct_image(request, settings=standin_settings, device=gpu_device)
    assert record.exit_code == ExitCode.USAGE
    assert code in {check.code for check in record.preflight.errors}
    assert advanced_standin.calls() == []


def test_large_ddpm_run_needs_yes(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, gpu_device: DeviceInfo
) -> None:
    config = _config(tmp_path, dim=[512, 512, 512], spacing=[1.0, 1.0, 1.0], num_inference_steps=1000)
    request = CTImageRequest(config_path=config, output_dir=tmp_path / "out", version=CTVersion.DDPM_CT)
    names = ("autoencoder_v1.pt", "diff_unet_3d_ddpm-ct.pt")
    record = generate_ct_image(request, settings=standin_settings, device=gpu_device,
                               expected_sha256=stand_in_pins(advanced_standin.root, names))
    assert record.exit_code == ExitCode.USAGE and "--yes" in record.failure_reasons[0]


@pytest.mark.parametrize(
    ("behaviour", "exit_code"),
    [(Behaviour(exit_code=2), ExitCode.FAILED), (Behaviour(writes_no_outputs=True), ExitCode.FAILED),
     (Behaviour(is_constant_image=True), ExitCode.FAILED), (Behaviour(sleep_seconds=30), ExitCode.TIMEOUT)],
    ids=["non-zero-exit", "no-output", "constant-volume", "timeout"],
)
def test_ct_image_failure_modes(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, gpu_device: DeviceInfo,
    behaviour: Behaviour, exit_code: ExitCode,
) -> None:
    advanced_standin.set_behaviour(behaviour)
    record = _run(tmp_path, advanced_standin, standin_settings, gpu_device,
                  timeout_seconds=1.5 if behaviour.sleep_seconds else 120.0)
    assert record.exit_code == exit_code and record.status is Status.FAILED


def test_shim_preflight_with_the_fixture(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(SHIM), str(FIXTURE), "--output-dir", str(tmp_path / "out"),
                           "--version", "rflow-ct", "--preflight-only"],
                          capture_output=True, text=True, timeout=120, check=False, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["preflight"]["request_valid"] is True and result["inference"]["dim"] == [256, 256, 128]
