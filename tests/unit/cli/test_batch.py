"""`medskills batch`: each job's arguments go through the real command's parser before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from medskills.cli import app


def test_every_job_the_real_parser_refuses_is_listed_and_nothing_runs(tmp_path: Path) -> None:
    manifest = tmp_path / "batch.yaml"
    manifest.write_text("""
jobs:
  - name: seg
    command: [segment, ctmr]
    argv: [ct.nii.gz, --modalty, CT_BODY]
  - name: late
    command: [segment, ctmr]
    argv: [ct.nii.gz, --modality, CT_BODY, --timeout-seconds, soon]
""")
    output_dir = tmp_path / "out"
    result = CliRunner().invoke(app, ["batch", str(manifest), "--output-dir", str(output_dir)])
    assert result.exit_code == 2
    problems = json.loads(result.stdout)["problems"]
    assert problems[0] == (
        "line 3, job 'seg': medskills segment ctmr: No such option: --modalty (Possible options: --modality)")
    assert problems[1].startswith("line 6, job 'late': medskills segment ctmr: ") and "'--timeout-seconds'" in problems[1]
    assert not (output_dir / "jobs").exists()


def test_a_refused_batch_prints_its_error_record_on_stdout_of_a_real_process(tmp_path: Path) -> None:
    """While jobs run, the batch sends stray stdout to stderr at the descriptor level (CliRunner cannot see
    that): the refusal's record must still reach the real stdout."""
    import subprocess
    import sys

    manifest = tmp_path / "batch.yaml"
    manifest.write_text("jobs:\n  - name: one\n    command: [synth, ct2]\n    argv: [default]\n")
    result = subprocess.run([sys.executable, "-m", "medskills", "batch", str(manifest), "-o", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    record = json.loads(result.stdout)
    assert record["exit_code"] == 2 and "1 problem(s) in the batch manifest" in record["error"]
    assert '"error_type"' not in result.stderr
