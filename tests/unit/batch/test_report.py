"""The report's table, workbook and page, and the key numbers read from each job's record."""

from __future__ import annotations

import csv
import json

from openpyxl import load_workbook

from medskills.batch import BatchReport, JobEntry, JobState
from medskills.batch.report import build_job_report, key_numbers, write_report
from medskills.core.models import utc_now


def test_key_numbers_collect_class_volumes_and_dice_by_name():
    record = {"output": {"samples": [{"class_volumes": [{"anatomy": "liver", "volume_ml": 1036.0},
                                                        {"anatomy": "spleen", "volume_ml": 253.4}]}]},
              "scores": {"classes": [{"name": "liver", "dice": 0.93, "iou": 0.87}]}}
    assert key_numbers(record) == {"volume_ml:liver": 1036.0, "volume_ml:spleen": 253.4, "dice:liver": 0.93}


def test_report_files_hold_one_row_per_job_and_link_each_card(tmp_path):
    job_dir = tmp_path / "jobs" / "seg"
    job_dir.mkdir(parents=True)
    (job_dir / "summary.html").write_text("<html></html>")
    record = {"skill": "nv-segment-ctmr", "card_path": str(job_dir / "summary.html"),
              "output": {"classes": [{"name": "liver", "volume_ml": 1.5}]}}
    (job_dir / "result.json").write_text(json.dumps(record))
    passed = JobEntry(name="seg", command=["segment", "ctmr"], argv=["ct.nii.gz"], state=JobState.PASSED, exit_code=0,
                      attempts=1, runtime_seconds=3.2, node="n1")
    failed = JobEntry(name="bad", command=["segment", "ctmr"], argv=["x"], state=JobState.INVALID, exit_code=2,
                      attempts=1, message="input unreadable")
    jobs = [build_job_report(passed, job_dir), build_job_report(failed, tmp_path / "jobs" / "bad")]
    report = BatchReport(manifest=tmp_path / "m.yaml", output_dir=tmp_path, backend="local", started_at=utc_now(),
                         finished_at=utc_now(), exit_code=1, counts={JobState.PASSED: 1, JobState.INVALID: 1},
                         jobs=jobs)
    write_report(report, tmp_path)
    rows = list(csv.DictReader((tmp_path / "batch.csv").open()))
    assert [(row["job"], row["state"], row["volume_ml:liver"]) for row in rows] == [("seg", "passed", "1.5"),
                                                                                  ("bad", "invalid", "")]
    sheet = load_workbook(tmp_path / "batch.xlsx")["jobs"]
    assert sheet["A2"].value == "seg" and sheet["C3"].value == "invalid"
    page = (tmp_path / "index.html").read_text()
    assert 'href="jobs/seg/summary.html"' in page and "Not for clinical use" in page
    assert BatchReport.model_validate_json((tmp_path / "batch.json").read_text()).jobs[0].skill == "nv-segment-ctmr"
