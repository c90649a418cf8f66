"""Run commands without an upstream (the verifiers, the triage study commands) on the one lifecycle.

Their preflight is reading and checking their inputs: an input or usage error (exit 2) becomes an
``invalid`` preflight, a machine problem a ``blocked`` one, so :func:`medskills.core.run.run_command`
refuses, records and cards them exactly as it does a synthesis run. The command supplies its
request, the input check, the run step and what the record's ``output`` holds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from pydantic import BaseModel

from medskills.core.errors import EnvironmentProblem, ExitCode, MedskillsError, PreflightError
from medskills.core.models import PreflightReport, RunRecord, Status, utc_now
from medskills.core.plan_card import PlanCard
from medskills.core.preflight import PreflightCollector
from medskills.core.run import PreparedRun

__all__ = ["CommandRunRecord", "input_preflight", "prepare_command_run"]

RequestT = TypeVar("RequestT", bound=BaseModel)
OutputT = TypeVar("OutputT", bound=BaseModel)
InputsT = TypeVar("InputsT")
CommandRecordT = TypeVar("CommandRecordT", bound="CommandRunRecord[Any, Any]")


class CommandRunRecord(RunRecord, Generic[RequestT, OutputT]):
    """``OUT/result.json`` of a command without an upstream: its request and, once it ran, its output.

    ``error_code`` is the machine-readable reason of a refused input where the command has one (the
    triage study codes the service also answers with).
    """

    request: RequestT
    output: OutputT | None = None
    error_code: str | None = None

    @staticmethod
    def of(request_type: type[RequestT], output_type: type[OutputT]) -> type[CommandRunRecord[RequestT, OutputT]]:
        """The record type for these request and output types (pydantic validates and dumps them as such)."""
        generic: Any = CommandRunRecord
        return cast(type[CommandRunRecord[RequestT, OutputT]], generic[request_type, output_type])


def input_preflight(read: Callable[[], InputsT], *, where: str) -> tuple[InputsT | None, PreflightReport]:
    """Read and check a command's inputs once; an exit-2 error becomes the preflight's one blocking check.

    Args:
        read: Reads and checks the inputs; raises a :class:`MedskillsError` for a problem.
        where: What was read (a path or an option), shown as the check's field.

    Returns:
        The inputs (None when refused) and the preflight report: ``ready``, ``invalid`` (input or
        usage error; one check per problem a :class:`PreflightError` lists) or ``blocked``
        (:class:`EnvironmentProblem`: the machine is not ready).

    Raises:
        MedskillsError: an error that is not exit 2 (it belongs to the run, not to its preflight).
    """
    collector = PreflightCollector()
    try:
        return read(), collector.report()
    except MedskillsError as err:
        if err.exit_code != ExitCode.USAGE:
            raise
        is_machine = isinstance(err, EnvironmentProblem)
        code = "environment" if is_machine else f"input.{getattr(err, 'error_code', None) or 'unusable'}"
        for message in (err.problems if isinstance(err, PreflightError) else []) or [str(err)]:
            collector.error(code, message, field=where, blocks_request=not is_machine)
        return None, collector.report()


def prepare_command_run(
    record_type: type[CommandRecordT], *, skill: str, request: BaseModel, read: Callable[[], InputsT], where: str,
    run: Callable[[InputsT, CommandRecordT, Path], CommandRecordT], plan_card: PlanCard,
) -> PreparedRun[CommandRecordT]:
    """The preflight of a command without an upstream: its record so far and its run step.

    ``run(inputs, record, output_dir)`` is called only after a ``ready`` preflight, with what
    ``read`` returned; it returns the finished record (``output``, status, exit code, its own card).
    """
    inputs, report = input_preflight(read, where=where)
    now = utc_now()
    record = record_type(skill=skill, status=Status.SKIPPED, exit_code=ExitCode.OK, started_at=now, finished_at=now,
                         output_dir=Path.cwd(), preflight=report, request=request)

    def run_step(prepared: CommandRecordT, output_dir: Path) -> CommandRecordT:
        return run(cast(InputsT, inputs), prepared, output_dir)  # only called after a ready preflight

    return PreparedRun(record=record, run_step=run_step, plan_card=plan_card)
