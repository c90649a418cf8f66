"""CT from a mask end to end against the stand-in: conversion + envelope fed upstream, failure modes, the shim."""

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
from medskills.synthesis.ct_from_mask.run import generate_ct_from_mask, output_image_pattern
from medskills.synthesis.ct_from_mask.record import CTFromMaskRecord
from medskills.synthesis.ct_from_mask.request import CTFromMaskRequest
from medskills.synthesis.nv_generate.user_mask import SourceLabels
from standin_upstream import Behaviour, StandinRoot
from standin_upstream.diff_model import stand_in_pins
from standin_upstream.diff_model_fixtures import advanced_standin, gpu_device, standin_settings  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parents[4]
SHIM = REPO_ROOT / "skills" / "nv-generate-ct-rflow" / "scripts" / "run_ct_from_mask.py"
WEIGHTS = ("autoencoder_v1.pt", "diff_unet_3d_rflow-ct.pt", "controlnet_3d_rflow-ct.pt")


def _run(tmp_path: Path, shared_data: Path, standin: StandinRoot, settings: Settings, device: DeviceInfo,
         **options: object) -> CTFromMaskRecord:
    folder = shared_data / "ct_abdomen_3mm"
    defaults: dict[str, object] = {
        "request_path": folder / "reference_totalsegmentator.nii.gz", "output_dir": tmp_path / "out",
        "source_labels": SourceLabels.TOTALSEGMENTATOR, "body_envelope_ct": folder / "image.nii.gz",
        "timeout_seconds": 120.0,
    }
    request = CTFromMaskRequest.model_validate({**defaults, **options})
    return generate_ct_from_mask(request, settings=settings, device=device,
                                 expected_sha256=stand_in_pins(standin.root, WEIGHTS))


def test_converted_mask_is_written_and_fed_upstream(
    tmp_path: Path, shared_data: Path, advanced_standin: StandinRoot, standin_settings: Settings,
    gpu_device: DeviceInfo,
) -> None:
    record = _run(tmp_path, shared_data, advanced_standin, standin_settings, gpu_device, random_seed=5)
    assert record.exit_code == ExitCode.OK, record.failure_reasons
    fed = record.upstream_mask_path
    assert fed == tmp_path / "out" / "inputs" / "reference_totalsegmentator_maisi.nii.gz"
    call = advanced_standin.calls()[-1]
    assert call["mask"] == str(fed) and call["argv"][-1] == "5"
    written = np.asarray(nib.load(str(fed)).dataobj)
    assert 200 in written and written.max() == 200
    assert record.output.num_samples == 1 and record.output.all_images_hu_like
    image = record.output.samples[0]
    assert output_image_pattern(fed).match(image.path.name)
    assert not list((tmp_path / "out").glob("*_label.nii.gz"))
    assert record.mask.conversion.mapped and record.mask.body_envelope.voxels_labelled_body > 0
    saved = json.loads((tmp_path / "out" / "result.json").read_text())
    assert saved["mode"] == "ct-from-mask" and saved["upstream_mask_path"] == str(fed)


def test_unchanged_maisi_mask_is_passed_as_is(
    tmp_path: Path, shared_data: Path, advanced_standin: StandinRoot, standin_settings: Settings,
    gpu_device: DeviceInfo,
) -> None:
    labels = np.zeros((32, 32, 16), dtype=np.uint8)
    labels[4:28, 4:28, 2:14] = 200
    labels[10:20, 10:20, 5:10] = 1
    labels[20:24, 14:18, 5:10] = 33  # a vertebra, so the painted image has bone
    mask = tmp_path / "user_mask.nii.gz"
    nib.save(nib.Nifti1Image(labels, np.diag([1.5, 1.5, 2.0, 1.0])), str(mask))
    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps({"mask_path": "user_mask.nii.gz", "num_inference_steps": 10}))
    record = _run(tmp_path, shared_data, advanced_standin, standin_settings, gpu_device, request_path=request_file,
                  source_labels=SourceLabels.MAISI, body_envelope_ct=None)
    assert record.exit_code == ExitCode.OK, record.failure_reasons
    assert record.upstream_mask_path == mask.absolute()
    staged = json.loads(record.staged_config_paths[0].read_text())
    assert staged["num_inference_steps"] == 10 and staged["output_dir"] == str(tmp_path / "out")


@pytest.mark.parametrize(
    ("behaviour", "failed_gate", "exit_code"),
    [
        (Behaviour(exit_code=1), "upstream_exit_zero", ExitCode.FAILED),
        (Behaviour(writes_no_outputs=True), "images_written", ExitCode.FAILED),
        (Behaviour(is_constant_image=True), "images_nonconstant", ExitCode.FAILED),
        (Behaviour(sleep_seconds=30), "upstream_exit_zero", ExitCode.TIMEOUT),
    ],
    ids=["non-zero-exit", "no-output", "constant-volume", "timeout"],
)
def test_failure_modes_never_exit_0(
    tmp_path: Path, shared_data: Path, advanced_standin: StandinRoot, standin_settings: Settings,
    gpu_device: DeviceInfo, behaviour: Behaviour, failed_gate: str, exit_code: ExitCode,
) -> None:
    advanced_standin.set_behaviour(behaviour)
    timeout = 1.5 if behaviour.sleep_seconds else 120.0
    record = _run(tmp_path, shared_data, advanced_standin, standin_settings, gpu_device, timeout_seconds=timeout)
    assert record.exit_code == exit_code and record.status is Status.FAILED
    assert failed_gate in {gate.gate for gate in record.gates if gate.status is Status.FAILED}


def test_invalid_mask_stops_before_upstream(
    tmp_path: Path, shared_data: Path, advanced_standin: StandinRoot, standin_settings: Settings,
    gpu_device: DeviceInfo,
) -> None:
    record = _run(tmp_path, shared_data, advanced_standin, standin_settings, gpu_device,
                  source_labels=SourceLabels.MAISI, body_envelope_ct=None)
    assert record.exit_code == ExitCode.USAGE
    assert "mask_no_body" in {check.code for check in record.preflight.errors}
    assert advanced_standin.calls() == [] and (tmp_path / "out" / "result.json").is_file()


def test_shim_preflight_on_real_totalsegmentator_map_reports_the_mapping(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "ct_abdomen_3mm"
    done = subprocess.run(
        [sys.executable, str(SHIM), str(folder / "reference_totalsegmentator.nii.gz"), "--output-dir",
         str(tmp_path / "out"), "--source-labels", "totalsegmentator", "--add-body-envelope",
         str(folder / "image.nii.gz"), "--preflight-only"],
        capture_output=True, text=True, timeout=120, check=False, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    conversion = result["mask"]["conversion"]
    assert result["preflight"]["request_valid"] is True
    liver = [item for item in conversion["mapped"] if item["source_name"] == "liver"]
    assert liver and liver[0]["target_id"] == 1
    assert conversion["unmapped"] == []
    assert (tmp_path / "out" / "result.json").is_file() and (tmp_path / "out" / "summary.html").is_file()
