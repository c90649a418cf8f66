"""`medskills batch --ray local` with real jobs: Ray tasks, node checks, a lost worker retried."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from integration.batch.conftest import build_standin, write_manifest
from standin_upstream import Behaviour

from medskills.batch import BatchRequest, JobState, run_batch

pytest.importorskip("ray", reason="the batch extra (Ray) is not installed: pip install 'medskills[batch]'")
pytestmark = pytest.mark.slow


def test_ray_runs_segmentation_of_real_scans_and_chained_verifiers(tmp_path, shared_data, monkeypatch,
                                                                  batch_tiny_bundle):
    monkeypatch.setenv("NV_SEGMENT_CTMR_ROOT", str(batch_tiny_bundle))
    images = [shared_data / "ct_abdomen_3mm" / "image.nii.gz", shared_data / "ct_torso_3mm" / "image.nii.gz"]
    manifest = write_manifest(tmp_path, f"""
jobs:
  - name: seg
    command: [segment, ctmr]
    argv: ["{{image}}", --modality, CT_BODY, --label-prompts, liver, --device, cpu]
    sweep: {{"{{image}}": [{images[0]}, {images[1]}]}}
  - name: verify-seg
    command: [verify, segmentation]
    argv: [--prediction, {shared_data / 'ct_abdomen_3mm' / 'reference_totalsegmentator.nii.gz'},
           --prediction-labels, totalsegmentator, --ground-truth,
           {shared_data / 'ct_abdomen_3mm' / 'reference_totalsegmentator.nii.gz'}, --reference-labels, totalsegmentator]
""")
    report = run_batch(BatchRequest(manifest=manifest, output_dir=tmp_path / "out", ray_address="local",
                                    is_confirmed=True))
    assert report.backend == "ray"
    assert {job.entry.name: job.entry.state for job in report.jobs} == {
        "seg-ct_abdomen_3mm-image": JobState.PASSED, "seg-ct_torso_3mm-image": JobState.PASSED,
        "verify-seg": JobState.PASSED}, [job.entry.message for job in report.jobs]
    verdict = json.loads((tmp_path / "out" / "jobs" / "verify-seg" / "result.json").read_text())
    assert verdict["status"] == "passed"
    assert next(job for job in report.jobs if job.entry.name == "verify-seg").key_numbers["dice:liver"] == 1.0
    assert all(job.entry.node for job in report.jobs)
    assert list((tmp_path / "out" / "preflight" / "_nodes").iterdir())  # every node checked before the start


def test_a_job_whose_worker_dies_is_run_again_and_its_first_attempt_kept(tmp_path, shared_data, monkeypatch):
    build_standin(tmp_path, shared_data, monkeypatch, behaviour=Behaviour(sleep_seconds=6.0))
    manifest = write_manifest(tmp_path, """
jobs:
  - {name: ct, command: [synth, ct], argv: [request.json, --no-summary-card]}
""")
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "medskills", "batch", str(manifest), "--output-dir", str(out), "--ray", "local"]
    batch = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not (out / "jobs" / "ct" / "_staged_configs").exists():  # the upstream of the first attempt runs
        assert time.monotonic() < deadline and batch.poll() is None, batch.communicate()
        time.sleep(0.2)
    first_worker = int((out / "logs" / "ct.worker").read_text().split()[0])
    os.kill(first_worker, signal.SIGKILL)  # the node's worker process is lost mid-job
    stdout, stderr = batch.communicate(timeout=300)
    assert batch.returncode == 0, stderr
    report = json.loads(stdout)
    assert report["jobs"][0]["entry"]["state"] == "passed"
    assert int((out / "logs" / "ct.worker").read_text().split()[0]) != first_worker
    kept = list((out / "jobs" / ".attempts" / "ct").glob("*/job/_staged_configs"))
    assert len(kept) == 1  # the lost attempt's folder is kept beside the finished job
