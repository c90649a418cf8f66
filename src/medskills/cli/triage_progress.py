"""A rich progress bar on stderr for triage commands that work through many studies."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__all__ = ["with_progress"]

T = TypeVar("T")


def with_progress(action: Callable[[Callable[[int, int], None]], T]) -> T:
    """Run ``action(on_progress)`` under a rich progress bar on stderr (stdout stays one JSON result)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("studies"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True)) as bar:
        task = bar.add_task("studies", total=None)
        return action(lambda done, total: bar.update(task, completed=done, total=total))
