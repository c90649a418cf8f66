"""Run one batch job: the command's own CLI in a child process, on whichever machine runs this.

The same function runs in a local worker thread and inside a Ray task on a cluster node, so a job
behaves the same wherever it lands: it writes the same ``result.json``, card and logs as a single
run of that command would, because it *is* a single run of that command.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from medskills.batch.ledger import JobState
from medskills.core.errors import ExitCode
from medskills.core.io import write_bytes_atomic
from medskills.core.models import utc_now

__all__ = ["ATTEMPTS_FOLDER", "VERIFICATION_FILE_NAME", "JobLaunch", "JobOutcome", "RunningJobs", "execute_job",
           "forwarded_environment", "state_of_exit_code"]

ATTEMPTS_FOLDER = ".attempts"
VERIFICATION_FILE_NAME = "verification.json"
_FORWARDED_VARIABLES = ("NV_GENERATE_ROOT", "NV_SEGMENT_CTMR_ROOT", "MONAI_DATA_DIRECTORY")
_VERIFY_SUFFIX = ".verify"
"""Log names of a job's chained verifier: ``<job>.verify.stdout.json``, ``<job>.verify.stderr.log``."""


@dataclass(frozen=True)
class JobLaunch:
    """Everything a worker needs to run one job; plain data, so it crosses to Ray nodes."""

    name: str
    argv: tuple[str, ...]                # the command's words and arguments, output location included
    job_dir: Path                        # OUT/jobs/<name>
    log_dir: Path                        # OUT/logs
    cwd: Path                            # relative paths in argv are read from here (the manifest's folder)
    creates_job_dir: bool                # True for commands told a file (--json), not a folder
    environment: tuple[tuple[str, str], ...] = ()
    verifier_argv: tuple[str, ...] | None = None
    python: str = field(default_factory=lambda: sys.executable)


@dataclass(frozen=True)
class JobOutcome:
    """How one attempt ended, with where it ran."""

    state: JobState
    exit_code: int | None
    runtime_seconds: float
    node: str
    message: str | None = None
    verify_exit_code: int | None = None


class RunningJobs:
    """The child processes of this machine's running jobs, so an interrupt can stop them."""

    def __init__(self) -> None:
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self.stopped: set[str] = set()

    def add(self, name: str, process: subprocess.Popen[bytes]) -> None:
        self._processes[name] = process

    def remove(self, name: str) -> None:
        self._processes.pop(name, None)

    def stop_all(self, *, kill: bool) -> None:
        """Send SIGTERM (or SIGKILL) to every running job's whole process group."""
        for name, process in list(self._processes.items()):
            self.stopped.add(name)
            try:
                os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
            except ProcessLookupError:
                continue


def forwarded_environment() -> tuple[tuple[str, str], ...]:
    """The settings a job on another node must see as the batch saw them (upstream roots, MEDSKILLS_*)."""
    return tuple(sorted((name, value) for name, value in os.environ.items()
                        if name in _FORWARDED_VARIABLES or name.startswith(("MEDSKILLS_", "HF_"))))


def state_of_exit_code(exit_code: int) -> JobState:
    """Map a command's exit code to a job state (the README's exit codes; a signal is infrastructure)."""
    if exit_code == ExitCode.OK:
        return JobState.PASSED
    if exit_code == ExitCode.USAGE:
        return JobState.INVALID
    if exit_code == ExitCode.TIMEOUT:
        return JobState.TIMED_OUT
    if exit_code < 0:
        return JobState.INFRASTRUCTURE
    return JobState.FAILED


def execute_job(launch: JobLaunch, running: RunningJobs | None = None) -> JobOutcome:
    """Run the job's command to its end and classify how it ended.

    A folder and logs left by an earlier attempt (a resume, or a retry after a lost node) are moved
    under ``.attempts/<name>/`` beside the job folders first, never deleted, so the command gets the
    new folder it asks for.
    """
    node = socket.gethostname()
    started = time.monotonic()
    _set_aside_earlier_attempt(launch)
    if launch.creates_job_dir:
        launch.job_dir.mkdir(parents=True, exist_ok=True)
    launch.log_dir.mkdir(parents=True, exist_ok=True)
    # Which process on which machine runs the job, for an operator looking for a stuck or lost one.
    (launch.log_dir / f"{launch.name}.worker").write_text(f"{os.getpid()} {node}\n", encoding="utf-8")
    exit_code = _run_logged(launch, launch.argv, "", running)
    if running is not None and launch.name in running.stopped:
        return JobOutcome(JobState.INTERRUPTED, exit_code, time.monotonic() - started, node,
                          "stopped by the user before it finished")
    state = state_of_exit_code(exit_code)
    message = f"killed by signal {-exit_code}" if exit_code < 0 else None
    _keep_printed_record(launch)
    verify_code = None
    if state is JobState.PASSED and launch.verifier_argv is not None:
        verify_code = _run_logged(launch, (*launch.verifier_argv, str(launch.job_dir), "--json",
                                           str(launch.job_dir / VERIFICATION_FILE_NAME)), _VERIFY_SUFFIX, running)
        if verify_code != ExitCode.OK:
            state = state_of_exit_code(verify_code) if verify_code < 0 else JobState.FAILED
            message = f"the verifier exited {verify_code} (see {launch.job_dir / VERIFICATION_FILE_NAME})"
    return JobOutcome(state, exit_code, time.monotonic() - started, node, message, verify_code)


def _run_logged(launch: JobLaunch, argv: tuple[str, ...], suffix: str, running: RunningJobs | None) -> int:
    stdout_path = launch.log_dir / f"{launch.name}{suffix}.stdout.json"
    stderr_path = launch.log_dir / f"{launch.name}{suffix}.stderr.log"
    environment = {**os.environ, **dict(launch.environment)}
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        try:
            process = subprocess.Popen([launch.python, "-m", "medskills", *argv], cwd=launch.cwd, env=environment,
                                       stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                                       preexec_fn=_own_session_ending_with_parent)
        except OSError as err:
            stderr.write(f"could not start the job: {err}\n".encode())
            return -1
        if running is not None:
            running.add(launch.name, process)
        try:
            return process.wait()
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)  # a cancelled Ray task must not leave its run behind
            process.wait()
            raise
        finally:
            if running is not None:
                running.remove(launch.name)


def _own_session_ending_with_parent() -> None:
    """In the child: a session of its own (Ctrl-C reaches only the batch) that dies with its worker.

    Without the parent-death signal, a Ray worker killed with its node's share of work would leave
    its job running on while Ray retries the job elsewhere, both writing into one folder.
    """
    os.setsid()
    if sys.platform.startswith("linux"):
        import ctypes

        set_parent_death_signal = 1  # PR_SET_PDEATHSIG in <linux/prctl.h>
        ctypes.CDLL(None, use_errno=True).prctl(set_parent_death_signal, signal.SIGKILL)


def _keep_printed_record(launch: JobLaunch) -> None:
    """A command that only prints its record still leaves ``result.json`` in its job folder."""
    record = launch.job_dir / "result.json"
    printed = launch.log_dir / f"{launch.name}.stdout.json"
    if record.exists() or not launch.job_dir.is_dir() or not printed.is_file():
        return
    text = printed.read_bytes()
    try:
        json.loads(text)
    except ValueError:
        return
    write_bytes_atomic(record, text)


def _log_names(job_name: str) -> list[str]:
    """The log files a job writes (names may hold dots, so job ``v`` must not claim job ``v.2``'s logs)."""
    return [f"{job_name}.worker", *(f"{job_name}{suffix}.{kind}" for suffix in ("", _VERIFY_SUFFIX)
                                    for kind in ("stdout.json", "stderr.log"))]


def _set_aside_earlier_attempt(launch: JobLaunch) -> None:
    """Move an earlier attempt's folder and logs under ``.attempts/<name>/<time>/``."""
    logs = [path for path in (launch.log_dir / name for name in _log_names(launch.name)) if path.is_file()]
    has_folder = launch.job_dir.is_dir() and any(launch.job_dir.iterdir())
    if not has_folder and not logs:
        return
    keep = launch.job_dir.parent / ATTEMPTS_FOLDER / launch.name / utc_now().strftime("%Y%m%dT%H%M%S%fZ")
    keep.mkdir(parents=True)
    if has_folder:
        shutil.move(str(launch.job_dir), str(keep / "job"))
    for path in logs:
        shutil.move(str(path), str(keep / path.name))
