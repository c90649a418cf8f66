"""`medskills batch`: many run commands from one manifest, locally or on a Ray cluster."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from medskills.cli._common import OutputDirOption, emit, run_guarded

if TYPE_CHECKING:
    from medskills.batch import BatchControl, BatchCounts, PlannedJob

__all__ = ["batch_command"]

_LOG = logging.getLogger("medskills.batch")


def batch_command(
    manifest: Annotated[Path, typer.Argument(help="YAML or JSONL manifest of jobs (docs/running_at_scale.md).")],
    output_dir: OutputDirOption,
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Jobs at once on this machine (one GPU each)."),
    ray: str | None = typer.Option(None, "--ray", help="Ray cluster address, or 'local' for a private local Ray."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Accept a batch above the cost limit (its total)."),
    retries: int = typer.Option(2, "--retries", min=0, help="Re-runs of a job lost to infrastructure (never a gate)."),
    grace_seconds: float = typer.Option(30.0, "--grace-seconds", min=0.0,
                                        help="After Ctrl-C, how long running jobs may finish before they are stopped."),
) -> None:
    """Validate a manifest as a whole, run every job through its own command, and report; re-run to resume."""
    from medskills.batch import BatchControl, BatchRequest, run_batch

    request = BatchRequest(manifest=manifest, output_dir=output_dir, workers=workers, ray_address=ray,
                           is_confirmed=yes, infrastructure_retries=retries, grace_seconds=grace_seconds,
                           check_arguments=_argument_checker())
    control = BatchControl()
    failure: Exception | None = None
    with _stdout_kept_for_the_record(), _interrupts_to(control, grace_seconds), _progress_display() as on_progress:
        try:
            report = run_batch(request, control=control, on_progress=on_progress)
        except Exception as err:  # reported once stdout is stdout again: the error record belongs there
            failure = err
    if failure is not None:
        run_guarded(lambda: _raise(failure))
    emit(report, exit_code=report.exit_code)


def _raise(error: Exception) -> NoReturn:
    raise error


def _argument_checker() -> Callable[[PlannedJob], str | None]:
    """Parse each job's arguments with the real command's parser: a typo fails before anything runs."""
    from typer.exceptions import TyperException
    from typer.main import get_command

    from medskills.cli import app

    root = get_command(app)

    def check(job: PlannedJob) -> str | None:
        command = root
        for word in job.command.words:
            found = getattr(command, "commands", {}).get(word)
            if found is None:
                return f"'{job.command.label}' is not a command of this medskills"
            command = found
        try:
            command.make_context(job.command.label, job.arguments(Path("jobs") / job.name))
        except typer.Exit:
            return "argv asks for help or a version; remove that flag"
        except TyperException as err:  # typer's parser errors (bad option, bad value, missing argument)
            message = err.format_message() if hasattr(err, "format_message") else str(err)
            return f"medskills {job.command.label}: {message}"
        return None

    return check


@contextmanager
def _stdout_kept_for_the_record() -> Iterator[None]:
    """Send everything written to stdout while the batch runs to stderr, at the file-descriptor level.

    Ray's driver prints worker and node failures on the process's stdout; stdout must carry only
    the one JSON report, which is written after this block.
    """
    sys.stdout.flush()
    kept = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(kept, 1)
        os.close(kept)


@contextmanager
def _interrupts_to(control: BatchControl, grace_seconds: float) -> Iterator[None]:
    def handle(_signal: int, _frame: FrameType | None) -> None:
        if control.stop.is_set():
            _LOG.warning("second interrupt: stopping the running jobs now")
            control.kill.set()
            return
        _LOG.warning("interrupt: no new jobs start; running jobs have %.0f s to finish (Ctrl-C again stops them). "
                     "Re-run the same command to resume.", grace_seconds)
        control.stop.set()

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _progress_display() -> Iterator[Callable[[BatchCounts], None]]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("eta"), TimeRemainingColumn(), console=console, transient=False)
    started = time.monotonic()
    tasks: list[TaskID] = []

    def update(counts: BatchCounts) -> None:
        if not tasks:  # shown from the first job on, not while the manifest is being checked
            progress.start()
            tasks.append(progress.add_task("batch", total=counts.total))
        task = tasks[0]
        finished_here = counts.done - counts.skipped
        per_minute = 60.0 * finished_here / max(time.monotonic() - started, 1e-6)
        progress.update(task, total=counts.total, completed=counts.done,
                        description=f"done {counts.done - counts.failed} · failed {counts.failed} · running "
                                    f"{counts.running} · skipped {counts.skipped} · {per_minute:.1f} jobs/min")

    try:
        yield update
    finally:
        progress.stop()
