"""``setup``/``doctor`` records at the boundary: a pinned revision is a full commit, unknown keys are
refused, and a report survives its own JSON."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from medskills.core.assets import SkillId
from medskills.setup.models import DoctorReport, DoctorRow, RowStatus, SetupRequest


def test_a_hub_revision_must_be_a_full_commit(tmp_path: Path) -> None:
    full = "0123456789abcdef0123456789abcdef01234567"
    assert SetupRequest(skill=SkillId.SEGMENT_CTMR, root=tmp_path, hub_revision=full).hub_revision == full
    with pytest.raises(ValidationError, match="hub_revision"):
        SetupRequest(skill=SkillId.SEGMENT_CTMR, root=tmp_path, hub_revision="0123456")


def test_unknown_keys_and_skills_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="extra"):
        SetupRequest.model_validate({"skill": "segment-ctmr", "root": str(tmp_path), "hub_revison": "x"})
    with pytest.raises(ValidationError, match="skill"):
        SetupRequest.model_validate({"skill": "segment-brain", "root": str(tmp_path)})


def test_a_doctor_report_round_trips_through_json() -> None:
    row = DoctorRow(area="weights", name="vista3d", status=RowStatus.FAIL, detail="missing",
                    fix="medskills setup segment-ctmr", blocks=[SkillId.SEGMENT_CTMR])
    report = DoctorReport(skills=[SkillId.SEGMENT_CTMR], rows=[row], can_run={SkillId.SEGMENT_CTMR: False},
                          elapsed_seconds=0.5, exit_code=1)
    assert DoctorReport.model_validate_json(report.model_dump_json()) == report
