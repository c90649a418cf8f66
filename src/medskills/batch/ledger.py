"""The batch folder's memory: one ledger of job states, and the lock that keeps it single-writer.

The ledger is rewritten atomically after every state change, so a batch that is interrupted at any
moment (Ctrl-C, a lost machine) leaves a file that the next run of the same command resumes from.
"""

from __future__ import annotations

import fcntl
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from pydantic import Field, ValidationError

from medskills.core.errors import UsageError
from medskills.core.io import write_json_atomic
from medskills.core.models import SCHEMA_VERSION, FrozenModel, utc_now

__all__ = ["BatchLocked", "JobEntry", "JobState", "Ledger", "LedgerFile", "hold_batch_lock"]

LEDGER_FILE_NAME = "ledger.json"
LOCK_FILE_NAME = ".batch.lock"


class JobState(StrEnum):
    """Where a job stands. Only ``infrastructure`` and ``interrupted`` are retried by a resume."""

    PENDING = "pending"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"                  # exit 1: a gate, a model or the upstream failed
    INVALID = "invalid"                # exit 2: the job's own input or preflight was refused
    TIMED_OUT = "timed_out"            # exit 124
    INFRASTRUCTURE = "infrastructure"  # killed by a signal, node lost, could not start
    INTERRUPTED = "interrupted"        # stopped by the user (Ctrl-C) before it finished

    @property
    def is_retried_on_resume(self) -> bool:
        """States a re-run of the same batch runs again."""
        return self in (JobState.PENDING, JobState.RUNNING, JobState.INFRASTRUCTURE, JobState.INTERRUPTED)


class JobEntry(FrozenModel):
    """One job's line in the ledger."""

    name: str
    command: list[str]
    argv: list[str]
    state: JobState = JobState.PENDING
    exit_code: int | None = None
    attempts: int = 0
    runtime_seconds: float | None = None
    node: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    message: str | None = None
    verify_exit_code: int | None = None


class LedgerFile(FrozenModel):
    """``OUT/ledger.json``."""

    schema_version: str = SCHEMA_VERSION
    manifest: Path
    jobs: dict[str, JobEntry] = Field(default_factory=dict)


class BatchLocked(UsageError):
    """Another batch holds this folder."""


class Ledger:
    """Thread-safe job states, persisted after every change."""

    def __init__(self, output_dir: Path, initial: LedgerFile) -> None:
        self._path = output_dir / LEDGER_FILE_NAME
        self._lock = threading.Lock()
        self._file = initial

    @classmethod
    def open(cls, output_dir: Path, manifest: Path) -> Ledger:
        """Load ``OUT/ledger.json`` if a previous run left one, else start an empty ledger."""
        path = output_dir / LEDGER_FILE_NAME
        if path.is_file():
            try:
                return cls(output_dir, LedgerFile.model_validate_json(path.read_text(encoding="utf-8")))
            except (ValidationError, OSError, UnicodeDecodeError) as err:
                raise UsageError(f"{path}, the record of an earlier batch in this folder, cannot be read "
                                 f"({type(err).__name__}: {str(err).splitlines()[0]}); the batch cannot know which "
                                 "jobs finished. Restore the file, or move it aside to run every job again, or "
                                 "pass a new --output-dir.") from err
        return cls(output_dir, LedgerFile(manifest=manifest))

    def entry(self, name: str) -> JobEntry | None:
        with self._lock:
            return self._file.jobs.get(name)

    def entries(self) -> list[JobEntry]:
        with self._lock:
            return list(self._file.jobs.values())

    def register(self, entry: JobEntry) -> None:
        """Add a job not yet in the ledger (a first run, or a job new to the manifest)."""
        self.update(entry.name, entry)

    def update(self, name: str, entry: JobEntry) -> None:
        with self._lock:
            self._file = self._file.model_copy(update={"jobs": {**self._file.jobs, name: entry}})
            write_json_atomic(self._path, self._file)

    def mark(self, name: str, **changes: object) -> JobEntry:
        """Apply ``changes`` to one job's entry, persist, and return the new entry."""
        with self._lock:
            current = self._file.jobs[name]
            entry = JobEntry.model_validate({**current.model_dump(), **changes})
            self._file = self._file.model_copy(update={"jobs": {**self._file.jobs, name: entry}})
            write_json_atomic(self._path, self._file)
            return entry


@contextmanager
def hold_batch_lock(output_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``OUT/.batch.lock`` for the batch's lifetime.

    ``flock`` is released by the kernel when the holder dies, so a crashed batch never leaves a
    stale lock behind.

    Raises:
        BatchLocked: another live process holds the folder.
    """
    path = output_dir / LOCK_FILE_NAME
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the whole batch
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise BatchLocked(f"{output_dir} is in use by another batch ({holder}). Two batches never write into "
                              "one folder: wait for it to finish, or pass a different --output-dir.") from err
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {utc_now().isoformat()}\n")
        handle.flush()
        yield
    finally:
        handle.close()
