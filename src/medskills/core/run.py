"""One run lifecycle for every run command: folder, preflight verdict, run step, record, card, exit code.

A command supplies only what differs: a ``prepare`` function (its request checks and preflight,
returning the record so far and the run step) and its record type. This module owns the rest, in
one order for everybody::

    inspect OUT (new | empty | re-usable | refused)
    -> prepare (preflight)                -> invalid or blocked or cost not confirmed: refused, exit 2
                                          -> --preflight-only: record + plan card, exit 0
    -> claim OUT (earlier record to .previous/) -> run step -> gate/upstream failure 1, timeout 124
    -> card (the command's own, else an outcome card) -> OUT/result.json on every outcome

A blocked preflight (valid request, machine not ready) exits 0 with ``--preflight-only``, because
validating on a bare machine is what it is for, and 2 for a real run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from medskills.core.errors import ExitCode, MedskillsError, StudyError
from medskills.core.gates import overall_status
from medskills.core.models import (
    CostEstimate, GateResult, Invocation, PreflightReport, PreflightStatus, RunRecord, Status, utc_now,
)
from medskills.core.plan_card import PlanCard, write_plan_card
from medskills.core.records import finish_run
from medskills.core.run_folder import CARD_FILE_NAME, claim_output_folder, inspect_output_folder

__all__ = [
    "PreparedRun",
    "RunOptions",
    "cost_gate_reason",
    "failure_reason",
    "refusal_reasons",
    "run_command",
    "run_outcome",
]

logger = logging.getLogger(__name__)

RecordT = TypeVar("RecordT", bound=RunRecord)


@dataclass(frozen=True)
class RunOptions:
    """The options every run command shares (``--output-dir``, ``--preflight-only``, ``--yes``, cards)."""

    output_dir: Path
    is_preflight_only: bool = False
    is_cost_confirmed: bool = False
    has_card: bool = True

    @classmethod
    def of(cls, request: object) -> RunOptions:
        """The shared options of a request model (``has_summary_card`` where the command has that flag)."""
        return cls(output_dir=Path(getattr(request, "output_dir")),
                   is_preflight_only=bool(getattr(request, "is_preflight_only")),
                   is_cost_confirmed=bool(getattr(request, "is_cost_confirmed")),
                   has_card=bool(getattr(request, "has_summary_card", True)))


@dataclass(frozen=True)
class PreparedRun(Generic[RecordT]):
    """What a command's preflight hands over: the record so far and how to run.

    ``record`` holds the preflight report and the request evidence (status and exit code are set
    here). ``run_step`` is called with that record and the claimed output folder and returns the
    finished record (invocation, output, gates, artifacts, its own card); it may raise a
    :class:`MedskillsError`. It is only called when preflight is ``ready``, so it may rely on
    everything a ready preflight guarantees.
    """

    record: RecordT
    run_step: Callable[[RecordT, Path], RecordT]
    plan_card: PlanCard = field(default_factory=PlanCard)


def cost_gate_reason(cost: CostEstimate | None, *, is_cost_confirmed: bool) -> str | None:
    """Why the run needs ``--yes`` (None when it does not, or when it was given)."""
    if cost is None or not cost.needs_confirmation or is_cost_confirmed:
        return None
    return "cost gate: " + "; ".join(cost.reasons) + ". Re-run with --yes to proceed."


def refusal_reasons(report: PreflightReport, *, is_preflight_only: bool, cost_reason: str | None) -> list[str]:
    """Why a run must not start (empty when it may): request errors, readiness errors (real runs), the cost gate.

    ``--preflight-only`` is refused only for an invalid request: it validates, it does not need a GPU.
    """
    is_blocking = report.status is PreflightStatus.INVALID or (
        report.status is PreflightStatus.BLOCKED and not is_preflight_only)
    if is_blocking:
        ordered = sorted(report.errors, key=lambda check: not check.blocks_request)
        return [f"preflight {check.code}: {check.field + ': ' if check.field else ''}{check.message}"
                for check in ordered]
    if cost_reason and not is_preflight_only:
        return [cost_reason]
    return []


def failure_reason(error: MedskillsError) -> str:
    """An error as a failure reason, led by its machine-readable code when it has one."""
    return f"{error.error_code}: {error}" if isinstance(error, StudyError) else str(error)


def run_outcome(invocation: Invocation, gates: list[GateResult]) -> tuple[Status, ExitCode, list[str]]:
    """Status, exit code and failure reasons of a finished upstream run: 124 on timeout, 1 if a gate failed."""
    reasons = [f"{gate.gate}: {gate.message}" for gate in gates if gate.status is Status.FAILED]
    if invocation.is_timed_out:
        return Status.FAILED, ExitCode.TIMEOUT, [f"upstream timed out after {invocation.timeout_seconds:g} s", *reasons]
    status = overall_status(gates)
    return status, (ExitCode.OK if status is Status.PASSED else ExitCode.FAILED), reasons


def run_command(options: RunOptions, prepare: Callable[[], PreparedRun[RecordT]]) -> RecordT:
    """Run one command through the lifecycle and return its record (also ``OUT/result.json``).

    Raises:
        UsageError: ``--output-dir`` is refused, or the request cannot be read (nothing is written then).
    """
    folder = inspect_output_folder(options.output_dir)
    prepared = prepare()
    record = prepared.record.with_updates(output_dir=folder.path)
    cost_reason = cost_gate_reason(record.preflight.cost, is_cost_confirmed=options.is_cost_confirmed)
    refusal = refusal_reasons(record.preflight, is_preflight_only=options.is_preflight_only, cost_reason=cost_reason)
    if refusal or options.is_preflight_only:
        previous = claim_output_folder(folder, now=utc_now())
        record = record.with_updates(status=Status.FAILED if refusal else Status.SKIPPED,
                                     exit_code=ExitCode.USAGE if refusal else ExitCode.OK, failure_reasons=refusal,
                                     previous_record_dir=previous)
    else:
        previous = claim_output_folder(folder, now=utc_now())
        record = _execute(prepared.run_step, record.with_updates(previous_record_dir=previous))
    if options.has_card and record.card_path is None:
        card_path, card_error = write_plan_card(folder.path / CARD_FILE_NAME, record, prepared.plan_card)
        record = record.with_updates(card_path=card_path, card_error=card_error)
    return finish_run(record.with_updates(finished_at=utc_now()), folder.path)


def _execute(run_step: Callable[[RecordT, Path], RecordT], record: RecordT) -> RecordT:
    """Run; an error is recorded with its exit code, an unexpected one with exit 1 and its traceback on stderr."""
    try:
        return run_step(record, record.output_dir)
    except MedskillsError as err:
        logger.error("%s", err)
        return record.with_updates(status=Status.FAILED, exit_code=int(err.exit_code),
                                   failure_reasons=[failure_reason(err)])
    except Exception as err:  # recorded, with the traceback on stderr: a bug must still leave a record
        logger.exception("unexpected error during the run")
        return record.with_updates(status=Status.FAILED, exit_code=ExitCode.FAILED, failure_reasons=[
            f"unexpected {type(err).__name__}: {err} (a medskills bug; the traceback is on stderr)"])
