"""The stderr summary: blocking problems first (request before machine), at most five warnings, one next step."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from medskills.core.models import Check, Invocation, PreflightReport, RunRecord, Severity, Status
from medskills.core.run_summary import summarize_run

_NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _check(code: str, *, severity: Severity = Severity.ERROR, blocks_request: bool = True) -> Check:
    return Check(code=code, severity=severity, message=f"{code} message", field=f"{code}_field",
                 fix=f"fix {code}", blocks_request=blocks_request)


def _record(*, exit_code: int, report: PreflightReport, failure_reasons: list[str] | None = None,
            status: Status = Status.FAILED) -> RunRecord:
    return RunRecord(skill="nv-segment-ctmr", status=status, exit_code=exit_code, started_at=_NOW, finished_at=_NOW,
                     output_dir=Path("/runs/out"), preflight=report, failure_reasons=failure_reasons or [])


def test_request_problems_come_before_machine_problems_and_the_fix_is_the_first_machine_fix() -> None:
    report = PreflightReport(request_valid=True, environment_ready=False,
                             errors=[_check("no_gpu", blocks_request=False), _check("no_weights", blocks_request=False)])
    summary = summarize_run(_record(exit_code=2, report=report, failure_reasons=["preflight blocked"]),
                            is_preflight_only=True)
    assert summary.blocking == ["no_gpu_field: no_gpu message Fix: fix no_gpu",
                                "no_weights_field: no_weights message Fix: fix no_weights"]
    assert summary.next_step == "fix no_gpu; then run without --preflight-only."
    assert summary.lines()[1].startswith("  BLOCKING 1. no_gpu_field")


def test_an_invalid_request_lists_the_request_error_first() -> None:
    report = PreflightReport(request_valid=False, environment_ready=False,
                             errors=[_check("no_gpu", blocks_request=False), _check("bad_prompt")])
    summary = summarize_run(_record(exit_code=2, report=report, failure_reasons=["preflight invalid"]),
                            is_preflight_only=False)
    assert summary.blocking[0].startswith("bad_prompt_field") and "re-used" in summary.next_step


def test_a_failed_upstream_run_puts_its_reasons_first_and_points_at_the_logs() -> None:
    report = PreflightReport(request_valid=True, environment_ready=True)
    invocation = Invocation(argv=["python", "-m", "monai.bundle"], cwd=Path("/bundle"), exit_code=1,
                            timeout_seconds=60.0, runtime_seconds=1.0, started_at=_NOW)
    record = _record(exit_code=1, report=report, failure_reasons=["gate dice below 0.8"]).with_updates(
        invocation=invocation)
    summary = summarize_run(record, is_preflight_only=False)
    assert summary.blocking == ["gate dice below 0.8"]
    assert "/runs/out/logs" in summary.next_step and summary.headline.startswith("nv-segment-ctmr: run failed, exit 1")


def test_a_failed_run_without_an_upstream_points_at_its_record_not_at_logs() -> None:
    report = PreflightReport(request_valid=True, environment_ready=True)
    summary = summarize_run(_record(exit_code=1, report=report, failure_reasons=["verdict failed"]),
                            is_preflight_only=False)
    assert "/runs/out/result.json" in summary.next_step and "logs" not in summary.next_step


def test_a_timeout_says_to_raise_the_timeout() -> None:
    report = PreflightReport(request_valid=True, environment_ready=True)
    summary = summarize_run(_record(exit_code=124, report=report, failure_reasons=["timed out"]),
                            is_preflight_only=False)
    assert "--timeout-seconds" in summary.next_step


def test_at_most_five_warnings_are_shown_and_the_rest_counted() -> None:
    report = PreflightReport(request_valid=True, environment_ready=True,
                             warnings=[_check(f"w{i}", severity=Severity.WARNING) for i in range(7)])
    lines = summarize_run(_record(exit_code=0, report=report, status=Status.PASSED), is_preflight_only=False,
                          success_hint="medskills verify segmentation /runs/out").lines()
    assert sum(line.startswith("  warning: ") for line in lines) == 5
    assert "  (+2 more warnings in result.json)" in lines
    assert lines[-1] == "  next: medskills verify segmentation /runs/out"
