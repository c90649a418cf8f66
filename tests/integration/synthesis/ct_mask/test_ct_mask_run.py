"""Mask-only generation: the runner subprocess calls the (stand-in) library function; rules, evidence, failures."""

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
from medskills.synthesis.ct_mask.run import generate_ct_masks
from medskills.synthesis.ct_mask.request import CTMaskRequest
from medskills.synthesis.ct_mask.record import CTMaskRecord
from standin_upstream import Behaviour, StandinRoot
from standin_upstream.diff_model import stand_in_pins
from standin_upstream.diff_model_fixtures import advanced_standin, gpu_device, standin_settings  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parents[4]
SHIM = REPO_ROOT / "skills" / "nv-generate-ct-rflow" / "scripts" / "run_ct_mask.py"
FIXTURE = REPO_ROOT / "skills" / "nv-generate-ct-rflow" / "fixtures" / "ct_mask_lung_tumor.json"
WEIGHTS = ("mask_generation_autoencoder.pt", "mask_generation_diffusion_unet.pt")


def _request_file(tmp_path: Path, **values: object) -> Path:
    path = tmp_path / "mask.json"
    path.write_text(json.dumps({"controllable_anatomy_size": [["lung tumor", 0.5], ["liver", 0.6]],
                                "mask_generation_num_inference_steps": 1000, **values}))
    return path


def _run(tmp_path: Path, standin: StandinRoot, settings: Settings, device: DeviceInfo, **options: object
         ) -> CTMaskRecord:
    request = CTMaskRequest.model_validate({"config_path": _request_file(tmp_path), "output_dir": tmp_path / "out",
                                            "is_cost_confirmed": True, "random_seed": 3, **options})
    return generate_ct_masks(request, settings=settings, device=device,
                             expected_sha256=stand_in_pins(standin.root, WEIGHTS))


def test_masks_hold_raw_maisi_ids_and_expected_ids_are_checked(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, gpu_device: DeviceInfo
) -> None:
    record = _run(tmp_path, advanced_standin, standin_settings, gpu_device)
    assert record.exit_code == ExitCode.OK, (record.failure_reasons, record.invocation.logs.stderr_tail)
    assert [label.maisi_label_id for label in record.expected_labels] == [23, 1]
    sample = record.output.samples[0]
    assert sample.path.name == "mask_0000.nii.gz" and sample.shape == (256, 256, 256)
    assert sample.spacing_mm == (1.5, 1.5, 1.5) and {1, 23, 200} <= set(sample.label_ids_present)
    data = nib.load(str(sample.path))
    assert data.get_data_dtype() == np.int16
    call = [c for c in advanced_standin.calls() if c.get("entrypoint") == "sample_mask"][-1]
    assert call["cwd"] == str(advanced_standin.root) and call["anatomy_size"] == record.anatomy_size_condition.values
    assert call["anatomy_size"][5] == 0.5 and call["anatomy_size"][1] == 0.6
    assert record.invocation.argv[1:3] == ["-m", "medskills.synthesis.ct_mask._runner"]
    assert record.entrypoint == "scripts.sample_mask.ldm_conditional_sample_one_mask"


def test_missing_expected_id_fails_with_exit_1(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, gpu_device: DeviceInfo
) -> None:
    advanced_standin.set_behaviour(Behaviour(drop_output_label_ids=(23,)))
    record = _run(tmp_path, advanced_standin, standin_settings, gpu_device)
    assert record.exit_code == ExitCode.FAILED
    assert record.output.missing_expected_maisi_label_ids == [23]


@pytest.mark.parametrize(
    ("behaviour", "exit_code", "gate"),
    [(Behaviour(exit_code=1), ExitCode.FAILED, "upstream_exit_zero"),
     (Behaviour(writes_no_outputs=True), ExitCode.FAILED, "masks_written"),
     (Behaviour(sleep_seconds=60), ExitCode.TIMEOUT, "masks_written")],
    ids=["raises", "no-output", "timeout"],
)
def test_mask_failure_modes(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, gpu_device: DeviceInfo,
    behaviour: Behaviour, exit_code: ExitCode, gate: str,
) -> None:
    advanced_standin.set_behaviour(behaviour)
    record = _run(tmp_path, advanced_standin, standin_settings, gpu_device,
                  timeout_seconds=8.0 if behaviour.sleep_seconds else 120.0)
    assert record.exit_code == exit_code and record.status is Status.FAILED
    assert gate in {g.gate for g in record.gates if g.status is Status.FAILED}


@pytest.mark.parametrize(
    ("values", "code"),
    [({"controllable_anatomy_size": []}, "controllable_required"),
     ({"controllable_anatomy_size": [["lung tumor", 1.5]]}, "bad_size"),
     ({"controllable_anatomy_size": [["lung tumor", 0.5], ["bone lesion", -1]]}, "too_many_tumors"),
     ({"controllable_anatomy_size": [["liver", 0.5], ["liver", 0.4]]}, "duplicate_controllable"),
     ({"controllable_anatomy_size": [["spleen", 0.5]]}, "not_controllable"),
     ({"output_size": [512, 512, 128]}, "mask_size_fixed"),
     ({"spacing": [1.5, 1.5, 2.0]}, "mask_spacing_fixed"),
     ({"mask_generation_num_inference_steps": 1001}, "steps_out_of_range"),
     ({"anatomy_list": ["liver"]}, "unknown_key")],
)
def test_mask_rules_refuse_with_exit_2(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, gpu_device: DeviceInfo,
    values: dict[str, object], code: str,
) -> None:
    request = CTMaskRequest(config_path=_request_file(tmp_path, **values), output_dir=tmp_path / "out",
                            is_cost_confirmed=True)
    record = generate_ct_masks(request, settings=standin_settings, device=gpu_device)
    assert record.exit_code == ExitCode.USAGE
    assert code in {check.code for check in record.preflight.errors}
    assert advanced_standin.calls() == []


def test_size_minus_one_is_accepted_and_low_steps_warn(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, gpu_device: DeviceInfo
) -> None:
    config = _request_file(tmp_path, controllable_anatomy_size=[["liver", -1], ["hepatic tumor", 0.7]],
                           mask_generation_num_inference_steps=50)
    request = CTMaskRequest(config_path=config, output_dir=tmp_path / "out", is_preflight_only=True)
    record = generate_ct_masks(request, settings=standin_settings, device=gpu_device)
    assert record.exit_code == ExitCode.OK and record.preflight.request_valid
    assert "ddpm_steps_low" in {check.code for check in record.preflight.warnings}


def test_running_without_yes_is_refused(
    tmp_path: Path, advanced_standin: StandinRoot, standin_settings: Settings, gpu_device: DeviceInfo
) -> None:
    record = _run(tmp_path, advanced_standin, standin_settings, gpu_device, is_cost_confirmed=False)
    assert record.exit_code == ExitCode.USAGE and "--yes" in record.failure_reasons[0]


def test_shim_preflight_with_the_fixture(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(SHIM), str(FIXTURE), "--output-dir", str(tmp_path / "out"),
                           "--preflight-only"], capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["expected_labels"] == [{"anatomy": "lung tumor", "maisi_label_id": 23}]
