"""The verdict record: checks, tiers, the overall status and exit code, the files read and the atomic write."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from medskills.core.errors import ExitCode, UsageError
from medskills.core.models import DISCLAIMER, SCHEMA_VERSION, Status
from medskills.core.skills import SkillId
from medskills.verification.verdict import (
    VERIFIER_VERSION,
    ClassScore,
    SegmentationScores,
    Tier,
    Verdict,
    VerdictCheck,
    VerifierId,
    build_verdict,
    check,
    file_read,
    skipped,
    target_checks,
    tier,
    write_verdict,
)


def _passed(name: str) -> VerdictCheck:
    return check(name, passed=True, reason="ok")


def _failed(name: str) -> VerdictCheck:
    return check(name, passed=False, reason="broken")


def _verdict(tiers: list[Tier], **options: object) -> Verdict:
    return build_verdict(VerifierId.SEGMENTATION, run_dir=None, target_skill=None, tiers=tiers, files_read=[],
                         **options)  # type: ignore[arg-type]


def _by_name(checks: list[VerdictCheck]) -> dict[str, VerdictCheck]:
    return {item.name: item for item in checks}


def test_check_is_passed_with_its_measurement_and_threshold_when_passed_is_true() -> None:
    item = check("volume_liver", passed=True, measured=1500.0, threshold="600-3500 mL", reason="in range")
    assert item == VerdictCheck(name="volume_liver", status=Status.PASSED, measured=1500.0,
                                threshold="600-3500 mL", reason="in range")


def test_check_is_failed_when_passed_is_false() -> None:
    assert _failed("x").status is Status.FAILED


def test_skipped_check_has_no_measurement_or_threshold() -> None:
    item = skipped("recorded_hashes_match", reason="nothing recorded")
    assert (item.status, item.measured, item.threshold, item.reason) == (
        Status.SKIPPED, None, None, "nothing recorded")


def test_verdict_check_rejects_unknown_fields_and_assignment() -> None:
    with pytest.raises(ValidationError, match="extra"):
        VerdictCheck(name="x", status=Status.PASSED, reason="ok", note="not a field")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="frozen"):
        _passed("x").status = Status.FAILED


def test_tier_fails_when_any_one_check_failed() -> None:
    grouped = tier("geometry", [_passed("a"), _failed("b"), _passed("c")])
    assert grouped.status is Status.FAILED
    assert grouped.failed_checks == ["b"]


def test_tier_passes_when_its_checks_are_only_passed_skipped_or_warning() -> None:
    warning = VerdictCheck(name="w", status=Status.WARNING, reason="note")
    grouped = tier("honesty", [_passed("a"), skipped("s", reason="n/a"), warning])
    assert grouped.status is Status.PASSED
    assert grouped.failed_checks == []


def test_tier_passes_when_it_holds_no_checks() -> None:
    assert tier("empty", []).status is Status.PASSED


def test_build_verdict_passes_with_exit_code_zero_when_every_tier_passed() -> None:
    verdict = _verdict([tier("a", [_passed("x")]), tier("b", [skipped("y", reason="n/a")])])
    assert verdict.status is Status.PASSED
    assert verdict.exit_code == 0
    assert verdict.failed_checks == []


def test_build_verdict_fails_with_exit_code_one_when_any_tier_failed() -> None:
    verdict = _verdict([tier("a", [_passed("x")]), tier("b", [_failed("y"), _failed("z")])])
    assert verdict.status is Status.FAILED
    assert verdict.exit_code == 1
    assert verdict.failed_checks == ["b.y", "b.z"]


def test_build_verdict_passes_when_it_has_no_tiers() -> None:
    assert _verdict([]).status is Status.PASSED


def test_build_verdict_fills_versions_disclaimer_and_empty_notes_when_not_given() -> None:
    verdict = _verdict([])
    assert verdict.schema_version == SCHEMA_VERSION
    assert verdict.verifier_version == VERIFIER_VERSION
    assert verdict.intended_use_disclaimer == DISCLAIMER
    assert verdict.notes == [] and verdict.scores is None and verdict.pair_consistency is None


def test_build_verdict_keeps_notes_scores_run_dir_and_target_skill(tmp_path: Path) -> None:
    score = ClassScore(name="liver", prediction_ids=[5], reference_ids=[5], prediction_volume_ml=1.0,
                       reference_volume_ml=1.0, volume_difference_ml=0.0, dice=1.0, iou=1.0, hd95_mm=0.0)
    scores = SegmentationScores(prediction_space="totalsegmentator", reference_space="totalsegmentator",
                                classes=[score])
    verdict = build_verdict(VerifierId.CT_SYNTHESIS, run_dir=tmp_path, target_skill="synth-ct", tiers=[],
                            files_read=[], scores=scores, notes=["one note"])
    assert (verdict.verifier, verdict.run_dir, verdict.target_skill) == (VerifierId.CT_SYNTHESIS, tmp_path,
                                                                          "synth-ct")
    assert verdict.notes == ["one note"] and verdict.scores == scores


def test_verifier_ids_are_the_four_published_verifier_names() -> None:
    assert {item.value for item in VerifierId} == {"ct_synthesis_quality_v1", "mr_synthesis_quality_v1",
                                                   "ct_segmentation_quality_v1", "ct_pair_consistency_v1"}


@pytest.mark.parametrize("skill", ["segment-ctmr", "nv-segment-ctmr", "nv_segment_ctmr", "medagent.nv-segment-ctmr"])
def test_target_checks_accept_the_skill_when_named_canonically_or_by_a_legacy_name(skill: str) -> None:
    checks = _by_name(target_checks(skill, "passed", accepted=SkillId.SEGMENT_CTMR, what="a segmentation skill"))
    assert checks["skill_accepted"].status is Status.PASSED
    assert checks["skill_accepted"].measured == skill
    assert checks["skill_accepted"].threshold == "segment-ctmr (or a legacy name of it)"
    assert checks["run_succeeded"].status is Status.PASSED


@pytest.mark.parametrize("skill", ["synth-ct", "unknown-skill", ""])
def test_target_checks_fail_skill_accepted_when_the_run_is_from_another_or_unknown_skill(skill: str) -> None:
    checks = _by_name(target_checks(skill, "passed", accepted=SkillId.SEGMENT_CTMR, what="a segmentation skill"))
    assert checks["skill_accepted"].status is Status.FAILED
    assert checks["skill_accepted"].reason == "the run must come from a segmentation skill"


@pytest.mark.parametrize("run_status", ["failed", "skipped", "PASSED", None])
def test_target_checks_fail_run_succeeded_when_the_run_status_is_not_passed(run_status: str | None) -> None:
    checks = _by_name(target_checks("synth-ct", run_status, accepted=SkillId.SYNTH_CT, what="a CT synthesis skill"))
    assert checks["run_succeeded"].status is Status.FAILED
    assert (checks["run_succeeded"].measured, checks["run_succeeded"].threshold) == (run_status, "passed")
    assert checks["skill_accepted"].status is Status.PASSED


def test_file_read_records_role_path_size_and_sha256_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "mask.nii.gz"
    content = b"not really a NIfTI, but bytes to hash"
    path.write_bytes(content)
    read = file_read("prediction", path)
    assert (read.role, read.path, read.bytes) == ("prediction", path, len(content))
    assert read.sha256 == hashlib.sha256(content).hexdigest()


def test_file_read_raises_file_not_found_when_the_file_is_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        file_read("prediction", tmp_path / "absent.nii.gz")


def test_write_verdict_writes_json_that_reads_back_as_the_same_verdict(tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    record.write_text("{}", encoding="utf-8")
    verdict = build_verdict(VerifierId.MR_SYNTHESIS, run_dir=tmp_path, target_skill="synth-mr-brain",
                            tiers=[tier("target", [_failed("run_succeeded")])],
                            files_read=[file_read("record", record)])
    path = write_verdict(verdict, tmp_path / "out" / "verdict.json")
    assert path == tmp_path / "out" / "verdict.json"
    assert Verdict.model_validate_json(path.read_text(encoding="utf-8")) == verdict
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["status"] == "failed" and document["exit_code"] == 1
    assert document["verifier"] == "mr_synthesis_quality_v1"


def test_write_verdict_refuses_with_exit_code_two_and_keeps_the_file_when_the_path_exists(tmp_path: Path) -> None:
    path = tmp_path / "verdict.json"
    path.write_text("earlier verdict", encoding="utf-8")
    with pytest.raises(UsageError, match=r"--json .*verdict\.json already exists; verdicts never overwrite") as error:
        write_verdict(_verdict([]), path)
    assert error.value.exit_code == ExitCode.USAGE
    assert "Pass a new path" in str(error.value)
    assert path.read_text(encoding="utf-8") == "earlier verdict"


def test_write_verdict_refuses_when_the_path_is_an_existing_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="already exists"):
        write_verdict(_verdict([]), tmp_path)


def test_write_verdict_accepts_a_string_path(tmp_path: Path) -> None:
    path = write_verdict(_verdict([]), str(tmp_path / "verdict.json"))  # type: ignore[arg-type]
    assert isinstance(path, Path) and path.is_file()
