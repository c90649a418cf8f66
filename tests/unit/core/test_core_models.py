"""Core records: the preflight status is derived from its two flags and never contradicts them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from medskills.core.models import PreflightReport, PreflightStatus, RunRecord, Status, preflight_status


@pytest.mark.parametrize(("request_valid", "environment_ready", "status"), [
    (True, True, PreflightStatus.READY), (True, False, PreflightStatus.BLOCKED),
    (False, True, PreflightStatus.INVALID), (False, False, PreflightStatus.INVALID),
])
def test_status_follows_the_flags(request_valid: bool, environment_ready: bool, status: PreflightStatus) -> None:
    assert preflight_status(request_valid=request_valid, environment_ready=environment_ready) is status
    assert PreflightReport(request_valid=request_valid, environment_ready=environment_ready).status is status


def test_a_status_that_contradicts_the_flags_is_refused() -> None:
    with pytest.raises(ValidationError, match="contradicts"):
        PreflightReport.model_validate({"status": "ready", "request_valid": True, "environment_ready": False})


def test_with_updates_validates_the_copy() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    record = RunRecord(skill="x", status=Status.PASSED, exit_code=0, started_at=now, finished_at=now,
                       output_dir=Path("out"), preflight=PreflightReport(request_valid=True, environment_ready=True))
    failed = record.with_updates(status=Status.FAILED, exit_code=1, failure_reasons=["gate dice failed"])
    assert (record.status, failed.status, failed.failure_reasons) == (Status.PASSED, Status.FAILED, ["gate dice failed"])
    with pytest.raises(ValidationError):
        record.with_updates(status="finished")
    with pytest.raises(ValidationError):
        record.with_updates(unknown_field=1)
