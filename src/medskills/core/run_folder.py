"""The output folder of a run: new, empty, re-usable, or refused; never written over.

A folder is re-usable when it holds only an earlier record of ours that produced no outputs (a
preflight-only run, a refusal, a failure before the upstream ran) and, optionally, that run's card.
Re-using it moves the earlier files to ``OUT/.previous/<timestamp>/``; nothing is deleted. Any other
content is refused, so a run never lands on top of someone's results.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from medskills.core.errors import UsageError

__all__ = [
    "CARD_FILE_NAME",
    "PREVIOUS_DIR_NAME",
    "RESULT_FILE_NAME",
    "FolderState",
    "OutputFolder",
    "claim_output_folder",
    "inspect_output_folder",
]

RESULT_FILE_NAME = "result.json"
CARD_FILE_NAME = "summary.html"
PREVIOUS_DIR_NAME = ".previous"
_RECORD_KEYS = frozenset({"schema_version", "skill", "exit_code", "preflight"})


class FolderState(StrEnum):
    """What the output folder held before this run."""

    NEW = "new"
    EMPTY = "empty"
    REUSABLE = "reusable"


@dataclass(frozen=True)
class OutputFolder:
    """An accepted output folder (absolute) and what it held; ``earlier`` lists the files to set aside."""

    path: Path
    state: FolderState
    earlier: tuple[Path, ...] = ()


def _is_output_free_record(path: Path) -> bool:
    """True for a record of ours whose run never started the upstream, produced no output and wrote no artifacts."""
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(document, dict) and _RECORD_KEYS <= set(document)
            and document.get("invocation") is None and document.get("output") is None
            and not document.get("artifacts"))


def inspect_output_folder(output_dir: Path) -> OutputFolder:
    """Decide whether ``output_dir`` may take this run; nothing is touched.

    Raises:
        UsageError: the path is a file, or a folder with content other than an earlier output-free
            record of ours (and its card).
    """
    path = Path(output_dir).absolute()
    if not path.exists():
        return OutputFolder(path=path, state=FolderState.NEW)
    if not path.is_dir():
        raise UsageError(f"--output-dir {path} exists and is not a folder. Pass a new path.")
    entries = {entry.name: entry for entry in path.iterdir()}
    earlier = {name: entry for name, entry in entries.items() if name != PREVIOUS_DIR_NAME}
    if not earlier:
        return OutputFolder(path=path, state=FolderState.EMPTY)
    record = earlier.get(RESULT_FILE_NAME)
    is_ours = (record is not None and set(earlier) <= {RESULT_FILE_NAME, CARD_FILE_NAME}
               and _is_output_free_record(record))
    if not is_ours:
        shown = ", ".join(sorted(earlier)[:5]) + (" ..." if len(earlier) > 5 else "")
        raise UsageError(
            f"--output-dir {path} is not empty ({shown}). Results are never written over: pass a new or empty "
            "folder. (A folder holding only an earlier preflight-only or refused record of ours is re-used.)")
    return OutputFolder(path=path, state=FolderState.REUSABLE, earlier=tuple(sorted(earlier.values())))


def claim_output_folder(folder: OutputFolder, *, now: datetime) -> Path | None:
    """Create the folder, or set its earlier record aside under ``.previous/<timestamp>/``.

    Returns:
        Where the earlier files went, or None when there were none.

    Raises:
        UsageError: the folder changed since it was inspected (someone wrote into it meanwhile).
    """
    folder.path.mkdir(parents=True, exist_ok=True)
    if folder.state is not FolderState.REUSABLE:
        return None
    current = inspect_output_folder(folder.path)
    if set(current.earlier) != set(folder.earlier):
        raise UsageError(f"--output-dir {folder.path} changed while the run was being prepared. Pass a new folder.")
    stamp = now.strftime("%Y%m%dT%H%M%S_%fZ")
    archive = folder.path / PREVIOUS_DIR_NAME / stamp
    archive.mkdir(parents=True, exist_ok=False)
    for entry in folder.earlier:
        entry.replace(archive / entry.name)
    return archive
