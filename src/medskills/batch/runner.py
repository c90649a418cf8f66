"""``run_batch``: check the whole manifest, then run its jobs, resumably, and report.

The sequence a batch follows:

1. read and plan the manifest (every problem, by job and line);
2. lock the folder and open its ledger (a re-run resumes: passed jobs are skipped);
3. run each job's own preflight, each node's readiness (Ray), and the ``--yes`` gate on the total;
4. schedule the jobs on the backend, retrying infrastructure failures only;
5. write ``batch.json``, the table and the HTML page, whatever happened.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from medskills.batch.backends import Backend, LocalBackend, RayBackend, ResourceRequest, detect_gpu_ids
from medskills.batch.commands import OutputStyle
from medskills.batch.execution import JobLaunch, JobOutcome, forwarded_environment
from medskills.batch.ledger import JobEntry, JobState, Ledger, hold_batch_lock
from medskills.batch.manifest import BatchManifestError, ManifestProblem, PlannedJob, plan_manifest
from medskills.batch.preflight import BATCH_CONFIRM_SECONDS, preflight_jobs, preflight_nodes, total_cost
from medskills.batch.report import BatchReport, build_job_report, write_report
from medskills.core.errors import ExitCode, PreflightError, UsageError
from medskills.core.models import utc_now

__all__ = ["EXIT_INTERRUPTED", "BatchControl", "BatchCounts", "BatchRequest", "run_batch"]

EXIT_INTERRUPTED = 130  # the shell's code for a run stopped by Ctrl-C
_KILL_AFTER_TERM_SECONDS = 10.0


@dataclass(frozen=True)
class BatchRequest:
    """What ``medskills batch`` was asked to do."""

    manifest: Path
    output_dir: Path
    workers: int = 1
    ray_address: str | None = None
    is_confirmed: bool = False
    infrastructure_retries: int = 2
    grace_seconds: float = 30.0
    check_arguments: Callable[[PlannedJob], str | None] | None = None


@dataclass
class BatchControl:
    """Set from a signal handler.

    ``stop`` ends scheduling (running jobs get the grace period); ``kill`` ends running jobs now.
    """

    stop: threading.Event = field(default_factory=threading.Event)
    kill: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class BatchCounts:
    """Progress for a display: how many jobs stand where, and how many ran before (skipped)."""

    total: int
    done: int
    failed: int
    running: int
    skipped: int


def run_batch(request: BatchRequest, *, control: BatchControl | None = None,
              on_progress: Callable[[BatchCounts], None] | None = None) -> BatchReport:
    """Run a batch to its end (or to an interrupt) and return its report, also written to ``OUT/``.

    Raises:
        BatchManifestError: the manifest, a job's preflight or a node check refused the batch; nothing ran.
        PreflightError: the total cost needs ``--yes``.
        UsageError: the output folder is not a batch folder, or another batch holds it.
    """
    control = control or BatchControl()
    manifest = request.manifest.resolve()
    jobs = plan_manifest(manifest, check_arguments=request.check_arguments)
    output_dir = _prepare_folder(request.output_dir.resolve())
    started = utc_now()
    with hold_batch_lock(output_dir):
        ledger = Ledger.open(output_dir, manifest)
        _reconcile(manifest, ledger, jobs)
        to_run = [job for job in jobs if _entry(ledger, job).state.is_retried_on_resume]
        backend = _backend(request)
        try:
            resources = {job.name: _resources(job, backend) for job in jobs}
            _check_before_running(request, to_run, backend, resources, output_dir, manifest)
            extra = ("--yes",) if request.is_confirmed else ()
            _schedule(to_run, backend, ledger, resources, output_dir, manifest.parent, extra, request, control,
                      on_progress, skipped=len(jobs) - len(to_run))
        finally:
            backend.close()
        return _finish(jobs, ledger, output_dir, manifest, backend.name, started, is_interrupted=control.stop.is_set())


def _prepare_folder(output_dir: Path) -> Path:
    if output_dir.exists() and not output_dir.is_dir():
        raise UsageError(f"--output-dir {output_dir} is a file; give a folder for the batch")
    if output_dir.is_dir() and any(output_dir.iterdir()) and not (output_dir / "ledger.json").is_file() \
            and not (output_dir / ".batch.lock").is_file():
        raise UsageError(f"--output-dir {output_dir} holds files that are not a medskills batch; choose a new or "
                         "empty folder (a batch folder is re-used to resume)")
    output_dir.mkdir(parents=True, exist_ok=True)
    return output_dir


def _entry(ledger: Ledger, job: PlannedJob) -> JobEntry:
    entry = ledger.entry(job.name)
    assert entry is not None, f"job {job.name} was registered by _reconcile"
    return entry


def _reconcile(manifest: Path, ledger: Ledger, jobs: list[PlannedJob]) -> None:
    """Register new jobs; refuse a job whose recorded command differs (its folder holds another run)."""
    problems = []
    for job in jobs:
        entry = ledger.entry(job.name)
        if entry is None:
            ledger.register(JobEntry(name=job.name, command=list(job.command.words), argv=list(job.argv)))
        elif entry.command != list(job.command.words) or entry.argv != list(job.argv):
            problems.append(ManifestProblem(job.source, job.line, f"this folder ran job {job.name!r} as "
                                            f"{' '.join(entry.command + entry.argv)!r}; the manifest now says "
                                            f"{' '.join((*job.command.words, *job.argv))!r}. Use a new --output-dir "
                                            "or rename the job"))
    if problems:
        raise BatchManifestError(manifest, problems)


def _backend(request: BatchRequest) -> Backend:
    if request.ray_address is not None:
        return RayBackend(request.ray_address, infrastructure_retries=request.infrastructure_retries)
    return LocalBackend(request.workers, detect_gpu_ids())


def _resources(job: PlannedJob, backend: Backend) -> ResourceRequest:
    has_gpus = (backend.cluster_gpus() > 0) if isinstance(backend, RayBackend) else bool(detect_gpu_ids())
    return ResourceRequest(cpus=job.command.cpus, gpus=1 if job.wants_gpu and has_gpus else 0,
                           memory_gb=job.command.memory_gb)


def _check_before_running(request: BatchRequest, jobs: list[PlannedJob], backend: Backend,
                          resources: dict[str, ResourceRequest], output_dir: Path, manifest: Path) -> None:
    preflights = preflight_jobs(jobs, backend=backend, resources=resources, output_dir=output_dir, cwd=manifest.parent)
    by_name = {job.name: job for job in jobs}
    problems = [ManifestProblem(by_name[item.name].source, by_name[item.name].line, f"job {item.name}: {problem}")
                for item in preflights for problem in item.problems]
    problems += preflight_nodes(jobs, backend=backend, resources=resources, output_dir=output_dir,
                                cwd=manifest.parent) if isinstance(backend, RayBackend) else []
    if problems:
        raise BatchManifestError(manifest, problems)
    cost = total_cost(preflights)
    if cost.needs_confirmation and not request.is_confirmed:
        reasons = [f"estimated {cost.wall_seconds:.0f} s of runtime over {cost.jobs} job(s), above "
                   f"{BATCH_CONFIRM_SECONDS:.0f} s"] if cost.wall_seconds > BATCH_CONFIRM_SECONDS else []
        reasons += [f"job {name} is above its own cost limits" for name in cost.confirmations]
        raise PreflightError("the batch needs --yes: " + "; ".join(reasons) + ". Re-run with --yes to accept.",
                             reasons)


def _schedule(jobs: list[PlannedJob], backend: Backend, ledger: Ledger, resources: dict[str, ResourceRequest],
              output_dir: Path, cwd: Path, extra: tuple[str, ...], request: BatchRequest, control: BatchControl,
              on_progress: Callable[[BatchCounts], None] | None, *, skipped: int) -> None:
    pending = collections.deque(jobs)
    in_flight: dict[Future[JobOutcome], PlannedJob] = {}
    window = request.workers if isinstance(backend, LocalBackend) else max(request.workers, len(jobs), 1)
    done = failed = 0
    stop_started: float | None = None
    terminated = killed = False
    while pending or in_flight:
        if control.stop.is_set() and stop_started is None:
            stop_started = time.monotonic()
        if stop_started is None:
            while pending and len(in_flight) < window:
                job = pending.popleft()
                in_flight[_submit(job, backend, ledger, resources, output_dir, cwd, extra)] = job
        else:
            waited = time.monotonic() - stop_started
            if (control.kill.is_set() or waited > request.grace_seconds + _KILL_AFTER_TERM_SECONDS) and not killed:
                backend.stop(kill=True)
                killed = True
            elif waited > request.grace_seconds and not terminated:
                backend.stop(kill=False)
                terminated = True
            pending.clear()  # stays "pending" in the ledger: a resume runs it
        if not in_flight:
            break
        finished, _ = wait(list(in_flight), timeout=0.5, return_when=FIRST_COMPLETED)
        for future in finished:
            job = in_flight.pop(future)
            outcome = future.result()
            entry = _entry(ledger, job)
            retry = (outcome.state is JobState.INFRASTRUCTURE and entry.attempts <= request.infrastructure_retries
                     and not control.stop.is_set())
            ledger.mark(job.name, state=JobState.PENDING if retry else outcome.state, exit_code=outcome.exit_code,
                        runtime_seconds=outcome.runtime_seconds, node=outcome.node, finished_at=utc_now(),
                        message=outcome.message, verify_exit_code=outcome.verify_exit_code)
            if retry:
                pending.append(job)
                continue
            done += 1
            failed += outcome.state is not JobState.PASSED
        if on_progress is not None:
            on_progress(BatchCounts(total=len(jobs) + skipped, done=done + skipped, failed=failed,
                                    running=len(in_flight), skipped=skipped))


def _submit(job: PlannedJob, backend: Backend, ledger: Ledger, resources: dict[str, ResourceRequest],
            output_dir: Path, cwd: Path, extra: tuple[str, ...]) -> Future[JobOutcome]:
    job_dir = output_dir / "jobs" / job.name
    words = job.command_line(job_dir)
    argv = (*words, *extra) if extra and job.command.has_yes_gate else tuple(words)
    launch = JobLaunch(name=job.name, argv=argv, job_dir=job_dir, log_dir=output_dir / "logs", cwd=cwd,
                       creates_job_dir=job.command.output_style is not OutputStyle.OUTPUT_DIR,
                       environment=forwarded_environment(),
                       verifier_argv=job.command.verifier if job.verify else None)
    entry = _entry(ledger, job)
    ledger.mark(job.name, state=JobState.RUNNING, attempts=entry.attempts + 1, started_at=utc_now(),
                finished_at=None, message=None)
    return backend.submit(launch, resources[job.name])


def _finish(jobs: list[PlannedJob], ledger: Ledger, output_dir: Path, manifest: Path, backend: str,
            started: datetime, *, is_interrupted: bool) -> BatchReport:
    reports = [build_job_report(_entry(ledger, job), output_dir / "jobs" / job.name) for job in jobs]
    counts = collections.Counter(report.entry.state for report in reports)
    if is_interrupted:
        exit_code = EXIT_INTERRUPTED
    elif all(report.entry.state is JobState.PASSED for report in reports):
        exit_code = ExitCode.OK
    else:
        exit_code = ExitCode.FAILED
    report = BatchReport(manifest=manifest, output_dir=output_dir, backend=backend, started_at=started,
                         finished_at=utc_now(), exit_code=int(exit_code), is_interrupted=is_interrupted,
                         counts=dict(counts), jobs=reports)
    write_report(report, output_dir)
    return report
