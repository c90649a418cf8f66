"""What every command shares: logging to stderr, one JSON result on stdout, a summary for people, exit codes."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from medskills.core.errors import ExitCode, MedskillsError, PreflightError, StudyError, UsageError
from medskills.core.models import ErrorRecord, RunRecord

__all__ = [
    "OptionalOutputDirOption",
    "OutputDirOption",
    "PreflightOnlyOption",
    "configure_logging",
    "emit",
    "emit_run",
    "exit_with",
    "run_app",
    "run_as_script",
    "run_guarded",
    "write_summary",
]

T = TypeVar("T")

# Options every run command shares, declared once so their flags and help cannot drift apart.
OutputDirOption = Annotated[Path, typer.Option(
    "--output-dir", "-o", help="New or empty folder for the run (a folder holding only an earlier preflight-only or "
    "refused record of ours is re-used; that record moves to .previous/).")]
OptionalOutputDirOption = Annotated[Path | None, typer.Option(
    "--output-dir", "-o", help="Run folder for result.json and summary.html, as for every run command (new, empty, "
    "or holding only an earlier output-free record of ours, which moves to .previous/). Without it the JSON record "
    "goes to stdout only.")]
PreflightOnlyOption = Annotated[bool, typer.Option("--preflight-only", help="Validate and estimate; run nothing.")]

logger = logging.getLogger("medskills")


class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is logged (test runners swap and close it)."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        """The stream is always the current ``sys.stderr``; a set value is ignored."""


def configure_logging(*, verbose: bool = False) -> None:
    """Send human-readable progress to stderr. Only the CLI and the service configure handlers."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="[%(levelname)s] %(name)s: %(message)s",
        handlers=[_CurrentStderrHandler()],
        force=True,
    )


def _write_result(record: BaseModel) -> None:
    sys.stdout.write(record.model_dump_json(indent=2) + "\n")
    sys.stdout.flush()


def write_summary(lines: list[str]) -> None:
    """The short summary for people, on stderr (stdout keeps the one JSON record)."""
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()


def emit(record: BaseModel, *, exit_code: int | None = None) -> NoReturn:
    """Print ``record`` as the one JSON result on stdout and exit with its code."""
    _write_result(record)
    code = exit_code if exit_code is not None else int(getattr(record, "exit_code", ExitCode.OK))
    raise typer.Exit(code)


def emit_run(record: RunRecord, *, is_preflight_only: bool, success_hint: str = "") -> NoReturn:
    """Print the run record on stdout and its summary (blocking problems, warnings, next step) on stderr."""
    from medskills.core.run_summary import summarize_run

    write_summary(summarize_run(record, is_preflight_only=is_preflight_only, success_hint=success_hint).lines())
    emit(record)


def exit_with(error: MedskillsError) -> NoReturn:
    """Report a MedskillsError as a JSON error record on stdout and a summary on stderr; exit with its code."""
    problems = error.problems if isinstance(error, PreflightError) else []
    record = ErrorRecord(exit_code=int(error.exit_code), error_type=type(error).__name__, error=str(error),
                         problems=problems or [str(error)],
                         error_code=_error_code(error))
    kind = "usage error" if error.exit_code == ExitCode.USAGE else "error"
    write_summary([f"medskills: {kind}, exit {record.exit_code}",
                    *(f"  BLOCKING {index}. {problem}" for index, problem in enumerate(record.problems, start=1)),
                    "  next: fix the problem above (the message says how) and run the command again."])
    emit(record)


def _error_code(error: MedskillsError) -> str | None:
    """The machine-readable code a study or DICOMweb error carries, if any."""
    code = error.error_code if isinstance(error, StudyError) else getattr(error, "error_code", None)
    return None if code is None else str(code)


def _usage_error(err: ValidationError) -> UsageError:
    """A pydantic error on a request built from options, said in option terms."""
    problems = [f"--{'-'.join(str(part) for part in item['loc']).replace('_', '-') or 'request'}: {item['msg']}"
                for item in err.errors()]
    return PreflightError("invalid option(s): " + "; ".join(problems), problems)


def run_guarded(action: Callable[[], T]) -> T:
    """Run ``action``; a MedskillsError or an invalid request becomes a JSON error record and its exit code.

    Anything else is a bug: its traceback goes to stderr and the JSON record says so (exit 1).
    """
    try:
        return action()
    except MedskillsError as error:
        exit_with(error)
    except ValidationError as error:
        exit_with(_usage_error(error))
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as error:  # reported, not swallowed: traceback on stderr, exit 1, JSON on stdout
        logger.exception("unexpected error (a medskills bug)")
        failure = MedskillsError(f"unexpected {type(error).__name__}: {error}. This is a bug in medskills; the "
                                 "traceback is above on stderr.")
        exit_with(failure)


def run_app(app: typer.Typer) -> NoReturn:
    """Run a typer app so that a command line click cannot parse also ends with a JSON error record.

    Click reports a bad option on stderr as usual; stdout then carries an :class:`ErrorRecord` with the
    same message, so a machine reading stdout always gets one JSON document.
    """
    try:
        result = app(standalone_mode=False)
    except typer.TyperException as error:  # typer's (vendored) click parse errors all derive from it
        message = error.format_message()
        show = getattr(error, "show", None)  # click's errors print usage and the message themselves
        if callable(show):
            show(file=sys.stderr)
        else:
            sys.stderr.write(f"Error: {message}\n")
        if not message:  # a bare group name: the help text was the whole answer
            raise SystemExit(error.exit_code) from None
        _write_result(ErrorRecord(exit_code=error.exit_code, error_type="UsageError", error=message,
                                  problems=[message]))
        raise SystemExit(error.exit_code) from None
    except typer.Abort:
        sys.stderr.write("aborted\n")
        raise SystemExit(1) from None
    raise SystemExit(result if isinstance(result, int) else 0)


def run_as_script(command: Callable[..., Any]) -> NoReturn:
    """Run one command as a stand-alone script (the shims under skills/ and verifiers/).

    The usage line names the script itself (``run_ctmr.py [OPTIONS] IMAGE``), so it works when typed.
    """
    configure_logging()
    script = typer.Typer(add_completion=False)
    script.command()(command)
    run_app(script)
