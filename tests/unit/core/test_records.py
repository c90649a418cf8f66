"""``finish_run`` writes ``result.json`` (readable back as the same record); ``file_artifact`` hashes the file."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from medskills.core.models import PreflightReport, RunRecord, Status
from medskills.core.records import RESULT_FILE_NAME, file_artifact, finish_run


def test_finish_run_writes_the_record_it_returns(tmp_path: Path) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    record = RunRecord(skill="x", status=Status.FAILED, exit_code=1, started_at=now, finished_at=now,
                       output_dir=tmp_path, preflight=PreflightReport(request_valid=True, environment_ready=True),
                       failure_reasons=["upstream exited 1"])
    assert finish_run(record, tmp_path) is record
    assert RunRecord.model_validate_json((tmp_path / RESULT_FILE_NAME).read_text()) == record
    assert [p.name for p in tmp_path.iterdir()] == [RESULT_FILE_NAME]  # no temporary file left behind


def test_file_artifact_records_size_and_sha256(tmp_path: Path) -> None:
    path = tmp_path / "labels.nii.gz"
    path.write_bytes(b"\x00\x01" * 1000)
    artifact = file_artifact("label_map", path)
    assert (artifact.role, artifact.path, artifact.bytes) == ("label_map", path, 2000)
    assert artifact.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
