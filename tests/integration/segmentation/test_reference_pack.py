"""The reference-shaped files (output.json, manifest.json, validation_summary.json) agree with our record.

Runs use the stand-in runner of ``conftest.py`` on the real abdominal CT, so the values are recomputed
from real files; only the upstream process is simpler.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from medskills.core.models import Status
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import load_settings
from medskills.core.upstream import Runner
from medskills.segmentation import SegmentationRequest, segment_ctmr
from medskills.segmentation.ctmr import SKILL_VERSION
from medskills.segmentation.reference_pack import REFERENCE_SKILL_ID


def _run(shared_data: Path, output_dir: Path, runner: Runner):
    request = SegmentationRequest(image_path=shared_data / "ct_abdomen_3mm" / "image.nii.gz", modality="CT_BODY",
                                  output_dir=output_dir, device="cpu", prompts="liver,aorta")
    return segment_ctmr(request, settings=load_settings(), runner=runner, device_info=DeviceInfo(cuda_available=False),
                        memory_probe=lambda _: (10**12, "test"))


def _read(folder: Path, name: str) -> dict:
    return json.loads((folder / name).read_text(encoding="utf-8"))


@pytest.mark.usefixtures("bundle_env")
def test_a_passed_run_is_mirrored_value_for_value(shared_data: Path, tmp_path: Path,
                                                  stand_in: Callable[[str], Runner]) -> None:
    folder = tmp_path / "run-7"
    record = _run(shared_data, folder, stand_in("ok"))
    assert record.status is Status.PASSED and record.output is not None
    reference = _read(folder, "output.json")
    volumes = {entry.name: entry.volume_ml for entry in record.output.classes}
    assert reference["output"]["class_volumes_ml"] == volumes
    assert reference["output"]["label_ids_present"] == record.output.label_ids_present
    assert reference["input"]["shape"] == list(record.plan.input.geometry.shape)
    assert reference["invocation"]["command"] == record.invocation.argv
    assert _read(folder, "manifest.json") == {"run_id": "run-7", "skill_id": REFERENCE_SKILL_ID,
                                              "skill_version": SKILL_VERSION,
                                              "medskills_skill": record.skill}
    assert _read(folder, "validation_summary.json") == {"overall_status": "passed", "failed_gates": []}


@pytest.mark.usefixtures("bundle_env")
def test_a_failed_run_lists_exactly_its_failed_gates(shared_data: Path, tmp_path: Path,
                                                     stand_in: Callable[[str], Runner]) -> None:
    record = _run(shared_data, tmp_path / "out", stand_in("unexpected_ids"))
    failed = [gate.gate for gate in record.gates if gate.status is Status.FAILED]
    assert failed and _read(tmp_path / "out", "validation_summary.json") == {"overall_status": "failed",
                                                                           "failed_gates": failed}
    assert _read(tmp_path / "out", "output.json")["output"]["label_set_valid"] is False
