"""The run lifecycle (``core.run``), one behaviour per test, each run once per run command it applies to.

Every command goes through the real command line (typer, in process) on a machine without upstream
clones or a GPU, which is the README's situation: a synthesis or segmentation preflight is
``blocked``. The verifiers grade small runs built from the real scans; the triage commands read the
real chest CT crop with the built-in pack or a tiny random Astra pack. Which rows apply to which
commands (the rest run for all twelve):

| row | commands |
|---|---|
| preflight-only record and plan card; a blocked real run refused | synthesis, segmentation (``--preflight-only``) |
| ``--timeout-seconds 0`` is a JSON usage error | synthesis, segmentation (``--timeout-seconds``) |
| re-use of a folder holding an output-free record | all: ``--preflight-only`` twice, or a refused input twice |
| failure after the start: record and card, exit 1 | synthesis (library, stand-in upstream), verifiers, triage |
| an unexpected exception still writes the record | synthesis (the failure row's runner raises), verifiers, triage |

Segmentation's failure and crash rows live in ``tests/integration/segmentation`` (they need its
stand-in bundle).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from medskills.cli import app
from medskills.core.errors import ExitCode
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import Settings
from medskills.core.upstream import UpstreamCommand
from pretrained_support import needs_litemedsam
from standin_upstream import StandinRoot
from standin_upstream.diff_model import stand_in_pins
from standin_upstream.diff_model_fixtures import advanced_standin, gpu_device, standin_settings  # noqa: F401
from triage_models_support.builders import tiny_astra_member, write_pack
from unit.verification.run_builders import (
    build_ct_synthesis_run, build_mr_run, build_segmentation_run, load_nifti, write_record,
)

runner = CliRunner()


@dataclass(frozen=True)
class Inputs:
    """Real inputs for every command, built once: graded runs, a run that never ran, a file that is no study."""

    data: Path
    ct_run: Path
    failed_ct_run: Path
    mr_run: Path
    failed_mr_run: Path
    segmentation_run: Path
    failed_segmentation_run: Path
    preflight_only_run: Path
    not_a_study: Path
    pack: Path

    @property
    def chest(self) -> Path:
        return self.data / "ct_chest_crop_1p5mm" / "image.nii.gz"


@dataclass(frozen=True)
class Command:
    """One run command: argv (before ``--output-dir``) of a run, of a run with wrong input, of one that fails.

    ``argv`` gets past preflight where this machine allows (synthesis and segmentation: with
    ``--preflight-only``). ``failing`` gets past preflight and then fails (exit 1); ``crash_target``
    is the function of its run step a test replaces with one that raises.
    """

    name: str
    argv: Callable[[Inputs], list[str]]
    wrong_input: Callable[[Inputs], list[str]]
    is_upstream_run: bool = False  # has --preflight-only, --timeout-seconds and a cost gate
    failing: Callable[[Inputs], list[str]] | None = None
    crash_target: str = ""
    marks: list[pytest.MarkDecorator] = field(default_factory=list)


def _synth(kind: str, *extra: str) -> Command:
    return Command(f"synth {kind}", lambda i: ["synth", kind, "default", *extra, "--preflight-only"],
                   lambda i: ["synth", kind, str(i.data / "absent.json")], is_upstream_run=True)


_PAIR = ["--organ", "liver", "--slices-per-organ", "1"]
COMMANDS = [
    _synth("ct"), _synth("ct-mask"), _synth("ct-image"), _synth("mr-brain"),
    Command("synth ct-from-mask", lambda i: [
        "synth", "ct-from-mask", str(i.data / "ct_abdomen_3mm" / "reference_totalsegmentator.nii.gz"),
        "--source-labels", "totalsegmentator", "--add-body-envelope", str(i.data / "ct_abdomen_3mm" / "image.nii.gz"),
        "--preflight-only"], lambda i: [
        "synth", "ct-from-mask", str(i.data / "absent.nii.gz"), "--source-labels", "totalsegmentator"],
        is_upstream_run=True),
    Command("segment ctmr", lambda i: ["segment", "ctmr", str(i.data / "ct_abdomen_3mm" / "image.nii.gz"),
                                       "--modality", "CT_BODY", "--device", "cpu", "--preflight-only"],
            lambda i: ["segment", "ctmr", str(i.data / "absent.nii.gz"), "--modality", "CT_BODY", "--device", "cpu"],
            is_upstream_run=True),
    Command("verify ct-synthesis", lambda i: ["verify", "ct-synthesis", str(i.ct_run)],
            lambda i: ["verify", "ct-synthesis", str(i.preflight_only_run)],
            failing=lambda i: ["verify", "ct-synthesis", str(i.failed_ct_run)],
            crash_target="medskills.verification.grade_ct_synthesis"),
    Command("verify mr-synthesis", lambda i: ["verify", "mr-synthesis", str(i.mr_run)],
            lambda i: ["verify", "mr-synthesis", str(i.preflight_only_run)],
            failing=lambda i: ["verify", "mr-synthesis", str(i.failed_mr_run)],
            crash_target="medskills.verification.grade_mr_synthesis"),
    Command("verify segmentation", lambda i: ["verify", "segmentation", str(i.segmentation_run)],
            lambda i: ["verify", "segmentation", str(i.preflight_only_run)],
            failing=lambda i: ["verify", "segmentation", str(i.failed_segmentation_run)],
            crash_target="medskills.verification.grade_segmentation"),
    Command("verify ct-pair-consistency", lambda i: ["verify", "ct-pair-consistency", str(i.ct_run), *_PAIR],
            lambda i: ["verify", "ct-pair-consistency", str(i.preflight_only_run)],
            failing=lambda i: ["verify", "ct-pair-consistency", str(i.failed_ct_run), *_PAIR],
            crash_target="medskills.verification.grade_ct_pair_consistency", marks=[needs_litemedsam]),
    Command("triage predict", lambda i: ["triage", "predict", str(i.chest), "--pack", str(i.pack)],
            lambda i: ["triage", "predict", str(i.not_a_study)],
            failing=lambda i: ["triage", "predict", str(i.chest), "--pack", str(i.data / "absent_pack")],
            crash_target="medskills.triage.study_runs.predict_study"),
    Command("triage extract-features", lambda i: ["triage", "extract-features", str(i.chest), "--pack", str(i.pack)],
            lambda i: ["triage", "extract-features", str(i.not_a_study), "--pack", str(i.pack)],
            failing=lambda i: ["triage", "extract-features", str(i.chest), "--pack", str(i.data / "absent_pack")],
            crash_target="medskills.triage.study_runs.extract_feature_table"),
]
IDS = [command.name for command in COMMANDS]


def _params(commands: list[Command]) -> list[object]:
    return [pytest.param(command, id=command.name, marks=command.marks) for command in commands]


ALL = _params(COMMANDS)
UPSTREAM_RUNS = _params([command for command in COMMANDS if command.is_upstream_run])
WITHOUT_UPSTREAM = [command for command in COMMANDS if command.failing is not None]


@pytest.fixture(scope="module")
def inputs(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    root = tmp_path_factory.mktemp("inputs")
    scan = shared_data / "ct_abdomen_3mm"
    reference, affine = load_nifti(scan / "reference_totalsegmentator.nii.gz")
    from medskills.core.label_spaces import map_labels

    vista = map_labels(reference, source="totalsegmentator", target="vista3d").labels
    brain, brain_affine = load_nifti(shared_data / "mr_brain_t1" / "image.nii.gz")
    runs = {}
    for name in ("ct_run", "failed_ct_run"):
        runs[name] = build_ct_synthesis_run(root / name, shared_data)
    for name in ("mr_run", "failed_mr_run"):
        runs[name] = build_mr_run(root / name, brain.astype(np.float32), brain_affine)
    for name in ("segmentation_run", "failed_segmentation_run"):
        runs[name] = build_segmentation_run(root / name, scan / "image.nii.gz", vista, affine)
    for name in ("failed_ct_run", "failed_mr_run", "failed_segmentation_run"):  # the run failed its own gates
        record = json.loads((runs[name] / "result.json").read_text())
        write_record(runs[name], {**record, "status": "failed", "exit_code": 1})
    preflight_only = root / "preflight_only"
    done = runner.invoke(app, ["synth", "mr-brain", "default", "--output-dir", str(preflight_only), "--preflight-only"])
    assert done.exit_code == 0, done.stdout
    (root / "notes.txt").write_text("not a study")
    (root / "pack").mkdir()
    pack = write_pack(root / "pack", {"model_version": "tiny", "members": [tiny_astra_member(root / "pack")]})
    return Inputs(data=shared_data, preflight_only_run=preflight_only, not_a_study=root / "notes.txt", pack=pack,
                  **runs)


def _invoke(argv: list[str], output_dir: Path, *extra: str) -> tuple[int, dict, str]:
    result = runner.invoke(app, [*argv, "--output-dir", str(output_dir), *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, json.loads(result.stdout), result.stderr


def _summary_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


@pytest.mark.parametrize("command", ALL)
def test_stdout_is_one_json_record_the_folder_holds_it_and_stderr_ends_with_the_summary(
    command: Command, inputs: Inputs, tmp_path: Path,
) -> None:
    code, record, stderr = _invoke(command.argv(inputs), tmp_path / "out")  # json.loads: one document, no progress
    assert code == record["exit_code"] and code in (ExitCode.OK, ExitCode.FAILED)
    assert json.loads((tmp_path / "out" / "result.json").read_text()) == record
    card = tmp_path / "out" / "summary.html"
    assert card.is_file() and record["card_path"] == str(card)
    lines = _summary_lines(stderr)
    assert lines[-1].strip().startswith("next:")
    assert any(line.startswith(f"{record['skill']}:") and f"exit {code}" in line for line in lines)


@pytest.mark.parametrize("command", ALL)
def test_a_usage_error_is_exit_2_with_a_json_record_and_the_blocking_problem_first(
    command: Command, inputs: Inputs, tmp_path: Path,
) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    code, record, stderr = _invoke(command.argv(inputs), tmp_path / "taken")
    assert code == ExitCode.USAGE == record["exit_code"] and record["error_type"] == "UsageError"
    assert "is not a folder" in record["error"] and "Traceback" not in stderr
    lines = _summary_lines(stderr)
    blocking = next(i for i, line in enumerate(lines) if "BLOCKING 1." in line)
    assert "is not a folder" in lines[blocking] and lines[-1].strip().startswith("next:") and blocking < len(lines) - 1


@pytest.mark.parametrize("command", ALL)
def test_wrong_or_unreadable_input_is_exit_2_with_a_clear_error_and_no_traceback(
    command: Command, inputs: Inputs, tmp_path: Path,
) -> None:
    code, record, stderr = _invoke(command.wrong_input(inputs), tmp_path / "out")
    assert code == ExitCode.USAGE == record["exit_code"] and record["status"] == "failed"
    assert "Traceback" not in stderr and "Input should be" not in stderr and "BLOCKING 1." in stderr
    if (tmp_path / "out" / "result.json").exists():  # a refused input of a run is recorded, with a card
        assert json.loads((tmp_path / "out" / "result.json").read_text()) == record
        assert record["preflight"]["status"] == "invalid" and (tmp_path / "out" / "summary.html").is_file()
    else:  # a command line that cannot be read is a usage error: nothing is written
        assert record["error_type"] == "UsageError" and not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ALL)
def test_a_folder_with_other_content_is_refused_untouched(command: Command, inputs: Inputs, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep me")
    code, record, stderr = _invoke(command.argv(inputs), tmp_path / "out")
    assert code == ExitCode.USAGE and record["error_type"] == "UsageError" and "not empty" in record["error"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["mine.txt"]
    assert (tmp_path / "out" / "mine.txt").read_text() == "keep me"
    assert "BLOCKING 1." in stderr


def _output_free(command: Command, inputs: Inputs) -> list[str]:
    """A run that leaves only a record: a preflight-only run, or (no upstream) a refused input."""
    return command.argv(inputs) if command.is_upstream_run else command.wrong_input(inputs)


@pytest.mark.parametrize("command", ALL)
def test_rerun_into_the_same_folder_reuses_it_and_keeps_the_earlier_record(
    command: Command, inputs: Inputs, tmp_path: Path,
) -> None:
    if not command.is_upstream_run:  # the refused run must be one the folder records
        assert _invoke(_output_free(command, inputs), tmp_path / "probe")[0] == ExitCode.USAGE
    first = _invoke(_output_free(command, inputs), tmp_path / "out")
    second = _invoke(_output_free(command, inputs), tmp_path / "out")
    assert first[0] == second[0]
    kept = list((tmp_path / "out" / ".previous").glob("*/result.json"))
    assert len(kept) == 1 and json.loads(kept[0].read_text())["started_at"] == first[1]["started_at"]
    assert second[1]["previous_record_dir"] == str(kept[0].parent)
    assert (tmp_path / "out" / "summary.html").is_file()


def test_a_folder_holding_a_finished_verdict_is_not_reused(inputs: Inputs, tmp_path: Path) -> None:
    code, _, _ = _invoke(["verify", "ct-synthesis", str(inputs.ct_run)], tmp_path / "out")
    assert code == ExitCode.OK
    code, record, _ = _invoke(["verify", "ct-synthesis", str(inputs.ct_run)], tmp_path / "out")
    assert code == ExitCode.USAGE and "not empty" in record["error"]
    assert not (tmp_path / "out" / ".previous").exists()


@pytest.mark.parametrize("command", UPSTREAM_RUNS)
def test_preflight_only_writes_a_blocked_record_and_a_plan_card_and_exits_0(
    command: Command, inputs: Inputs, tmp_path: Path,
) -> None:
    code, record, stderr = _invoke(command.argv(inputs), tmp_path / "out")
    assert code == ExitCode.OK and record["exit_code"] == 0 and record["status"] == "skipped"
    assert record["preflight"]["status"] == "blocked" and record["preflight"]["errors"]
    card = (tmp_path / "out" / "summary.html").read_text()
    assert "Checks" in card and record["preflight"]["errors"][0]["message"][:40] in card.replace("&#39;", "'")
    assert "preflight blocked" in stderr and "BLOCKING 1." in stderr and "next:" in stderr


def _without_preflight_only(command: Command, inputs: Inputs) -> list[str]:
    return [word for word in command.argv(inputs) if word != "--preflight-only"]


@pytest.mark.parametrize("command", UPSTREAM_RUNS)
def test_timeout_zero_is_a_json_usage_error_with_exit_2(command: Command, inputs: Inputs, tmp_path: Path) -> None:
    code, record, stderr = _invoke(_without_preflight_only(command, inputs), tmp_path / "out", "--timeout-seconds", "0")
    assert code == ExitCode.USAGE == record["exit_code"] and record["status"] == "failed"
    assert any("timeout" in problem and "greater than 0" in problem for problem in record["problems"])
    assert "Traceback" not in stderr and "BLOCKING 1." in stderr and "timeout" in stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", UPSTREAM_RUNS)
def test_a_blocked_real_run_is_refused_with_exit_2_blocking_problem_first(
    command: Command, inputs: Inputs, tmp_path: Path,
) -> None:
    code, record, stderr = _invoke(_without_preflight_only(command, inputs), tmp_path / "out", "--yes")
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


@pytest.mark.parametrize("command", _params(WITHOUT_UPSTREAM))
def test_a_failure_after_the_start_still_writes_the_record_and_a_card_with_exit_1(
    command: Command, inputs: Inputs, tmp_path: Path,
) -> None:
    assert command.failing is not None
    code, record, stderr = _invoke(command.failing(inputs), tmp_path / "out")
    assert code == ExitCode.FAILED == record["exit_code"] and record["status"] == "failed"
    assert record["preflight"]["status"] == "ready" and record["failure_reasons"]
    assert json.loads((tmp_path / "out" / "result.json").read_text()) == record
    assert (tmp_path / "out" / "summary.html").is_file() and "Traceback" not in stderr
    assert "BLOCKING 1." in stderr and record["failure_reasons"][0][:30] in stderr


@pytest.mark.parametrize("command", _params(WITHOUT_UPSTREAM))
def test_an_unexpected_exception_still_writes_the_record_with_exit_1_and_the_traceback_on_stderr(
    command: Command, inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the run step")

    monkeypatch.setattr(command.crash_target, broken)
    code, record, stderr = _invoke(command.argv(inputs), tmp_path / "out")
    assert code == ExitCode.FAILED == record["exit_code"] and record["output"] is None
    assert "unexpected RuntimeError: a bug in the run step" in record["failure_reasons"][0]
    assert json.loads((tmp_path / "out" / "result.json").read_text()) == record
    assert "Traceback" in stderr and (tmp_path / "out" / "summary.html").is_file()


@pytest.mark.parametrize(("name", "bar"), [("verify ct-synthesis", "volumes"), ("verify mr-synthesis", "volumes"),
                                           ("verify segmentation", "volumes"), ("triage predict", "steps"),
                                           ("triage extract-features", "studies")])
def test_long_work_shows_a_progress_bar_on_stderr_and_never_on_stdout(
    name: str, bar: str, inputs: Inputs, tmp_path: Path,
) -> None:
    command = next(command for command in COMMANDS if command.name == name)
    result = runner.invoke(app, [*command.argv(inputs), "--output-dir", str(tmp_path / "out")])
    record = json.loads(result.stdout)  # the whole of stdout is the one record
    assert result.exit_code == record["exit_code"] and record["output"] is not None
    drawn = [line for line in result.stderr.splitlines() if line.startswith(bar)]
    assert drawn and drawn[-1].split()[-2].split("/")[0] == drawn[-1].split()[-2].split("/")[1]  # e.g. 2/2
    assert not any(line.startswith(bar) for line in result.stdout.splitlines())


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


@pytest.mark.parametrize("name", [name for name in IDS if name.startswith("synth ")])
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
