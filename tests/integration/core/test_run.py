"""The run lifecycle (``core.run``), one behaviour per test, each run once per migrated run command.

Every command goes through the real command line (typer, in process) on a machine without upstream
clones or a GPU, which is the README's situation: preflight is ``blocked``. The failure-after-preflight
row needs a ``ready`` preflight, so it runs the library entry points against the stand-in upstream.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medskills.cli import app
from medskills.core.errors import ExitCode
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import Settings
from medskills.core.upstream import UpstreamCommand
from standin_upstream import StandinRoot
from standin_upstream.diff_model import stand_in_pins
from standin_upstream.diff_model_fixtures import advanced_standin, gpu_device, standin_settings  # noqa: F401

runner = CliRunner()


@dataclass(frozen=True)
class Command:
    """One run command: its name and its argv before ``--output-dir`` (given the real scans folder)."""

    name: str
    argv: Callable[[Path], list[str]]


COMMANDS = [
    Command("synth ct", lambda data: ["synth", "ct", "default"]),
    Command("synth ct-mask", lambda data: ["synth", "ct-mask", "default"]),
    Command("synth ct-from-mask", lambda data: [
        "synth", "ct-from-mask", str(data / "ct_abdomen_3mm" / "reference_totalsegmentator.nii.gz"),
        "--source-labels", "totalsegmentator", "--add-body-envelope", str(data / "ct_abdomen_3mm" / "image.nii.gz")]),
    Command("synth ct-image", lambda data: ["synth", "ct-image", "default"]),
    Command("synth mr-brain", lambda data: ["synth", "mr-brain", "default"]),
    Command("segment ctmr", lambda data: ["segment", "ctmr", str(data / "ct_abdomen_3mm" / "image.nii.gz"),
                                          "--modality", "CT_BODY", "--device", "cpu"]),
]
IDS = [command.name for command in COMMANDS]


def _invoke(command: Command, shared_data: Path, output_dir: Path, *extra: str) -> tuple[int, dict, str]:
    result = runner.invoke(app, [*command.argv(shared_data), "--output-dir", str(output_dir), *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, json.loads(result.stdout), result.stderr


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_preflight_only_writes_a_blocked_record_and_a_plan_card_and_exits_0(
    command: Command, shared_data: Path, tmp_path: Path,
) -> None:
    code, record, stderr = _invoke(command, shared_data, tmp_path / "out", "--preflight-only")
    assert code == ExitCode.OK and record["exit_code"] == 0 and record["status"] == "skipped"
    assert record["preflight"]["status"] == "blocked" and record["preflight"]["errors"]
    assert json.loads((tmp_path / "out" / "result.json").read_text()) == record
    card = (tmp_path / "out" / "summary.html").read_text()
    assert "Checks" in card and record["preflight"]["errors"][0]["message"][:40] in card.replace("&#39;", "'")
    assert "preflight blocked" in stderr and "BLOCKING 1." in stderr and "next:" in stderr


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_rerun_into_the_same_folder_reuses_it_and_keeps_the_earlier_record(
    command: Command, shared_data: Path, tmp_path: Path,
) -> None:
    first = _invoke(command, shared_data, tmp_path / "out", "--preflight-only")
    second = _invoke(command, shared_data, tmp_path / "out", "--preflight-only")
    assert first[0] == second[0] == ExitCode.OK
    kept = list((tmp_path / "out" / ".previous").glob("*/result.json"))
    assert len(kept) == 1 and json.loads(kept[0].read_text())["started_at"] == first[1]["started_at"]
    assert second[1]["previous_record_dir"] == str(kept[0].parent)
    assert (tmp_path / "out" / "summary.html").is_file()


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_folder_with_other_content_is_refused_untouched(command: Command, shared_data: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep me")
    code, record, stderr = _invoke(command, shared_data, tmp_path / "out", "--preflight-only")
    assert code == ExitCode.USAGE and record["error_type"] == "UsageError" and "not empty" in record["error"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["mine.txt"]
    assert "BLOCKING 1." in stderr


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_timeout_zero_is_a_json_usage_error_with_exit_2(command: Command, shared_data: Path, tmp_path: Path) -> None:
    code, record, stderr = _invoke(command, shared_data, tmp_path / "out", "--timeout-seconds", "0")
    assert code == ExitCode.USAGE == record["exit_code"] and record["status"] == "failed"
    assert any("timeout" in problem and "greater than 0" in problem for problem in record["problems"])
    assert "Traceback" not in stderr and "BLOCKING 1." in stderr and "timeout" in stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_blocked_real_run_is_refused_with_exit_2_blocking_problem_first(
    command: Command, shared_data: Path, tmp_path: Path,
) -> None:
    code, record, stderr = _invoke(command, shared_data, tmp_path / "out", "--yes")
    assert code == ExitCode.USAGE == record["exit_code"] and record["status"] == "failed"
    assert record["preflight"]["status"] == "blocked" and record["invocation"] is None
    assert record["failure_reasons"][0].startswith("preflight ")
    assert (tmp_path / "out" / "result.json").is_file() and (tmp_path / "out" / "summary.html").is_file()
    lines = stderr.splitlines()
    blocking = next(i for i, line in enumerate(lines) if "BLOCKING 1." in line)
    next_step = next(i for i, line in enumerate(lines) if line.strip().startswith("next:"))
    warnings = [i for i, line in enumerate(lines) if line.strip().startswith("warning:")]
    assert blocking < next_step and all(blocking < i < next_step for i in warnings)
    assert record["preflight"]["errors"][0]["message"][:30] in lines[blocking]


def _broken_runner(command: UpstreamCommand) -> None:
    raise OSError(f"cannot start {command.argv[0]}: no space left on device")


def _synth_calls(tmp_path: Path, shared_data: Path) -> dict[str, Callable[..., object]]:
    from medskills.synthesis.ct_from_mask.run import generate_ct_from_mask
    from medskills.synthesis.ct_from_mask.request import CTFromMaskRequest
    from medskills.synthesis.ct_image.run import generate_ct_image
    from medskills.synthesis.ct_image.request import CTImageRequest
    from medskills.synthesis.ct_mask.run import generate_ct_masks
    from medskills.synthesis.ct_mask.request import CTMaskRequest
    from medskills.synthesis.paired_ct.request import CTRunRequest
    from medskills.synthesis.paired_ct.run import run_ct_synthesis
    from medskills.synthesis.mr_brain.run import generate_mr_brain
    from medskills.synthesis.mr_brain.request import MRBrainRequest

    out = tmp_path / "out"
    scan = shared_data / "ct_abdomen_3mm"
    small = tmp_path / "small.json"
    small.write_text(json.dumps({"dim": [256, 256, 128], "spacing": [1.5, 1.5, 3.0], "num_inference_steps": 5}))
    return {
        "synth ct": lambda **kw: run_ct_synthesis(
            CTRunRequest(config_path=None, output_dir=out, is_cost_confirmed=True), **kw),
        "synth ct-mask": lambda **kw: generate_ct_masks(CTMaskRequest(output_dir=out, is_cost_confirmed=True), **kw),
        "synth ct-from-mask": lambda **kw: generate_ct_from_mask(CTFromMaskRequest.from_cli(
            request_path=scan / "reference_totalsegmentator.nii.gz", output_dir=out, random_seed=0,
            source_labels="totalsegmentator", body_envelope_ct=scan / "image.nii.gz", allow_missing_body_label=False,
            is_cost_confirmed=True, is_preflight_only=False, timeout_seconds=60.0), **kw),
        "synth ct-image": lambda **kw: generate_ct_image(CTImageRequest(config_path=small, output_dir=out,
                                                                        is_cost_confirmed=True), **kw),
        "synth mr-brain": lambda **kw: generate_mr_brain(MRBrainRequest(output_dir=out, is_cost_confirmed=True), **kw),
    }


@pytest.mark.parametrize("name", IDS[:5])
def test_a_failure_after_a_ready_preflight_still_writes_the_record_and_a_card(
    name: str, tmp_path: Path, shared_data: Path, advanced_standin: StandinRoot,  # noqa: F811
    standin_settings: Settings, gpu_device: DeviceInfo,  # noqa: F811
) -> None:
    pins = stand_in_pins(advanced_standin.root, tuple(p.name for p in (advanced_standin.root / "models").glob("*.pt")))
    record = _synth_calls(tmp_path, shared_data)[name](settings=standin_settings, runner=_broken_runner,
                                                      device=gpu_device, expected_sha256=pins)
    assert record.preflight.status == "ready", record.preflight.errors
    assert record.exit_code == ExitCode.FAILED and "no space left on device" in record.failure_reasons[0]
    written = json.loads((tmp_path / "out" / "result.json").read_text())
    assert written["exit_code"] == 1 and written["failure_reasons"] == record.failure_reasons
    assert (tmp_path / "out" / "summary.html").is_file() and record.card_path is not None


def test_the_readme_main_command_run_twice_into_one_folder_exits_0_both_times_and_leaves_a_card(
    tmp_path: Path,
) -> None:
    import os
    import re
    import shlex
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[3]
    block = re.search(r"Preflight the CT synthesis skill.*?```bash\n(.*?)```", (repo / "README.md").read_text(), re.S)
    assert block is not None, "the README lost its main command"
    argv = shlex.split(block.group(1).replace("\\\n", " "))
    assert argv[0] == "python" and "--preflight-only" in argv
    argv[argv.index("--output-dir") + 1] = str(tmp_path / "ct-preflight")
    codes = [subprocess.run([sys.executable, *argv[1:]], cwd=repo, capture_output=True, text=True, timeout=300,
                            check=False, env={**os.environ, "PYTHONPATH": str(repo / "src")}).returncode
             for _ in range(2)]
    assert codes == [0, 0]
    assert (tmp_path / "ct-preflight" / "summary.html").is_file()
    assert len(list((tmp_path / "ct-preflight" / ".previous").glob("*/result.json"))) == 1
