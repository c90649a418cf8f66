"""The one error tree: each family carries its exit code, and ``study_error`` keeps the machine code."""

from __future__ import annotations

import pytest

from medskills.core.errors import (
    EnvironmentProblem,
    ExitCode,
    GateFailure,
    InputError,
    MedskillsError,
    ModelPackError,
    PreflightError,
    StudyError,
    UpstreamFailure,
    UpstreamTimeout,
    UsageError,
    study_error,
)
from medskills.triage.errors import TriageErrorCode


@pytest.mark.parametrize(("error_type", "exit_code"), [
    (MedskillsError, ExitCode.FAILED), (UsageError, ExitCode.USAGE), (PreflightError, ExitCode.USAGE),
    (InputError, ExitCode.USAGE), (StudyError, ExitCode.USAGE), (EnvironmentProblem, ExitCode.USAGE),
    (GateFailure, ExitCode.FAILED), (UpstreamFailure, ExitCode.FAILED), (UpstreamTimeout, ExitCode.TIMEOUT),
    (ModelPackError, ExitCode.FAILED),
])
def test_each_family_maps_to_its_documented_exit_code(error_type: type[MedskillsError], exit_code: ExitCode) -> None:
    assert issubclass(error_type, MedskillsError) and error_type.exit_code is exit_code


def test_exit_codes_are_the_documented_numbers() -> None:
    assert [int(code) for code in ExitCode] == [0, 1, 2, 124]


def test_preflight_error_keeps_every_problem() -> None:
    error = PreflightError("2 problems", ["a is missing", "b is negative"])
    assert error.problems == ["a is missing", "b is negative"] and str(error) == "2 problems"


def test_study_error_carries_the_code_and_the_message() -> None:
    error = study_error(TriageErrorCode.LUNGS_NOT_FOUND, "no lungs in /tmp/x.zip")
    assert isinstance(error, StudyError) and error.exit_code is ExitCode.USAGE
    assert error.error_code is TriageErrorCode.LUNGS_NOT_FOUND and str(error) == "no lungs in /tmp/x.zip"
