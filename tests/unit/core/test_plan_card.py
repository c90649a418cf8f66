"""The plan card of a run that produced no images: outcome, checks with fixes, request, cost, labels."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from medskills.core.models import Check, CostEstimate, PreflightReport, RunRecord, Severity, Status
from medskills.core.plan_card import PlanCard, plan_tables, write_plan_card

_NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _record(report: PreflightReport, **fields: object) -> RunRecord:
    return RunRecord.model_validate({"skill": "nv-segment-ctmr", "status": Status.FAILED, "exit_code": 2,
                                     "started_at": _NOW, "finished_at": _NOW, "output_dir": Path("out"),
                                     "preflight": report} | fields)


def test_tables_come_most_important_first_with_machine_problems_after_request_problems() -> None:
    report = PreflightReport(
        request_valid=False, environment_ready=False,
        errors=[Check(code="no_gpu", severity=Severity.ERROR, message="no CUDA", fix="--allow-no-gpu",
                      blocks_request=False),
                Check(code="bad_prompt", severity=Severity.ERROR, message="'livr' unknown", field="--label-prompts")],
        warnings=[Check(code="not_1mm", severity=Severity.WARNING, message="spacing 3 mm")],
        cost=CostEstimate(wall_seconds=70.4, peak_vram_gb=7.25, disk_mb=12, basis="window table"))
    plan = PlanCard(title="Segmentation plan", request_rows=[["modality", "CT_BODY"]], label_header=["id", "name"],
                    label_rows=[["1", "liver"]])
    tables = plan_tables(_record(report, failure_reasons=["preflight invalid"]), plan)
    assert [t.title for t in tables] == ["Outcome", "Checks", "Request", "Cost estimate", "Expected label mapping"]
    assert ["why", "preflight invalid"] in tables[0].rows and ["preflight", "invalid"] in tables[0].rows
    assert [row[1] for row in tables[1].rows] == ["--label-prompts", "no_gpu", "not_1mm"]
    assert tables[1].rows[1][3] == "--allow-no-gpu"
    assert ["wall time (s)", "70"] in tables[3].rows and ["peak VRAM (GB)", "7.2"] in tables[3].rows


def test_no_problems_says_so_and_optional_tables_are_left_out() -> None:
    tables = plan_tables(_record(PreflightReport(request_valid=True, environment_ready=True)), PlanCard())
    assert [t.title for t in tables] == ["Outcome", "Checks", "Request"]
    assert tables[1].rows == [["ok", "", "no problems found", ""]]


def test_the_card_is_written_and_names_the_plan(tmp_path: Path) -> None:
    path, error = write_plan_card(tmp_path / "summary.html",
                                  _record(PreflightReport(request_valid=True, environment_ready=False)),
                                  PlanCard(title="Segmentation plan"))
    assert error is None and path == tmp_path / "summary.html"
    html = path.read_text(encoding="utf-8")
    assert "Segmentation plan" in html and "plan (nothing ran)" in html and "blocked" in html
