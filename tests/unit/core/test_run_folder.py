"""The output folder rule: new or empty is taken, an earlier output-free record of ours is set aside
under ``.previous/``, anything else is refused and left untouched."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medskills.core.errors import UsageError
from medskills.core.run_folder import (
    CARD_FILE_NAME,
    PREVIOUS_DIR_NAME,
    RESULT_FILE_NAME,
    FolderState,
    claim_output_folder,
    inspect_output_folder,
)

_NOW = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)


def _record(folder: Path, **fields: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    document = {"schema_version": "1", "skill": "x", "exit_code": 2, "preflight": {}, "invocation": None,
                "artifacts": []} | fields
    path = folder / RESULT_FILE_NAME
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_new_path_is_created_on_claim(tmp_path: Path) -> None:
    folder = inspect_output_folder(tmp_path / "a" / "b")
    assert folder.state is FolderState.NEW and not folder.path.exists()
    assert claim_output_folder(folder, now=_NOW) is None and folder.path.is_dir()


def test_an_empty_folder_is_taken_as_is(tmp_path: Path) -> None:
    assert inspect_output_folder(tmp_path).state is FolderState.EMPTY


def test_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(UsageError, match="is not a folder"):
        inspect_output_folder(tmp_path / "f")


def test_an_output_free_record_and_its_card_move_to_previous(tmp_path: Path) -> None:
    record = _record(tmp_path)
    (tmp_path / CARD_FILE_NAME).write_text("<html></html>")
    folder = inspect_output_folder(tmp_path)
    assert folder.state is FolderState.REUSABLE and len(folder.earlier) == 2
    archive = claim_output_folder(folder, now=_NOW)
    assert archive == tmp_path / PREVIOUS_DIR_NAME / "20260102T030405_000006Z"
    assert not record.exists() and sorted(p.name for p in archive.iterdir()) == [RESULT_FILE_NAME, CARD_FILE_NAME]
    assert inspect_output_folder(tmp_path).state is FolderState.EMPTY  # .previous/ alone counts as empty


@pytest.mark.parametrize("fields", [{"artifacts": [{"path": "labels.nii.gz"}]}, {"invocation": {"argv": ["x"]}}])
def test_a_record_of_a_run_that_produced_something_is_refused(tmp_path: Path, fields: dict[str, object]) -> None:
    record = _record(tmp_path, **fields)
    with pytest.raises(UsageError, match="is not empty"):
        inspect_output_folder(tmp_path)
    assert record.exists()


def test_someone_elses_files_are_refused_and_named(tmp_path: Path) -> None:
    _record(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match=r"notes\.txt"):
        inspect_output_folder(tmp_path)


def test_a_json_that_is_not_our_record_is_refused(tmp_path: Path) -> None:
    (tmp_path / RESULT_FILE_NAME).write_text(json.dumps({"score": 1}))
    with pytest.raises(UsageError, match="is not empty"):
        inspect_output_folder(tmp_path)


def test_a_folder_written_into_after_inspection_is_refused_on_claim(tmp_path: Path) -> None:
    _record(tmp_path)
    folder = inspect_output_folder(tmp_path)
    (tmp_path / CARD_FILE_NAME).write_text("<html></html>")
    with pytest.raises(UsageError, match="changed while the run was being prepared"):
        claim_output_folder(folder, now=_NOW)
    assert (tmp_path / RESULT_FILE_NAME).exists()
