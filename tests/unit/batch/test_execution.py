"""How one job's ending is classified, and that an earlier attempt's folder is kept, not deleted."""

from __future__ import annotations

import sys

import pytest

from medskills.batch import JobState
from medskills.batch.execution import ATTEMPTS_FOLDER, JobLaunch, execute_job, state_of_exit_code


@pytest.mark.parametrize(("code", "state"), [(0, JobState.PASSED), (1, JobState.FAILED), (2, JobState.INVALID),
                                              (124, JobState.TIMED_OUT), (-9, JobState.INFRASTRUCTURE),
                                              (3, JobState.FAILED)])
def test_exit_codes_map_to_job_states(code, state):
    assert state_of_exit_code(code) is state


def test_a_rerun_sets_the_earlier_attempt_aside_and_runs_the_command(tmp_path):
    job_dir = tmp_path / "jobs" / "a"
    job_dir.mkdir(parents=True)
    (job_dir / "partial.nii.gz").write_bytes(b"from the lost attempt")
    launch = JobLaunch(name="a", argv=("--version",), job_dir=job_dir, log_dir=tmp_path / "logs", cwd=tmp_path,
                       creates_job_dir=False, python=sys.executable)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.stderr.log").write_text("earlier attempt's log")
    outcome = execute_job(launch)
    kept = list((tmp_path / "jobs" / ATTEMPTS_FOLDER / "a").glob("*/job/partial.nii.gz"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"from the lost attempt"
    assert (kept[0].parent.parent / "a.stderr.log").read_text() == "earlier attempt's log"
    assert outcome.exit_code is not None and (tmp_path / "logs" / "a.worker").is_file()


def test_a_rerun_sets_aside_only_its_own_logs_when_another_job_name_starts_with_its_name_and_a_dot(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (tmp_path / "jobs" / "v").mkdir(parents=True)
    for name in ("v.stderr.log", "v.verify.stdout.json", "v.2.stdout.json", "v.2.stderr.log", "v.2.worker"):
        (logs / name).write_text(name)
    launch = JobLaunch(name="v", argv=("--version",), job_dir=tmp_path / "jobs" / "v", log_dir=logs, cwd=tmp_path,
                       creates_job_dir=False, python=sys.executable)
    execute_job(launch)
    [attempt] = (tmp_path / "jobs" / ATTEMPTS_FOLDER / "v").iterdir()
    assert sorted(p.name for p in attempt.iterdir()) == ["v.stderr.log", "v.verify.stdout.json"]
    assert {"v.2.stdout.json", "v.2.stderr.log", "v.2.worker"} <= {p.name for p in logs.iterdir()}
