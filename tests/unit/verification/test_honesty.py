"""Cross-checks of a run's recorded hashes and aggregate claims against what the verifier read itself."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from medskills.core.models import Artifact, Status
from medskills.verification.honesty import claims_match_check, recorded_hash_checks
from medskills.verification.run_inputs import RecordedArtifact
from medskills.verification.verdict import file_read


def _write(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _recorded(role: str, path: Path | str, content: bytes | None) -> RecordedArtifact:
    sha256 = None if content is None else hashlib.sha256(content).hexdigest()
    return RecordedArtifact(role=role, path=Path(path), sha256=sha256)


def _run_with_two_files(run_dir: Path) -> tuple[list[Artifact], dict[str, bytes]]:
    contents = {"image": b"image bytes", "label": b"label bytes"}
    files = [file_read(role, _write(run_dir / f"{role}.nii.gz", data)) for role, data in contents.items()]
    return files, contents


def test_recorded_hashes_pass_and_count_the_files_when_every_sha256_matches(tmp_path: Path) -> None:
    files, contents = _run_with_two_files(tmp_path)
    recorded = [_recorded(role, f"{role}.nii.gz", data) for role, data in contents.items()]
    [result] = recorded_hash_checks(recorded, tmp_path, files)
    assert (result.name, result.status, result.measured) == ("recorded_hashes_match", Status.PASSED, 2)
    assert result.reason == "2 recorded sha256 values match the files on disk"


def test_recorded_hashes_fail_naming_the_file_when_it_changed_since_the_run(tmp_path: Path) -> None:
    files, contents = _run_with_two_files(tmp_path)
    recorded = [_recorded("image", "image.nii.gz", b"what the run wrote"),
                _recorded("label", "label.nii.gz", contents["label"])]
    [result] = recorded_hash_checks(recorded, tmp_path, files)
    assert result.status is Status.FAILED
    assert result.measured == 2
    assert result.reason == "image: image.nii.gz changed since the run (sha256 differs)"


def test_recorded_hashes_fail_when_a_recorded_file_is_missing(tmp_path: Path) -> None:
    files, contents = _run_with_two_files(tmp_path)
    recorded = [_recorded("image", "image.nii.gz", contents["image"]), _recorded("label", "gone.nii.gz", b"x")]
    [result] = recorded_hash_checks(recorded, tmp_path, files)
    assert result.status is Status.FAILED
    assert result.measured == 1
    assert result.reason == "label: gone.nii.gz is recorded but missing"


def test_recorded_hashes_fail_with_nothing_compared_when_the_only_recorded_file_is_missing(tmp_path: Path) -> None:
    [result] = recorded_hash_checks([_recorded("image", "gone.nii.gz", b"x")], tmp_path, [])
    assert (result.status, result.measured) == (Status.FAILED, 0)


def test_recorded_hashes_list_every_mismatch_separated_by_semicolons(tmp_path: Path) -> None:
    files, _ = _run_with_two_files(tmp_path)
    recorded = [_recorded("image", "image.nii.gz", b"old image"), _recorded("label", "label.nii.gz", b"old label")]
    [result] = recorded_hash_checks(recorded, tmp_path, files)
    assert result.reason == ("image: image.nii.gz changed since the run (sha256 differs); "
                             "label: label.nii.gz changed since the run (sha256 differs)")


def test_recorded_hashes_are_skipped_when_no_artifact_records_a_sha256(tmp_path: Path) -> None:
    files, _ = _run_with_two_files(tmp_path)
    recorded = [_recorded("image", "image.nii.gz", None), _recorded("ghost", "gone.nii.gz", None)]
    [result] = recorded_hash_checks(recorded, tmp_path, files)
    assert result.status is Status.SKIPPED
    assert result.reason == "the record lists no sha256 for the files graded"


def test_recorded_hashes_are_skipped_when_the_record_lists_no_artifacts(tmp_path: Path) -> None:
    files, _ = _run_with_two_files(tmp_path)
    assert recorded_hash_checks([], tmp_path, files)[0].status is Status.SKIPPED


def test_recorded_hashes_ignore_a_file_the_verifier_did_not_read(tmp_path: Path) -> None:
    files, contents = _run_with_two_files(tmp_path)
    _write(tmp_path / "log.txt", b"current log")
    recorded = [_recorded("log", "log.txt", b"a log that has changed since"),
                _recorded("image", "image.nii.gz", contents["image"])]
    [result] = recorded_hash_checks(recorded, tmp_path, files)
    assert (result.status, result.measured) == (Status.PASSED, 1)


def test_recorded_hashes_are_skipped_when_only_unread_files_are_recorded(tmp_path: Path) -> None:
    _write(tmp_path / "log.txt", b"log")
    [result] = recorded_hash_checks([_recorded("log", "log.txt", b"other")], tmp_path, [])
    assert result.status is Status.SKIPPED


def test_recorded_hashes_compare_an_absolute_recorded_path(tmp_path: Path) -> None:
    files, _ = _run_with_two_files(tmp_path / "run")
    recorded = [_recorded("image", tmp_path / "run" / "image.nii.gz", b"changed")]
    [result] = recorded_hash_checks(recorded, tmp_path / "elsewhere", files)
    assert (result.status, result.measured) == (Status.FAILED, 1)


def test_recorded_hashes_resolve_a_relative_path_against_the_working_directory_when_not_in_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    files, contents = _run_with_two_files(tmp_path / "outputs")
    (tmp_path / "run").mkdir()
    monkeypatch.chdir(tmp_path)
    recorded = [_recorded("label", "outputs/label.nii.gz", contents["label"])]
    [result] = recorded_hash_checks(recorded, tmp_path / "run", files)
    assert (result.status, result.measured) == (Status.PASSED, 1)


def test_recorded_hashes_match_a_file_read_through_a_relative_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    content = b"image bytes"
    _write(tmp_path / "run" / "image.nii.gz", content)
    monkeypatch.chdir(tmp_path)
    files = [file_read("image", Path("run/image.nii.gz"))]
    [result] = recorded_hash_checks([_recorded("image", "image.nii.gz", content)], tmp_path / "run", files)
    assert (result.status, result.measured) == (Status.PASSED, 1)


def test_claims_are_skipped_when_the_record_makes_no_claims() -> None:
    result = claims_match_check({"all_images_finite": None}, {"all_images_finite": False})
    assert (result.name, result.status) == ("aggregate_flags_match_recomputed", Status.SKIPPED)
    assert result.reason == "the record makes no aggregate claims"


def test_claims_are_skipped_when_the_claims_mapping_is_empty() -> None:
    assert claims_match_check({}, {"all_images_finite": True}).status is Status.SKIPPED


def test_claims_pass_listing_every_claim_when_all_agree_with_the_recomputed_flags() -> None:
    result = claims_match_check({"b_flag": False, "a_flag": True}, {"a_flag": True, "b_flag": False})
    assert result.status is Status.PASSED
    assert result.measured == "a_flag, b_flag"
    assert result.reason == "all 2 claims agree with the files on disk"


def test_claims_fail_naming_each_contradicted_flag_in_both_directions() -> None:
    claimed = {"z_flag": True, "a_flag": False, "m_flag": True}
    result = claims_match_check(claimed, {"z_flag": False, "a_flag": True, "m_flag": True})
    assert result.status is Status.FAILED
    assert result.measured == "a_flag, z_flag"
    assert result.reason == "a_flag: claimed False, recomputed True, z_flag: claimed True, recomputed False"


def test_claims_ignore_a_flag_the_record_did_not_claim_even_when_recomputed_differs() -> None:
    result = claims_match_check({"all_images_finite": True, "all_images_nonnegative": None},
                                {"all_images_finite": True, "all_images_nonnegative": False})
    assert result.status is Status.PASSED
    assert result.reason == "all 1 claims agree with the files on disk"
