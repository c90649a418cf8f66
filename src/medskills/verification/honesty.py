"""Cross-checks of a wrapper's claims against what the verifier recomputed from the files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from medskills.core.errors import InputError
from medskills.core.models import Artifact
from medskills.verification.run_inputs import RecordedArtifact, resolve_artifact
from medskills.verification.verdict import VerdictCheck, check, skipped

__all__ = ["claims_match_check", "recorded_hash_checks"]


def recorded_hash_checks(
    recorded: Sequence[RecordedArtifact], run_dir: Path, files_read: Sequence[Artifact]
) -> list[VerdictCheck]:
    """The recorded sha256 of every artifact the verifier also read must match the file; a recorded artifact
    that is gone from disk fails the check whether it was graded or not (that evidence is lost)."""
    read_hashes = {artifact.path.resolve(): artifact.sha256 for artifact in files_read}
    mismatched, compared = [], 0
    for artifact in recorded:
        if artifact.sha256 is None:
            continue
        try:
            path = resolve_artifact(artifact.path, run_dir)
        except InputError:
            mismatched.append(f"{artifact.role}: {artifact.path} is recorded but missing")
            continue
        if path in read_hashes:
            compared += 1
            if read_hashes[path] != artifact.sha256:
                mismatched.append(f"{artifact.role}: {path.name} changed since the run (sha256 differs)")
    if not compared and not mismatched:
        return [skipped("recorded_hashes_match", reason="the record lists no sha256 for the files graded")]
    return [check("recorded_hashes_match", passed=not mismatched, measured=compared,
                  reason="; ".join(mismatched) or f"{compared} recorded sha256 values match the files on disk")]


def claims_match_check(claimed: Mapping[str, bool | None], recomputed: Mapping[str, bool]) -> VerdictCheck:
    """The wrapper's aggregate booleans must equal the recomputed ones (claims it did not make are skipped)."""
    made = {name: value for name, value in claimed.items() if value is not None}
    if not made:
        return skipped("aggregate_flags_match_recomputed", reason="the record makes no aggregate claims")
    contradicted = sorted(name for name, value in made.items() if value != recomputed[name])
    detail = ", ".join(f"{name}: claimed {made[name]}, recomputed {recomputed[name]}" for name in contradicted)
    return check("aggregate_flags_match_recomputed", passed=not contradicted,
                 measured=", ".join(contradicted or sorted(made)),
                 reason=detail or f"all {len(made)} claims agree with the files on disk")
