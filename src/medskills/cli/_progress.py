"""Progress on stderr, never on stdout (which keeps the JSON record): an upstream's status line, a work bar."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from medskills.core.models import Invocation
from medskills.core.progress import OnProgress
from medskills.core.upstream import Runner, UpstreamCommand

__all__ = ["progress_runner", "with_progress"]

T = TypeVar("T")


def with_progress(action: Callable[[OnProgress], T], *, unit: str = "studies") -> T:
    """Run ``action(on_progress)`` under a rich progress bar of ``unit`` (studies, volumes) on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(unit), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True)) as bar:
        task = bar.add_task(unit, total=None)
        return action(lambda done, total: bar.update(task, completed=done, total=total))


def progress_runner() -> Runner:
    """``run_upstream`` with its output lines parsed into a rich status line on stderr."""
    from rich.console import Console

    from medskills.core.progress import UpstreamProgress
    from medskills.core.upstream import run_upstream

    def run(command: UpstreamCommand) -> Invocation:
        progress = UpstreamProgress(command.log_name)
        console = Console(stderr=True)
        with console.status(f"{command.log_name}: starting (logs in {command.log_dir})") as status:
            def on_line(line: str) -> None:
                progress.feed(line)
                status.update(progress.describe())

            return run_upstream(command, on_line=on_line)

    return run
