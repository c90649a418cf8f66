"""Whole-skill runs against a stand-in runner: each way the bundle can fail is caught and exits non-zero."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from medskills.core.errors import UsageError
from medskills.core.models import Status
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import load_settings
from medskills.core.upstream import Runner
from medskills.segmentation import SegmentationRequest, segment_ctmr
from medskills.verification.run_inputs import SegmentationRun, load_run

NO_GPU = DeviceInfo(cuda_available=False)


def _run(image: Path, output_dir: Path, runner: Runner, **fields: object):
    request = SegmentationRequest(image_path=image, modality="CT_BODY", output_dir=output_dir, device="cpu",
                                  **{"prompts": "liver,aorta", **fields})
    return segment_ctmr(request, settings=load_settings(), runner=runner, device_info=NO_GPU,
                        memory_probe=lambda _: (10**12, "test"))


def _failed_gates(record) -> set[str]:
    return {gate.gate for gate in record.gates if gate.status == Status.FAILED}


@pytest.fixture()
def ct(shared_data: Path) -> Path:
    return shared_data / "ct_abdomen_3mm" / "image.nii.gz"


@pytest.mark.usefixtures("bundle_env")
def test_stand_in_success_passes_every_gate_and_writes_the_pack(
    ct: Path, tmp_path: Path, stand_in: Callable[[str], Runner]
) -> None:
    record = _run(ct, tmp_path / "out", stand_in("ok"))
    assert record.status == Status.PASSED and record.exit_code == 0
    assert record.output is not None and record.output.label_ids_present == [1, 6]
    for name in ("result.json", "output.json", "manifest.json", "validation_summary.json", "labels.nii.gz",
                 "summary.html"):
        assert (tmp_path / "out" / name).is_file(), name
    reference = json.loads((tmp_path / "out" / "output.json").read_text())
    assert reference["skill"] == "nv_segment_ctmr" and reference["output"]["label_set_valid"] is True
    assert reference["output"]["class_counts"].keys() == {"liver", "aorta"}
    assert reference["invocation"]["official_entrypoint"] == "python -m monai.bundle run"
    run, _ = load_run(tmp_path / "out", SegmentationRun)  # the verifier's reader accepts our record
    assert run.output.mask_path == tmp_path / "out" / "labels.nii.gz" and run.request.modality == "CT_BODY"


@pytest.mark.usefixtures("bundle_env")
def test_relative_image_and_ground_truth_paths_are_recorded_absolute_for_a_verifier_elsewhere(
    ct: Path, tmp_path: Path, stand_in: Callable[[str], Runner], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ct.parent)
    record = _run(Path(ct.name), tmp_path / "out", stand_in("ok"), ground_truth_path=Path(ct.name))
    assert record.request.image_path == ct and record.request.ground_truth_path == ct
    monkeypatch.chdir(tmp_path)
    run, _ = load_run(tmp_path / "out", SegmentationRun)
    assert run.request.image == ct and run.request.ground_truth == ct


@pytest.mark.usefixtures("bundle_env")
@pytest.mark.parametrize(("mode", "gates", "exit_code"), [
    ("no_output", {"output_exists"}, 1),
    ("traceback", {"no_traceback"}, 1),
    ("unexpected_ids", {"label_set_within_allowed"}, 1),
    ("non_integral", {"label_values_integral"}, 1),
    ("shape_mismatch", {"geometry_matches_input"}, 1),
    ("timeout", {"output_exists"}, 124),
])
def test_each_upstream_failure_mode_fails_the_run(
    ct: Path, tmp_path: Path, stand_in: Callable[[str], Runner], mode: str, gates: set[str], exit_code: int
) -> None:
    record = _run(ct, tmp_path / "out", stand_in(mode))
    assert record.status == Status.FAILED and record.exit_code == exit_code
    assert gates <= _failed_gates(record)
    saved = json.loads((tmp_path / "out" / "result.json").read_text())
    assert saved["exit_code"] == exit_code and saved["failure_reasons"]
    summary = json.loads((tmp_path / "out" / "validation_summary.json").read_text())
    assert summary["overall_status"] == "failed"


@pytest.mark.usefixtures("bundle_env")
def test_subclass_prompt_is_sent_expanded_and_output_checked_against_the_expansion(
    ct: Path, tmp_path: Path, stand_in: Callable[[str], Runner]
) -> None:
    runner = stand_in("ok")
    record = _run(ct, tmp_path / "out", runner, prompts="kidney")
    argv = runner.commands[0].argv
    assert "'label_prompt': [5, 14]" in argv[argv.index("--input_dict") + 1]
    assert record.plan.prompts.requested_ids == [2] and record.output.label_ids_present == [5, 14]


@pytest.mark.usefixtures("bundle_env")
def test_timeout_comes_from_the_window_estimate(
    ct: Path, tmp_path: Path, stand_in: Callable[[str], Runner]
) -> None:
    runner = stand_in("ok")
    record = _run(ct, tmp_path / "out", runner)
    assert runner.commands[0].timeout_seconds == record.plan.timeout_seconds
    assert runner.commands[0].cwd == record.plan.bundle.root


@pytest.mark.usefixtures("bundle_env")
def test_preflight_errors_write_evidence_and_never_call_the_runner(
    ct: Path, tmp_path: Path, stand_in: Callable[[str], Runner]
) -> None:
    runner = stand_in("ok")
    record = _run(ct, tmp_path / "out", runner, prompts="155")
    assert record.exit_code == 2 and runner.commands == []
    assert json.loads((tmp_path / "out" / "result.json").read_text())["preflight"]["request_valid"] is False


def test_a_non_empty_output_dir_is_refused_untouched(
    ct: Path, tmp_path: Path, stand_in: Callable[[str], Runner]
) -> None:
    (tmp_path / "out").mkdir()
    keep = tmp_path / "out" / "keep.txt"
    keep.write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        _run(ct, tmp_path / "out", stand_in("ok"))
    assert keep.read_text() == "mine" and len(list((tmp_path / "out").iterdir())) == 1


@pytest.mark.usefixtures("bundle_env")
def test_an_unexpected_error_after_a_ready_preflight_still_writes_the_record_and_a_card(
    ct: Path, tmp_path: Path
) -> None:
    def broken(command: object) -> None:
        raise OSError("cannot start the bundle: no space left on device")

    record = _run(ct, tmp_path / "out", broken)
    assert record.preflight.status == "ready" and record.exit_code == 1
    assert "no space left on device" in record.failure_reasons[0]
    assert json.loads((tmp_path / "out" / "result.json").read_text())["exit_code"] == 1
    assert (tmp_path / "out" / "summary.html").is_file()
