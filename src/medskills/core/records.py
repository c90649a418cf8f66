"""Writing a run's result: ``OUT/result.json`` atomically, on success and on failure alike."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from medskills.core.io import write_json_atomic
from medskills.core.models import RunRecord

__all__ = ["RESULT_FILE_NAME", "finish_run"]

RESULT_FILE_NAME = "result.json"

RecordT = TypeVar("RecordT", bound=RunRecord)


def finish_run(record: RecordT, output_dir: Path) -> RecordT:
    """Write ``record`` to ``output_dir/result.json`` atomically and return it."""
    write_json_atomic(Path(output_dir) / RESULT_FILE_NAME, record)
    return record
