"""`medskills batch` on this machine, with real jobs: run, report, resume, refuse, interrupt."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from integration.batch.conftest import build_standin, write_manifest
from openpyxl import load_workbook
from standin_upstream import Behaviour

from medskills.batch import BatchManifestError, BatchRequest, JobState, run_batch
from medskills.core.errors import PreflightError

pytestmark = pytest.mark.slow


def _cli_checker():
    from medskills.cli.batch import _argument_checker

    return _argument_checker()


def test_batch_runs_real_jobs_reports_and_a_rerun_skips_what_passed(tmp_path, shared_data, monkeypatch,
                                                                    batch_tiny_bundle):
    build_standin(tmp_path, shared_data, monkeypatch)
    monkeypatch.setenv("NV_SEGMENT_CTMR_ROOT", str(batch_tiny_bundle))
    ct = shared_data / "ct_abdomen_3mm" / "image.nii.gz"
    manifest = write_manifest(tmp_path, f"""
jobs:
  - name: ct-seed
    command: [synth, ct]
    argv: [request.json, --version, rflow-ct, --no-summary-card]
    sweep: {{--random-seed: [0, 1]}}
    verify: true
  - name: seg-abdomen
    command: [segment, ctmr]
    argv: [{ct}, --modality, CT_BODY, --label-prompts, "liver,spleen", --device, cpu]
  - name: verify-nothing
    command: [verify, ct-synthesis]
    argv: [{tmp_path / 'no-such-run'}]
""")
    request = BatchRequest(manifest=manifest, output_dir=tmp_path / "out", workers=2, is_confirmed=True,
                           check_arguments=_cli_checker())
    report = run_batch(request)
    states = {job.entry.name: job.entry.state for job in report.jobs}
    assert states == {"ct-seed-0": JobState.PASSED, "ct-seed-1": JobState.PASSED, "seg-abdomen": JobState.PASSED,
                      "verify-nothing": JobState.INVALID}, [job.entry.message for job in report.jobs]
    assert report.exit_code == 1  # one job's bad input did not stop the others
    out = tmp_path / "out"
    for name in ("ct-seed-0", "ct-seed-1"):  # verify: true chained the CT verifier on each job's folder
        assert json.loads((out / "jobs" / name / "result.json").read_text())["status"] == "passed"
        assert json.loads((out / "jobs" / name / "verification.json").read_text())["status"] == "passed"
    seg = next(job for job in report.jobs if job.entry.name == "seg-abdomen")
    assert seg.card_path is not None and seg.card_path.is_file() and seg.key_numbers
    ct_volumes = next(job for job in report.jobs if job.entry.name == "ct-seed-0").key_numbers
    assert ct_volumes["volume_ml:liver"] > 0
    sheet = load_workbook(out / "batch.xlsx")["jobs"]
    assert sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True)) == sorted(states)
    assert 'href="jobs/seg-abdomen/' in (out / "index.html").read_text()

    kept = {path: path.stat().st_mtime_ns for path in (out / "jobs").rglob("*") if path.is_file()}
    again = run_batch(request)
    assert {job.entry.name: job.entry.state for job in again.jobs} == states
    assert all(job.entry.attempts == 1 for job in again.jobs)  # nothing ran twice
    assert {path: path.stat().st_mtime_ns for path in kept} == kept


def test_a_job_whose_preflight_refuses_stops_the_batch_before_anything_runs(tmp_path, shared_data, monkeypatch):
    build_standin(tmp_path, shared_data, monkeypatch)
    manifest = write_manifest(tmp_path, """
jobs:
  - {name: good, command: [synth, ct], argv: [request.json]}
  - {name: typo, command: [synth, ct], argv: [no-such-request.json]}
""")
    with pytest.raises(BatchManifestError) as caught:
        run_batch(BatchRequest(manifest=manifest, output_dir=tmp_path / "out"))
    assert len(caught.value.problems) == 1 and caught.value.problems[0].startswith("line 4, job 'typo': job typo:")
    assert not (tmp_path / "out" / "jobs").exists()


def test_the_yes_gate_refuses_a_batch_holding_a_job_above_its_own_limits(tmp_path, shared_data, monkeypatch):
    build_standin(tmp_path, shared_data, monkeypatch)
    (tmp_path / "big.json").write_text(json.dumps({"output_size": [512, 512, 512], "spacing": [0.75, 0.75, 1.0],
                                                   "num_inference_steps": 1000, "anatomy_list": ["liver"]}))
    manifest = write_manifest(tmp_path, """
jobs:
  - {name: small, command: [synth, ct], argv: [request.json]}
  - {name: big, command: [synth, ct], argv: [big.json]}
""")
    with pytest.raises(PreflightError, match="needs --yes") as caught:
        run_batch(BatchRequest(manifest=manifest, output_dir=tmp_path / "out", workers=2))
    assert caught.value.problems[-1] == "job big is above its own cost limits"
    assert not (tmp_path / "out" / "jobs").exists()


def test_interrupt_stops_scheduling_and_the_same_command_resumes(tmp_path, shared_data, monkeypatch):
    build_standin(tmp_path, shared_data, monkeypatch, behaviour=Behaviour(sleep_seconds=20.0))
    manifest = write_manifest(tmp_path, """
jobs:
  - {name: ct, command: [synth, ct], argv: [request.json, --no-summary-card], sweep: {--random-seed: [0, 1]}}
""")
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "medskills", "batch", str(manifest), "--output-dir", str(out), "--grace-seconds", "0"]
    batch = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "jobs" / "ct-0" / "_staged_configs").exists():  # the upstream is running
        assert time.monotonic() < deadline and batch.poll() is None, batch.communicate()
        time.sleep(0.2)
    batch.send_signal(signal.SIGINT)
    stdout, stderr = batch.communicate(timeout=60)
    assert batch.returncode == 130, stderr
    assert "Re-run the same command to resume" in stderr
    ledger = json.loads((out / "ledger.json").read_text())["jobs"]
    assert ledger["ct-0"]["state"] == "interrupted" and ledger["ct-1"]["state"] == "pending"
    assert json.loads(stdout)["is_interrupted"] is True

    monkeypatch.setenv("NV_GENERATE_ROOT", os.environ["NV_GENERATE_ROOT"])
    build_standin(tmp_path / "fast", shared_data, monkeypatch)  # the resume runs without the delay
    resumed = run_batch(BatchRequest(manifest=manifest, output_dir=out))
    assert [job.entry.state for job in resumed.jobs] == [JobState.PASSED, JobState.PASSED]
    kept = list((out / "jobs" / ".attempts" / "ct-0").glob("*/job/_staged_configs"))
    assert len(kept) == 1  # the stopped attempt's folder is kept, not deleted
