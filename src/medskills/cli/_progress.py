"""A live status line on stderr while an upstream runs (never on stdout, which keeps the JSON record)."""

from __future__ import annotations

from medskills.core.models import Invocation
from medskills.core.upstream import Runner, UpstreamCommand

__all__ = ["progress_runner"]


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
