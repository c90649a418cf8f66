"""File-system rules: atomic writes, new-or-empty output directories, sha256 of files."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from medskills.core.errors import UsageError

__all__ = [
    "prepare_output_dir",
    "read_json_object",
    "sha256_file",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_text_atomic",
]

_HASH_CHUNK_BYTES = 8 * 1024 * 1024


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same directory and ``os.replace``.

    A reader never sees a half-written file, and a crash leaves the previous content intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    """Atomically write UTF-8 text."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, record: BaseModel) -> Path:
    """Atomically write a pydantic model as indented JSON."""
    return write_text_atomic(path, record.model_dump_json(indent=2) + "\n")


def prepare_output_dir(output_dir: Path) -> Path:
    """Create ``output_dir`` if it does not exist; refuse a non-empty or non-directory path.

    Raises:
        UsageError: the path exists and is a file or a non-empty directory. Nothing is touched.
    """
    output_dir = Path(output_dir).absolute()
    if output_dir.exists():
        if not output_dir.is_dir():
            raise UsageError(f"--output-dir {output_dir} exists and is not a directory. Pass a new path.")
        if any(output_dir.iterdir()):
            raise UsageError(
                f"--output-dir {output_dir} is not empty. Results are never written over an existing run: "
                "pass a new or empty directory."
            )
    output_dir.mkdir(parents=True, exist_ok=True)
    return output_dir


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file, read in 8 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_json_object(path: Path, *, what: str, fallback_hint: str) -> dict[str, Any]:
    """Read a JSON file that must hold an object (a request or override file given by the user).

    Args:
        path: the file.
        what: how to name the file in messages, e.g. ``"config"``.
        fallback_hint: what else the user may pass, e.g. ``"the word 'default'"``.

    Raises:
        UsageError: the file is missing, unreadable, not JSON, or not a JSON object.
    """
    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise UsageError(f"{what} {path} does not exist. Pass a JSON file or {fallback_hint}.") from err
    except (OSError, ValueError) as err:
        raise UsageError(f"{what} {path} is not valid JSON: {err}. Fix the file or pass {fallback_hint}.") from err
    if not isinstance(loaded, dict):
        raise UsageError(f"{what} {path} must hold a JSON object, not {type(loaded).__name__}.")
    return loaded
