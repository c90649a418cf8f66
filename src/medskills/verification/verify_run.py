"""A verifier as a run command: ``medskills verify ... --output-dir OUT`` on the one run lifecycle.

The folder, the refusals, ``OUT/result.json`` on every outcome, the card and the exit codes are
``core.run``'s. The preflight reads the graded run's record (so a preflight-only run, or a run of
another kind, is refused with exit 2 before any volume is read); the run step grades. The record's
``output`` is the :class:`Verdict`, the same document ``--json`` writes and stdout carries without
``--output-dir``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from medskills.core.card import CardTable
from medskills.core.errors import PreflightError
from medskills.core.models import FrozenModel, Status
from medskills.core.plan_card import PlanCard, write_plan_card
from medskills.core.run import RunOptions, run_command
from medskills.core.run_folder import CARD_FILE_NAME
from medskills.core.tool_run import CommandRunRecord, prepare_command_run
from medskills.verification.run_inputs import (
    CTSynthesisRun,
    MRSynthesisRun,
    SegmentationRun,
    _InputModel,
    load_run,
)
from medskills.verification.verdict import Verdict, VerifierId

__all__ = ["RunDirRequest", "verify_in_folder"]

RequestT = TypeVar("RequestT", bound=BaseModel)

_FILE_OPTIONS = ("prediction", "image", "label", "ground_truth")
_COMMAND: dict[VerifierId, str] = {
    VerifierId.CT_SYNTHESIS: "ct-synthesis", VerifierId.MR_SYNTHESIS: "mr-synthesis",
    VerifierId.SEGMENTATION: "segmentation", VerifierId.CT_PAIR_CONSISTENCY: "ct-pair-consistency",
}
_RECORD_MODEL: dict[VerifierId, type[_InputModel]] = {
    VerifierId.CT_SYNTHESIS: CTSynthesisRun, VerifierId.MR_SYNTHESIS: MRSynthesisRun,
    VerifierId.SEGMENTATION: SegmentationRun, VerifierId.CT_PAIR_CONSISTENCY: CTSynthesisRun,
}


class RunDirRequest(FrozenModel):
    """A verifier pointed at the output folder of a run."""

    run_dir: Path


def verify_in_folder(verifier: VerifierId, request: RequestT, *, run_dir: Path | None, output_dir: Path,
                     grade: Callable[[], Verdict]) -> CommandRunRecord[RequestT, Verdict]:
    """Grade through the run lifecycle into ``output_dir``; the record (also ``OUT/result.json``).

    ``grade`` re-reads the files and returns the verdict; it runs after the record of ``run_dir``
    (when there is one) was read and found to be of the kind this verifier grades.

    Raises:
        UsageError: ``output_dir`` is refused (a file, or a folder with other content).
    """
    record_type = CommandRunRecord.of(type(request), Verdict)
    plan = PlanCard(title=f"medskills verify: {verifier.value}", request_rows=_request_rows(request))

    def graded(_: object, record: CommandRunRecord[RequestT, Verdict], folder: Path,
               ) -> CommandRunRecord[RequestT, Verdict]:
        verdict = grade()
        failed = [f"{tier.name}.{item.name}: {item.reason}" for tier in verdict.tiers for item in tier.checks
                  if item.status is Status.FAILED]
        record = record.with_updates(output=verdict, status=verdict.status, exit_code=verdict.exit_code,
                                     failure_reasons=failed)
        card = PlanCard(title=plan.title, request_rows=plan.request_rows, result_tables=_verdict_tables(verdict))
        card_path, card_error = write_plan_card(folder / CARD_FILE_NAME, record, card)
        return record.with_updates(card_path=card_path, card_error=card_error)

    return run_command(RunOptions(output_dir=output_dir, is_cost_confirmed=True), lambda: prepare_command_run(
        record_type, skill=verifier.value, request=request, read=lambda: _check_inputs(verifier, request, run_dir),
        where=str(run_dir) if run_dir is not None else "inputs", run=graded, plan_card=plan))


def _check_inputs(verifier: VerifierId, request: BaseModel, run_dir: Path | None) -> None:
    """The verifier's preflight: what it will read exists and is of the right kind, before any volume is read.

    Raises:
        InputError: the run record is missing, never ran, or is of another kind (exit 2).
        PreflightError: files named on the command line are missing (all listed).
        EnvironmentProblem: LiteMedSAM's weights are not installed (ct-pair-consistency; blocked).
    """
    if run_dir is not None:
        load_run(run_dir, _RECORD_MODEL[verifier], command=_COMMAND[verifier])
    missing = [f"--{name.replace('_', '-')} {path}: no such file" for name in _FILE_OPTIONS
               if isinstance(path := getattr(request, name, None), Path) and not path.is_file()]
    if missing:
        raise PreflightError("; ".join(missing), missing)
    if verifier is VerifierId.CT_PAIR_CONSISTENCY:
        from medskills.pretrained import locate_packaged_weights
        from medskills.pretrained.litemedsam import LITEMEDSAM_WEIGHTS

        locate_packaged_weights(LITEMEDSAM_WEIGHTS)


def _request_rows(request: BaseModel) -> list[list[str]]:
    return [[name, str(value)] for name, value in request.model_dump(exclude_none=True).items()
            if value not in ({}, [])]


def _verdict_tables(verdict: Verdict) -> list[CardTable]:
    """One table per tier, failed checks first: what was measured against which limit, and why."""
    header = ["check", "status", "measured", "threshold", "reason"]
    return [CardTable(title=f"{tier.name}: {tier.status.value}", header=header, rows=[
        [item.name, item.status.value, "" if item.measured is None else str(item.measured),
         "" if item.threshold is None else str(item.threshold), item.reason]
        for item in sorted(tier.checks, key=lambda check: check.status is not Status.FAILED)])
        for tier in verdict.tiers]
