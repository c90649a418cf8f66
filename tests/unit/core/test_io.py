from __future__ import annotations

from pathlib import Path

import pytest

from medskills.core.errors import ExitCode, UsageError
from medskills.core.io import prepare_output_dir, sha256_file, write_text_atomic


def test_prepare_output_dir_creates_a_missing_directory(tmp_path: Path) -> None:
    created = prepare_output_dir(tmp_path / "a" / "b")
    assert created.is_dir()


def test_prepare_output_dir_accepts_an_empty_directory(tmp_path: Path) -> None:
    assert prepare_output_dir(tmp_path) == tmp_path.absolute()


def test_prepare_output_dir_refuses_a_non_empty_directory_and_touches_nothing(tmp_path: Path) -> None:
    keep = tmp_path / "previous_result.json"
    keep.write_text("precious")
    with pytest.raises(UsageError, match="not empty") as caught:
        prepare_output_dir(tmp_path)
    assert caught.value.exit_code == ExitCode.USAGE
    assert keep.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["previous_result.json"]


def test_prepare_output_dir_refuses_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(UsageError, match="not a directory"):
        prepare_output_dir(target)


def test_write_text_atomic_replaces_content_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    write_text_atomic(target, "one")
    write_text_atomic(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    import hashlib

    target = tmp_path / "w.bin"
    target.write_bytes(b"abc" * 1000)
    assert sha256_file(target) == hashlib.sha256(b"abc" * 1000).hexdigest()
