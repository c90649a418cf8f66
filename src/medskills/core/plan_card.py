"""The card of a run that produced no images: the plan (request, checks with fixes, cost, expected labels).

Written for ``--preflight-only`` runs, refusals and failures before any output, so every run leaves a
page a person can open. Commands describe their request and expected labels in a :class:`PlanCard`;
the checks, cost and outcome come from the record itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from medskills.core.card import CardTable, write_card
from medskills.core.models import RunRecord

__all__ = ["PlanCard", "plan_tables", "write_plan_card"]


@dataclass(frozen=True)
class PlanCard:
    """What a command adds to its card: a title, the request rows, the expected label mapping.

    ``result_tables`` are what a command without an upstream (a verifier, a triage study command)
    found; they follow the outcome, and a card with them describes a run, not a plan.
    """

    title: str = "medskills run"
    request_rows: list[list[str]] = field(default_factory=list)
    label_header: list[str] = field(default_factory=list)
    label_rows: list[list[str]] = field(default_factory=list)
    result_tables: list[CardTable] = field(default_factory=list)


def plan_tables(record: RunRecord, plan: PlanCard) -> list[CardTable]:
    """The tables of a plan card, most important first: outcome, checks, request, cost, expected labels."""
    report = record.preflight
    outcome = [["run status", record.status.value], ["exit code", str(record.exit_code)],
               ["preflight", report.status.value], *(["why", reason] for reason in record.failure_reasons)]
    checks = [[check.severity.value, check.field or check.code, check.message, check.fix or ""]
              for check in sorted(report.errors, key=lambda c: not c.blocks_request)]
    checks += [[check.severity.value, check.field or check.code, check.message, check.fix or ""]
               for check in report.warnings]
    tables = [CardTable(title="Outcome", rows=outcome), *plan.result_tables,
              CardTable(title="Checks", header=["severity", "where", "problem", "fix"], rows=checks
                        or [["ok", "", "no problems found", ""]]),
              CardTable(title="Request", rows=plan.request_rows)]
    if report.cost is not None:
        cost = report.cost
        tables.append(CardTable(title="Cost estimate", rows=[
            ["wall time (s)", f"{cost.wall_seconds:.0f}"], ["peak VRAM (GB)", f"{cost.peak_vram_gb:.1f}"],
            ["disk (MB)", f"{cost.disk_mb:.0f}"], ["needs --yes", "yes" if cost.needs_confirmation else "no"],
            ["basis", cost.basis], *(["reason", reason] for reason in cost.reasons)]))
    if plan.label_rows:
        tables.append(CardTable(title="Expected label mapping", header=plan.label_header, rows=plan.label_rows))
    return tables


def write_plan_card(path: Path, record: RunRecord, plan: PlanCard) -> tuple[Path | None, str | None]:
    """Write the plan card atomically; ``(path, None)`` or ``(None, error)``, never raises."""
    has_run = record.invocation is not None or bool(plan.result_tables)
    status = record.status.value if has_run else record.preflight.status.value
    subtitle = f"{record.skill} · {'run' if has_run else 'plan (nothing ran)'} · {record.started_at:%Y-%m-%d %H:%M} UTC"
    return write_card(path, title=plan.title, subtitle=subtitle, status=status, panels=[],
                      tables=plan_tables(record, plan))
