"""Check a whole batch before any job runs: each job's own preflight, each node, the total cost.

Each job's preflight is the command's own ``--preflight-only`` run, on the kind of machine the job
will run on, so the batch refuses exactly what the single command would refuse.
"""

from __future__ import annotations

import json
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medskills.batch.backends import Backend, ResourceRequest
from medskills.batch.execution import JobLaunch, JobOutcome, forwarded_environment
from medskills.batch.manifest import ManifestProblem, PlannedJob

__all__ = ["BATCH_CONFIRM_SECONDS", "BatchCost", "JobPreflight", "preflight_jobs", "preflight_nodes", "total_cost"]

BATCH_CONFIRM_SECONDS = 300.0  # the single-run --yes limit, applied to the batch's total


@dataclass(frozen=True)
class JobPreflight:
    """What one job's ``--preflight-only`` run said."""

    name: str
    is_ready: bool
    problems: tuple[str, ...] = ()
    wall_seconds: float = 0.0
    peak_vram_gb: float = 0.0
    needs_confirmation: bool = False


@dataclass(frozen=True)
class BatchCost:
    """The batch's estimated total, which the ``--yes`` gate reads."""

    jobs: int
    wall_seconds: float
    peak_vram_gb: float
    confirmations: tuple[str, ...] = field(default_factory=tuple)

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.confirmations) or self.wall_seconds > BATCH_CONFIRM_SECONDS


def preflight_jobs(jobs: list[PlannedJob], *, backend: Backend, resources: dict[str, ResourceRequest],
                   output_dir: Path, cwd: Path) -> list[JobPreflight]:
    """Run every job's own preflight (where the command has one), in parallel on ``backend``."""
    futures: list[tuple[PlannedJob, Future[JobOutcome]]] = []
    for job in jobs:
        if not job.command.has_preflight_only:
            continue
        launch = _preflight_launch(job, output_dir / "preflight" / job.name, output_dir / "logs" / "preflight", cwd)
        futures.append((job, backend.submit(launch, resources[job.name])))
    return [_read_preflight(job, future.result(), output_dir / "preflight" / job.name,
                            output_dir / "logs" / "preflight") for job, future in futures]


def preflight_nodes(jobs: list[PlannedJob], *, backend: Backend, resources: dict[str, ResourceRequest],
                    output_dir: Path, cwd: Path) -> list[ManifestProblem]:
    """On every cluster node, run the preflight of one job per command: can this node run that kind of job?"""
    representatives = {job.command.words: job for job in reversed(jobs) if job.command.has_preflight_only}
    pending: list[tuple[str, PlannedJob, Path, Future[JobOutcome]]] = []
    for node in backend.nodes():
        for job in representatives.values():
            folder = output_dir / "preflight" / "_nodes" / node[:12]
            launch = _preflight_launch(job, folder / job.name, folder / "logs", cwd)
            pending.append((node, job, folder, backend.submit(launch, resources[job.name], node_id=node)))
    problems: list[ManifestProblem] = []
    for node, job, folder, future in pending:
        result = _read_preflight(job, future.result(), folder / job.name, folder / "logs")
        problems.extend(ManifestProblem(job.source, job.line, f"node {node[:12]} cannot run {job.command.label}: "
                                        f"{problem}") for problem in result.problems)
    return problems


def total_cost(preflights: list[JobPreflight]) -> BatchCost:
    """Add the jobs' estimates; any job whose own estimate asks for confirmation is named."""
    return BatchCost(
        jobs=len(preflights),
        wall_seconds=sum(item.wall_seconds for item in preflights),
        peak_vram_gb=max((item.peak_vram_gb for item in preflights), default=0.0),
        confirmations=tuple(item.name for item in preflights if item.needs_confirmation),
    )


def _preflight_launch(job: PlannedJob, job_dir: Path, log_dir: Path, cwd: Path) -> JobLaunch:
    return JobLaunch(name=job.name, argv=(*job.command_line(job_dir), "--preflight-only"), job_dir=job_dir,
                     log_dir=log_dir, cwd=cwd, creates_job_dir=False, environment=forwarded_environment())


def _read_preflight(job: PlannedJob, outcome: JobOutcome, job_dir: Path, log_dir: Path) -> JobPreflight:
    record = _record(job_dir / "result.json") or _record(log_dir / f"{job.name}.stdout.json")
    preflight = _section(record, "preflight")
    cost = _section(preflight, "cost")
    problems = [f"{item.get('message')}" + (f" (fix: {item['fix']})" if item.get("fix") else "")
                for item in preflight.get("errors", []) if isinstance(item, dict)]
    if outcome.exit_code != 0 and not problems:
        problems = [str(record.get("error") or outcome.message or _stderr_tail(log_dir / f"{job.name}.stderr.log"))]
    return JobPreflight(
        name=job.name,
        is_ready=outcome.exit_code == 0 and not problems,
        problems=tuple(problems),
        wall_seconds=float(cost.get("wall_seconds") or 0.0),
        peak_vram_gb=float(cost.get("peak_vram_gb") or 0.0),
        needs_confirmation=bool(cost.get("needs_confirmation")),
    )


def _section(record: dict[str, Any], key: str) -> dict[str, Any]:
    value = record.get(key)
    return value if isinstance(value, dict) else {}


def _record(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _stderr_tail(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return "the preflight did not start"
    return lines[-1] if lines else "the preflight failed without a message"
