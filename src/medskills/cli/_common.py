"""What every command shares: logging to stderr, one JSON result on stdout, errors to exit codes."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from pydantic import BaseModel

from medskills.core.errors import ExitCode, MedskillsError, PreflightError, StudyError

__all__ = ["OutputDirOption", "PreflightOnlyOption", "configure_logging", "emit", "exit_with", "run_guarded"]

T = TypeVar("T")

# Options every run command shares, declared once so their flags and help cannot drift apart.
OutputDirOption = Annotated[Path, typer.Option("--output-dir", "-o", help="New or empty folder for the run.")]
PreflightOnlyOption = Annotated[bool, typer.Option("--preflight-only", help="Validate and estimate; run nothing.")]


def configure_logging(*, verbose: bool = False) -> None:
    """Send human-readable progress to stderr. Only the CLI and the service configure handlers."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="[%(levelname)s] %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )


def emit(record: BaseModel, *, exit_code: int | None = None) -> NoReturn:
    """Print ``record`` as the one JSON result on stdout and exit with its code."""
    sys.stdout.write(record.model_dump_json(indent=2) + "\n")
    sys.stdout.flush()
    code = exit_code if exit_code is not None else int(getattr(record, "exit_code", ExitCode.OK))
    raise typer.Exit(code)


def exit_with(error: MedskillsError) -> NoReturn:
    """Report a MedskillsError as JSON on stdout and a message on stderr, then exit with its code."""
    payload: dict[str, object] = {
        "error": str(error),
        "error_type": type(error).__name__,
        "exit_code": int(error.exit_code),
    }
    if isinstance(error, PreflightError):
        payload["problems"] = error.problems
    error_code = error.error_code if isinstance(error, StudyError) else getattr(error, "error_code", None)
    if error_code is not None:  # StudyError and the DICOMweb errors carry a machine-readable code
        payload["error_code"] = str(error_code)
    logging.getLogger("medskills").error("%s", error)
    sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    sys.stdout.flush()
    raise typer.Exit(int(error.exit_code))


def run_guarded(action: Callable[[], T]) -> T:
    """Run ``action``; a MedskillsError becomes a JSON error and its exit code."""
    try:
        return action()
    except MedskillsError as error:
        exit_with(error)
