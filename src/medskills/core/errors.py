"""The one exception tree of medskills. Each class carries the process exit code it maps to.

::

    MedskillsError (exit 1)
    ├── UsageError (2)                 bad flags, bad request file, non-empty output dir
    │   └── PreflightError (2)         the collected preflight report has errors
    ├── InputError (2)                 an input file is unreadable or unusable
    │   └── StudyError (2)             a DICOM/NIfTI study the triage pipeline cannot use
    ├── EnvironmentProblem (2)         upstream root, weights, datasets, GPU missing
    ├── GateFailure (1)                a post-run gate failed
    ├── UpstreamFailure (1)            the upstream process exited non-zero or wrote nothing
    ├── UpstreamTimeout (124)          the upstream process ran past its timeout
    └── ModelPackError (1)             a triage model pack is invalid (hash, feature order, pickle)
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

__all__ = [
    "EnvironmentProblem",
    "ExitCode",
    "GateFailure",
    "InputError",
    "MedskillsError",
    "ModelPackError",
    "PreflightError",
    "StudyError",
    "UpstreamFailure",
    "UpstreamTimeout",
    "UsageError",
    "study_error",
]


class ExitCode(IntEnum):
    """Process exit codes shared by every command."""

    OK = 0
    FAILED = 1
    USAGE = 2
    TIMEOUT = 124


class MedskillsError(Exception):
    """Root of all medskills errors. ``str(err)`` says what, where and how to fix it."""

    exit_code: ExitCode = ExitCode.FAILED


class UsageError(MedskillsError):
    """The command line or request is wrong; nothing expensive has run."""

    exit_code = ExitCode.USAGE


class PreflightError(UsageError):
    """Preflight found one or more errors; ``problems`` lists each message."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class InputError(MedskillsError):
    """An input file cannot be read or is not usable."""

    exit_code = ExitCode.USAGE


class StudyError(InputError):
    """A study cannot be analysed; ``error_code`` is a machine-readable reason."""

    def __init__(self, message: str, error_code: str) -> None:
        super().__init__(message)
        self.error_code = error_code


def study_error(code: StrEnum, message: str) -> StudyError:
    """Build the :class:`StudyError` for a closed-set ``code`` (DICOM, triage, model or service codes);
    callers ``raise study_error(...)``."""
    return StudyError(message, error_code=code)


class EnvironmentProblem(MedskillsError):
    """The machine is not ready: missing upstream, weights, datasets or GPU."""

    exit_code = ExitCode.USAGE


class GateFailure(MedskillsError):
    """A gate evaluated after the run failed."""

    exit_code = ExitCode.FAILED


class UpstreamFailure(MedskillsError):
    """The upstream process failed (non-zero exit, Traceback, or no output)."""

    exit_code = ExitCode.FAILED


class UpstreamTimeout(MedskillsError):
    """The upstream process exceeded its timeout and was killed."""

    exit_code = ExitCode.TIMEOUT


class ModelPackError(MedskillsError):
    """A model pack failed validation: missing file, hash mismatch, feature-order mismatch."""

    exit_code = ExitCode.FAILED
