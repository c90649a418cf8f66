"""The verdict every verifier writes: tiers of checks, an overall status, and the files it read."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field

from medskills.core.errors import ExitCode, UsageError
from medskills.core.io import sha256_file, write_json_atomic
from medskills.core.label_spaces import UnitMerge, UnpairedClass
from medskills.core.models import DISCLAIMER, SCHEMA_VERSION, Artifact, FrozenModel, Status
from medskills.core.skills import SkillId
from medskills.verification.ct_pair_consistency_measure import PairConsistencyScores
from medskills.verification.run_inputs import skill_of

__all__ = [
    "VERIFIER_VERSION",
    "ClassScore",
    "SegmentationScores",
    "Tier",
    "Verdict",
    "VerdictCheck",
    "VerifierId",
    "build_verdict",
    "check",
    "file_read",
    "skipped",
    "target_checks",
    "tier",
    "write_verdict",
]

VERIFIER_VERSION = "1.0.0"

Measured = float | int | str | bool | list[int] | list[float] | None


class VerifierId(StrEnum):
    """The verifiers medskills ships; each has a folder under ``verifiers/``."""

    CT_SYNTHESIS = "ct_synthesis_quality_v1"
    MR_SYNTHESIS = "mr_synthesis_quality_v1"
    SEGMENTATION = "ct_segmentation_quality_v1"
    CT_PAIR_CONSISTENCY = "ct_pair_consistency_v1"


class VerdictCheck(FrozenModel):
    """One check: what was measured, the limit it was held to, and why it passed, failed or was skipped."""

    name: str
    status: Status
    measured: Measured = None
    threshold: Measured = None
    reason: str


class Tier(FrozenModel):
    """A group of checks; it fails when any of its checks fails."""

    name: str
    status: Status
    checks: list[VerdictCheck]

    @property
    def failed_checks(self) -> list[str]:
        return [item.name for item in self.checks if item.status is Status.FAILED]


class ClassScore(FrozenModel):
    """Agreement of one compared structure with the reference (volumes in mL, distance in mm)."""

    name: str
    prediction_ids: list[int]
    reference_ids: list[int]
    prediction_volume_ml: float
    reference_volume_ml: float
    volume_difference_ml: float
    dice: float | None
    iou: float | None
    hd95_mm: float | None = Field(description="Only for structures present on both sides.")
    dice_floor: float | None = None


class SegmentationScores(FrozenModel):
    """Per-structure scores against a reference, and how the two label spaces were paired."""

    prediction_space: str
    reference_space: str
    classes: list[ClassScore]
    merged: list[UnitMerge] = Field(default_factory=list)
    without_counterpart: list[UnpairedClass] = Field(default_factory=list)
    unmatched_dice_floors: list[str] = Field(
        default_factory=list, description="Dice floor names that match no compared structure, as given.")


class Verdict(FrozenModel):
    """A verifier's report. ``exit_code`` is 0 when ``status`` is passed, else 1."""

    schema_version: str = SCHEMA_VERSION
    verifier: VerifierId
    verifier_version: str = VERIFIER_VERSION
    run_dir: Path | None
    target_skill: str | None
    status: Status
    exit_code: int
    tiers: list[Tier]
    files_read: list[Artifact]
    scores: SegmentationScores | None = None
    pair_consistency: PairConsistencyScores | None = None
    notes: list[str] = Field(default_factory=list)
    intended_use_disclaimer: str = DISCLAIMER

    @property
    def failed_checks(self) -> list[str]:
        return [f"{item.name}.{name}" for item in self.tiers for name in item.failed_checks]


def check(
    name: str, *, passed: bool, reason: str, measured: Measured = None, threshold: Measured = None
) -> VerdictCheck:
    """A passed or failed check."""
    return VerdictCheck(name=name, status=Status.PASSED if passed else Status.FAILED, measured=measured,
                        threshold=threshold, reason=reason)


def skipped(name: str, *, reason: str) -> VerdictCheck:
    """A check that does not apply to this run (it neither passes nor fails the tier)."""
    return VerdictCheck(name=name, status=Status.SKIPPED, reason=reason)


def target_checks(skill: str, run_status: str | None, *, accepted: SkillId, what: str) -> list[VerdictCheck]:
    """The run came from the skill this verifier grades (any of its names) and passed its own gates."""
    return [
        check("skill_accepted", passed=skill_of(skill) is accepted, measured=skill,
              threshold=f"{accepted.value} (or a legacy name of it)", reason=f"the run must come from {what}"),
        check("run_succeeded", passed=run_status == Status.PASSED.value, measured=run_status,
              threshold=Status.PASSED.value, reason="a run that failed its own gates cannot pass verification"),
    ]


def tier(name: str, checks: list[VerdictCheck]) -> Tier:
    """Group checks; the tier fails when any check failed."""
    failed = any(item.status is Status.FAILED for item in checks)
    return Tier(name=name, status=Status.FAILED if failed else Status.PASSED, checks=checks)


def file_read(role: str, path: Path) -> Artifact:
    """Record a file the verifier read, with its size and sha256."""
    return Artifact(role=role, path=path, bytes=path.stat().st_size, sha256=sha256_file(path))


def build_verdict(
    verifier: VerifierId, *, run_dir: Path | None, target_skill: str | None, tiers: list[Tier],
    files_read: list[Artifact], scores: SegmentationScores | None = None, notes: list[str] | None = None,
    pair_consistency: PairConsistencyScores | None = None,
) -> Verdict:
    """Assemble the verdict; overall status fails when any tier fails."""
    failed = any(item.status is Status.FAILED for item in tiers)
    return Verdict(
        verifier=verifier, run_dir=run_dir, target_skill=target_skill,
        status=Status.FAILED if failed else Status.PASSED,
        exit_code=int(ExitCode.FAILED if failed else ExitCode.OK),
        tiers=tiers, files_read=files_read, scores=scores, pair_consistency=pair_consistency, notes=notes or [],
    )


def write_verdict(verdict: Verdict, path: Path) -> Path:
    """Write the verdict atomically to ``path``; an existing file is never replaced.

    Raises:
        UsageError: ``path`` already exists.
    """
    path = Path(path)
    if path.exists():
        raise UsageError(f"--json {path} already exists; verdicts never overwrite a file. Pass a new path.")
    return write_json_atomic(path, verdict)
