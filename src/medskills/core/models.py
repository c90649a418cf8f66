"""Typed evidence records shared by every skill: checks, gates, artifacts, provenance, the run record.

Everything here crosses a boundary (stdout JSON, ``result.json``, API payloads), so every model is
frozen and forbids unknown keys. Skills subclass :class:`RunRecord` to add typed ``request`` and
``output`` sections; they never put free-form dicts into it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "DISCLAIMER",
    "SCHEMA_VERSION",
    "Artifact",
    "Check",
    "CostEstimate",
    "ErrorRecord",
    "FrozenModel",
    "GateResult",
    "Invocation",
    "LogTails",
    "PreflightReport",
    "PreflightStatus",
    "Provenance",
    "RunRecord",
    "Severity",
    "Status",
    "WeightFile",
    "preflight_status",
    "utc_now",
]

SCHEMA_VERSION = "1.0"

DISCLAIMER = (
    "Engineering verification only. Not for clinical use: outputs are not clinically meaningful "
    "and must not inform diagnosis or treatment."
)


def utc_now() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


class FrozenModel(BaseModel):
    """Base for boundary-crossing records: immutable, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Status(StrEnum):
    """Outcome of a check, gate or whole run."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    WARNING = "warning"


class Severity(StrEnum):
    """How much a preflight finding matters."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Check(FrozenModel):
    """One preflight finding.

    ``field`` names what was wrong (an override key, a path, an environment variable), ``fix`` says
    how to fix it. ``blocks_request`` is False for readiness problems (missing upstream, weights, GPU)
    which do not make the request itself invalid.
    """

    code: str
    severity: Severity
    message: str
    field: str | None = None
    fix: str | None = None
    blocks_request: bool = True


class CostEstimate(FrozenModel):
    """Estimated cost of a run before it starts; the ``--yes`` gate reads it."""

    wall_seconds: float
    peak_vram_gb: float
    disk_mb: float
    basis: str = Field(description="Where the numbers come from (tables, formula).")
    needs_confirmation: bool = False
    reasons: list[str] = Field(default_factory=list)


class PreflightStatus(StrEnum):
    """What a preflight means for the run, in one word.

    ``ready``: the request is valid and this machine can run it. ``blocked``: the request is valid but
    the machine cannot run it yet (upstream, weights, GPU missing); the errors carry the fixes.
    ``invalid``: the request itself is wrong (exit 2).
    """

    READY = "ready"
    BLOCKED = "blocked"
    INVALID = "invalid"


def preflight_status(*, request_valid: bool, environment_ready: bool) -> PreflightStatus:
    """The status that follows from the two flags (an invalid request wins over a blocked machine)."""
    if not request_valid:
        return PreflightStatus.INVALID
    return PreflightStatus.READY if environment_ready else PreflightStatus.BLOCKED


class PreflightReport(FrozenModel):
    """Every preflight finding, collected in one pass; ``status`` follows from the two flags."""

    status: PreflightStatus
    request_valid: bool
    environment_ready: bool
    errors: list[Check] = Field(default_factory=list)
    warnings: list[Check] = Field(default_factory=list)
    cost: CostEstimate | None = None

    @model_validator(mode="before")
    @classmethod
    def _derive_status(cls, data: Any) -> Any:
        """Fill ``status`` from the flags, and refuse a status that contradicts them."""
        if not isinstance(data, dict) or "request_valid" not in data or "environment_ready" not in data:
            return data
        derived = preflight_status(request_valid=bool(data["request_valid"]),
                                   environment_ready=bool(data["environment_ready"]))
        given = data.get("status")
        if given is not None and PreflightStatus(given) is not derived:
            raise ValueError(f"preflight status {given!r} contradicts request_valid={data['request_valid']}, "
                             f"environment_ready={data['environment_ready']} (expected {derived.value!r})")
        return {**data, "status": derived}


class GateResult(FrozenModel):
    """One post-run gate: a named condition over the outputs, with observed value and threshold."""

    gate: str
    status: Status
    message: str
    observed: float | int | str | bool | list[int] | None = None
    threshold: float | int | str | bool | list[int] | None = None


class Artifact(FrozenModel):
    """A file the run wrote (or read), with size and hash so verifiers can re-check it."""

    role: str
    path: Path
    bytes: int
    sha256: str


class WeightFile(FrozenModel):
    """One model weight file in an inventory."""

    path: Path
    is_present: bool
    bytes: int | None = None
    sha256: str | None = None
    expected_sha256: str | None = None
    is_hash_match: bool | None = None


class Provenance(FrozenModel):
    """What ran: upstream commit, weights, package versions and device."""

    upstream_root: Path | None = None
    upstream_commit: str | None = None
    upstream_dirty: bool | None = None
    weights: list[WeightFile] = Field(default_factory=list)
    python_version: str
    package_versions: dict[str, str | None] = Field(default_factory=dict)
    device: str
    device_name: str | None = None


class LogTails(FrozenModel):
    """Where the full logs are, and their last characters."""

    stdout_path: Path | None = None
    stderr_path: Path | None = None
    stdout_tail: str = ""
    stderr_tail: str = ""


class Invocation(FrozenModel):
    """The exact upstream command and how it ended."""

    argv: list[str]
    cwd: Path
    environment: dict[str, str] = Field(default_factory=dict)
    exit_code: int | None = None
    is_timed_out: bool = False
    timeout_seconds: float
    runtime_seconds: float
    started_at: datetime
    logs: LogTails = Field(default_factory=LogTails)


class RunRecord(FrozenModel):
    """Base run record written to ``OUT/result.json`` and printed on stdout.

    Skills subclass it and add typed ``request`` and ``output`` fields.
    """

    schema_version: str = SCHEMA_VERSION
    skill: str
    status: Status
    exit_code: int
    started_at: datetime
    finished_at: datetime
    output_dir: Path
    preflight: PreflightReport
    invocation: Invocation | None = None
    provenance: Provenance | None = None
    artifacts: list[Artifact] = Field(default_factory=list)
    gates: list[GateResult] = Field(default_factory=list)
    failure_reasons: list[str] = Field(default_factory=list)
    card_path: Path | None = None
    card_error: str | None = None
    previous_record_dir: Path | None = Field(
        default=None, description="Where an earlier output-free record in this folder was moved (never deleted).")
    intended_use_disclaimer: str = DISCLAIMER

    def with_updates(self, **changes: Any) -> Self:
        """Return a validated copy with ``changes`` applied (records are frozen)."""
        return type(self).model_validate({**self.model_dump(), **changes})


class ErrorRecord(FrozenModel):
    """The JSON result of a command that stopped before it had a run record: a usage error or a crash.

    ``problems`` lists every problem found (a preflight or a request can have several); ``error_code``
    is a machine-readable reason where the error has one.
    """

    schema_version: str = SCHEMA_VERSION
    status: Status = Status.FAILED
    exit_code: int
    error_type: str
    error: str
    problems: list[str] = Field(default_factory=list)
    error_code: str | None = None
    intended_use_disclaimer: str = DISCLAIMER
