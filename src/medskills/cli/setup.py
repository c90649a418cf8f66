"""`medskills setup` and `medskills doctor`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table

from medskills.cli._common import emit, run_guarded
from medskills.core.skills import SkillId
from medskills.core.errors import UsageError
from medskills.core.settings import load_settings

__all__ = ["doctor_command", "setup_command"]

ModelT = TypeVar("ModelT", bound=BaseModel)

_STATUS_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def setup_command(
    skill: SkillId = typer.Argument(..., help="synth-ct, synth-mr-brain or segment-ctmr."),
    root: Path | None = typer.Option(None, "--root", help="Parent folder of the clones [.workbench_data/upstreams]."),
    data_root: Path | None = typer.Option(None, "--data-root", help="MONAI_DATA_DIRECTORY [the upstream root]."),
    version: str | None = typer.Option(None, "--version", help="Model version, e.g. rflow-ct or ddpm-ct."),
    revision: str | None = typer.Option(None, "--revision", help="Override the pinned hub commit (40 hex)."),
    token_env: str = typer.Option("HF_TOKEN", "--token-env", help="Variable holding the hub token."),
    yes: bool = typer.Option(False, "--yes", help="Allow downloads above 5 GB."),
) -> None:
    """Clone the upstream at its pin, fetch weights and datasets, and print the exports. Safe to re-run."""
    from medskills.setup import SetupRequest, run_setup

    settings = load_settings()
    parent = root if root is not None else settings.default_nv_generate_root.parent
    request = run_guarded(lambda: _validated(SetupRequest, skill=skill, version=version, hub_revision=revision,
                                             root=parent, data_root=data_root, token_env=token_env, is_confirmed=yes))
    report = run_guarded(lambda: run_setup(request, settings=settings, progress_bar=RichTransferBar))
    console = Console(stderr=True, soft_wrap=True)  # never wrap: paths and exports must stay copy-pasteable
    for outcome in report.files:
        console.print(f"{outcome.action.value:>17}  {outcome.path}", markup=False, highlight=False)
    if report.downloaded_bytes == 0:
        console.print("Nothing downloaded: everything was already in place.")
    console.print("Export these before running the skill:", style="bold")
    console.print("\n".join(report.exports), markup=False, highlight=False)
    emit(report)


class RichTransferBar:
    """The tqdm shape huggingface_hub drives (context manager + ``update``), drawn with rich on stderr."""

    def __init__(self, *, total: int | None = None, initial: int = 0, desc: str = "", **_tqdm_options: object) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                  TransferSpeedColumn(), TimeRemainingColumn(), console=Console(stderr=True))
        self._task = self._progress.add_task(desc, total=total, completed=initial)

    def __enter__(self) -> RichTransferBar:
        self._progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._progress.stop()

    def update(self, n: float = 1) -> None:
        """Advance by ``n`` bytes (negative when huggingface_hub rewinds a refused resume)."""
        self._progress.advance(self._task, n)


def _validated(model: type[ModelT], **fields: object) -> ModelT:
    """Build a request model; a bad flag value becomes a UsageError (exit 2) naming the field."""
    try:
        return model.model_validate(fields)
    except ValidationError as err:
        raise UsageError(f"Invalid option: {err}") from err


def doctor_command(
    skill: SkillId | None = typer.Option(None, "--skill", help="Exit 1 unless this skill can run here."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON instead of the table."),
    schema: bool = typer.Option(False, "--schema", help="Print the JSON schema of the --json report and exit."),
    hash_weights: bool = typer.Option(True, "--hash/--no-hash", help="Hash weight files (cached after once)."),
) -> None:
    """Check python, torch, CUDA, packages, upstream clones, weights, datasets, disk and offline mode."""
    from medskills.setup import DoctorReport, run_doctor

    if schema:
        sys.stdout.write(json.dumps(DoctorReport.model_json_schema(), indent=2) + "\n")
        raise typer.Exit(0)
    from medskills.cli._doctor_rows import triage_rows

    extra = run_guarded(triage_rows) if skill is None else []
    report = run_guarded(lambda: run_doctor(settings=load_settings(), skill=skill, hash_weights=hash_weights,
                                            extra_rows=extra))
    if as_json:
        emit(report)
    table = Table(title="medskills doctor", show_lines=False)
    for column in ("area", "check", "status", "detail", "fix"):
        table.add_column(column, overflow="fold")
    for row in report.rows:
        style = _STATUS_STYLE[row.status.value]
        table.add_row(row.area, row.name, f"[{style}]{row.status.value}[/]", row.detail, row.fix or "")
    console = Console()
    console.print(table)
    verdict = ", ".join(f"{s.value}: {'can run' if ok else 'cannot run'}" for s, ok in report.can_run.items())
    console.print(f"{verdict}  ({report.elapsed_seconds:.1f} s)")
    raise typer.Exit(report.exit_code)
