"""The few lines a person reads on stderr when a run ends: blocking problems, warnings, the one next step.

Pure: a record in, lines out. Only the command line writes them (stdout keeps the JSON record).
"""

from __future__ import annotations

from dataclasses import dataclass

from medskills.core.errors import ExitCode
from medskills.core.models import Check, PreflightStatus, RunRecord

__all__ = ["RunSummary", "summarize_run"]

_MAX_WARNINGS = 5


@dataclass(frozen=True)
class RunSummary:
    """Headline, blocking problems (most important first), warnings and the next step."""

    headline: str
    blocking: list[str]
    warnings: list[str]
    next_step: str

    def lines(self) -> list[str]:
        """The summary as text lines, blocking problems first."""
        lines = [self.headline]
        lines += [f"  BLOCKING {index}. {problem}" for index, problem in enumerate(self.blocking, start=1)]
        lines += [f"  warning: {warning}" for warning in self.warnings[:_MAX_WARNINGS]]
        if len(self.warnings) > _MAX_WARNINGS:
            lines.append(f"  (+{len(self.warnings) - _MAX_WARNINGS} more warnings in result.json)")
        lines.append(f"  next: {self.next_step}")
        return lines


def _describe(check: Check) -> str:
    where = f"{check.field}: " if check.field else ""
    return f"{where}{check.message}" + (f" Fix: {check.fix}" if check.fix else "")


def _next_step(record: RunRecord, *, is_preflight_only: bool, success_hint: str) -> str:
    report, output_dir = record.preflight, record.output_dir
    first_fix = next((check.fix for check in sorted(report.errors, key=lambda c: not c.blocks_request)
                      if check.fix), None)
    if report.status is PreflightStatus.INVALID:
        return "fix the request problems above, then run the same command again (this folder is re-used)."
    if report.status is PreflightStatus.BLOCKED:
        then = "then run without --preflight-only" if is_preflight_only else "then run the same command again"
        return f"{first_fix or 'fix the machine problems above'}; {then}."
    if is_preflight_only:
        needs_yes = report.cost is not None and report.cost.needs_confirmation
        return "run the same command without --preflight-only" + (" and with --yes (see the cost estimate)"
                                                                   if needs_yes else "") + "."
    if record.exit_code == ExitCode.USAGE:
        return "re-run with --yes to accept the estimated cost." if any(
            reason.startswith("cost gate") for reason in record.failure_reasons) else \
            "fix the problems above and run again."
    if record.exit_code == ExitCode.TIMEOUT:
        return "raise --timeout-seconds and run again into a new --output-dir."
    if record.exit_code != ExitCode.OK:
        logs = f" and the logs in {output_dir}/logs" if record.invocation is not None else ""
        return f"read failure_reasons in {output_dir}/result.json{logs}, then run again into a new --output-dir."
    return success_hint or f"open {record.card_path or output_dir}."


def summarize_run(record: RunRecord, *, is_preflight_only: bool, success_hint: str = "") -> RunSummary:
    """Summarise a finished record for people; ``success_hint`` is the next step after a good run."""
    report = record.preflight
    blocking = [_describe(check) for check in sorted(report.errors, key=lambda c: not c.blocks_request)]
    is_preflight_refusal = bool(record.failure_reasons) and all(
        reason.startswith("preflight ") for reason in record.failure_reasons)
    if record.exit_code != ExitCode.OK and not is_preflight_refusal:
        blocking = [*record.failure_reasons, *blocking]
    if is_preflight_only and record.exit_code == ExitCode.OK:
        what = f"preflight {report.status.value} (--preflight-only: nothing ran)"
    else:
        what = f"run {record.status.value}"
    card = f", card {record.card_path}" if record.card_path else ""
    headline = f"{record.skill}: {what}, exit {record.exit_code}; record {record.output_dir}/result.json{card}"
    return RunSummary(headline=headline, blocking=blocking, warnings=[_describe(check) for check in report.warnings],
                      next_step=_next_step(record, is_preflight_only=is_preflight_only, success_hint=success_hint))
