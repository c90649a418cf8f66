"""The batch's report: ``batch.json`` (typed), a table (xlsx and CSV), and an HTML page linking every card."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape
from pydantic import Field

from medskills.batch.execution import VERIFICATION_FILE_NAME
from medskills.batch.ledger import JobEntry, JobState
from medskills.core.io import write_bytes_atomic, write_json_atomic, write_text_atomic
from medskills.core.models import DISCLAIMER, SCHEMA_VERSION, FrozenModel

__all__ = ["BatchReport", "JobReport", "build_job_report", "write_report"]

_MAX_KEY_NUMBERS = 60
_TABLE_COLUMNS = ["job", "command", "state", "exit_code", "attempts", "runtime_seconds", "node", "verify_exit_code",
                  "message", "card"]


class JobReport(FrozenModel):
    """One job in the report: its ledger entry plus what its record says."""

    entry: JobEntry
    output_dir: Path
    record_path: Path | None = None
    card_path: Path | None = None
    skill: str | None = None
    key_numbers: dict[str, float] = Field(default_factory=dict)


class BatchReport(FrozenModel):
    """``OUT/batch.json``."""

    schema_version: str = SCHEMA_VERSION
    manifest: Path
    output_dir: Path
    backend: str
    started_at: datetime
    finished_at: datetime
    exit_code: int
    is_interrupted: bool = False
    counts: dict[JobState, int]
    jobs: list[JobReport]
    intended_use_disclaimer: str = DISCLAIMER


def build_job_report(entry: JobEntry, job_dir: Path) -> JobReport:
    """Read the job's record (if it wrote one), and its chained verdict, for skill, card and key numbers."""
    record_path = job_dir / "result.json"
    record = _read(record_path)
    verdict = _read(job_dir / VERIFICATION_FILE_NAME)
    card = record.get("card_path")
    card_path = Path(card) if isinstance(card, str) and Path(card).is_file() else _find_card(job_dir)
    return JobReport(entry=entry, output_dir=job_dir, record_path=record_path if record else None,
                     card_path=card_path, skill=record.get("skill") if isinstance(record.get("skill"), str) else None,
                     key_numbers={**key_numbers(record), **key_numbers(verdict)})


def key_numbers(record: dict[str, Any]) -> dict[str, float]:
    """Per-class volumes (mL) and Dice values wherever the record holds them, keyed ``volume_ml:<name>``."""
    found: dict[str, float] = {}

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            name = node.get("name") or node.get("anatomy") or node.get("label_name")
            for key in ("volume_ml", "dice"):
                value = node.get(key)
                if isinstance(name, str) and isinstance(value, (int, float)) and not isinstance(value, bool):
                    found.setdefault(f"{key}:{name}", float(value))
            for child in node.values():
                visit(child)
        elif isinstance(node, list):
            for child in node:
                visit(child)

    visit(record)
    return dict(list(found.items())[:_MAX_KEY_NUMBERS])


def write_report(report: BatchReport, output_dir: Path) -> None:
    """Write ``batch.json``, ``batch.csv``, ``batch.xlsx`` and ``index.html`` atomically."""
    write_json_atomic(output_dir / "batch.json", report)
    header, rows = _table(report, output_dir)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    write_text_atomic(output_dir / "batch.csv", buffer.getvalue())
    write_bytes_atomic(output_dir / "batch.xlsx", _xlsx(header, rows))
    write_text_atomic(output_dir / "index.html", _html(report, output_dir))


def _table(report: BatchReport, output_dir: Path) -> tuple[list[str], list[list[Any]]]:
    number_columns = sorted({key for job in report.jobs for key in job.key_numbers})
    rows = []
    for job in report.jobs:
        entry = job.entry
        card = _card_link(job, output_dir) or ""
        rows.append([entry.name, " ".join(entry.command), entry.state.value, entry.exit_code, entry.attempts,
                     None if entry.runtime_seconds is None else round(entry.runtime_seconds, 2), entry.node,
                     entry.verify_exit_code, entry.message or "", card,
                     *[job.key_numbers.get(column) for column in number_columns]])
    return [*_TABLE_COLUMNS, *number_columns], rows


def _xlsx(header: list[str], rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "jobs"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    sheet.freeze_panes = "B2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>medskills batch</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.passed{background:#e6f4ea}
.failed,.invalid,.timed_out,.infrastructure{background:#fce8e6}.pending,.running,.interrupted{background:#fef7e0}
.disclaimer{color:#a00}</style></head><body>
<h1>Batch {{ report.manifest.name }}</h1>
<p class="disclaimer">{{ report.intended_use_disclaimer }}</p>
<p>{{ report.backend }} backend; exit code {{ report.exit_code }}{% if report.is_interrupted %}; interrupted:
re-run the same command to resume{% endif %}.
{% for state, count in report.counts.items() %}{{ state.value }}: {{ count }}
{%- if not loop.last %}, {% endif %}{% endfor %}</p>
<table><tr><th>job</th><th>command</th><th>state</th><th>exit</th><th>attempts</th><th>seconds</th><th>node</th><th>card</th><th>message</th></tr>
{% for job in report.jobs %}<tr class="{{ job.entry.state.value }}"><td>{{ job.entry.name }}</td>
<td>{{ job.entry.command | join(' ') }}</td><td>{{ job.entry.state.value }}</td><td>{{ job.entry.exit_code }}</td>
<td>{{ job.entry.attempts }}</td>
<td>{{ '%.1f' % job.entry.runtime_seconds if job.entry.runtime_seconds is not none }}</td>
<td>{{ job.entry.node or '' }}</td>
<td>{% if links[loop.index0] %}<a href="{{ links[loop.index0] }}">card</a>{% endif %}</td>
<td>{{ job.entry.message or '' }}</td></tr>
{% endfor %}</table></body></html>
"""


def _html(report: BatchReport, output_dir: Path) -> str:
    links = [_card_link(job, output_dir) for job in report.jobs]
    environment = Environment(autoescape=select_autoescape(default=True))
    return environment.from_string(_PAGE).render(report=report, links=links)


def _card_link(job: JobReport, output_dir: Path) -> str | None:
    """The card's path relative to the batch folder (a link that survives moving the folder)."""
    if job.card_path is None:
        return None
    if job.card_path.is_relative_to(output_dir):
        return str(job.card_path.relative_to(output_dir))
    return job.card_path.as_uri()


def _find_card(job_dir: Path) -> Path | None:
    if not job_dir.is_dir():
        return None
    cards = sorted(job_dir.glob("*.html"))
    return cards[0] if cards else None


def _read(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
