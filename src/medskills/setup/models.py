"""Typed results of ``medskills setup`` and ``medskills doctor`` (both printed as JSON on stdout)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field

from medskills.core.skills import SkillId
from medskills.core.models import SCHEMA_VERSION, FrozenModel

__all__ = [
    "CloneAction",
    "CloneOutcome",
    "DoctorReport",
    "DoctorRow",
    "FileAction",
    "FileOutcome",
    "RowStatus",
    "SetupReport",
    "SetupRequest",
]


class SetupRequest(FrozenModel):
    """What ``medskills setup`` was asked to do."""

    skill: SkillId
    version: str | None = Field(default=None, description="Model version; the skill's default when None.")
    hub_revision: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{40}$",
        description="Override the pinned hub commit of every file (sha256 pins still apply).",
    )
    root: Path = Field(description="Parent folder of the upstream clones.")
    data_root: Path | None = Field(default=None, description="MONAI_DATA_DIRECTORY; the runtime root when None.")
    token_env: str = Field(default="HF_TOKEN", description="Environment variable holding the hub token.")
    is_confirmed: bool = Field(default=False, description="--yes: allow downloads larger than 5 GB.")


class CloneAction(StrEnum):
    """What setup did with the upstream repository."""

    CLONED = "cloned"
    VERIFIED = "verified"


class CloneOutcome(FrozenModel):
    """The upstream clone after setup."""

    url: str
    path: Path
    pinned_commit: str
    head_commit: str
    action: CloneAction


class FileAction(StrEnum):
    """What setup did with one asset file."""

    DOWNLOADED = "downloaded"
    ALREADY_PRESENT = "already_present"
    EXTRACTED = "extracted"
    ALREADY_EXTRACTED = "already_extracted"


class FileOutcome(FrozenModel):
    """One asset after setup."""

    repo_id: str
    filename: str
    path: Path
    action: FileAction
    bytes: int | None = None
    sha256: str | None = None
    sha256_source: str | None = Field(default=None, description="'pin' (package data) or 'etag' (hub LFS id).")


class SetupReport(FrozenModel):
    """The one JSON result of ``medskills setup``."""

    schema_version: str = SCHEMA_VERSION
    skill: SkillId
    version: str
    clone: CloneOutcome
    runtime_root: Path
    data_root: Path
    files: list[FileOutcome]
    downloaded_bytes: int
    exports: list[str] = Field(description="Shell lines to export before running the skill.")
    exit_code: int = 0


class RowStatus(StrEnum):
    """Outcome of one doctor row."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


class DoctorRow(FrozenModel):
    """One line of the doctor table."""

    area: str
    name: str
    status: RowStatus
    detail: str
    fix: str | None = None
    blocks: list[SkillId] = Field(default_factory=list, description="Skills that cannot run while this fails.")


class DoctorReport(FrozenModel):
    """The one JSON result of ``medskills doctor``."""

    schema_version: str = SCHEMA_VERSION
    skills: list[SkillId]
    rows: list[DoctorRow]
    can_run: dict[SkillId, bool]
    elapsed_seconds: float
    exit_code: int
