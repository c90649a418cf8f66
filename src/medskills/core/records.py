"""Writing a run's result: ``OUT/result.json`` atomically, on success and on failure alike."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from medskills.core.io import sha256_file, write_json_atomic
from medskills.core.models import Artifact, RunRecord
from medskills.core.run_folder import RESULT_FILE_NAME

__all__ = ["RESULT_FILE_NAME", "file_artifact", "finish_run"]

RecordT = TypeVar("RecordT", bound=RunRecord)


def finish_run(record: RecordT, output_dir: Path) -> RecordT:
    """Write ``record`` to ``output_dir/result.json`` atomically and return it."""
    write_json_atomic(Path(output_dir) / RESULT_FILE_NAME, record)
    return record


def file_artifact(role: str, path: Path) -> Artifact:
    """A written file as an artifact (size and sha256), so a verifier can tell whether it changed."""
    return Artifact(role=role, path=path, bytes=path.stat().st_size, sha256=sha256_file(path))
