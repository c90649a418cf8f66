"""The bounded job queue: slots are reserved, released once, and a full queue refuses with queue_full."""

from __future__ import annotations

import threading

import pytest

from medskills.core.errors import StudyError
from medskills.triage.api.jobs import JobQueue


def test_a_full_queue_refuses_and_a_finished_job_frees_its_slot() -> None:
    queue = JobQueue(2)
    gate = threading.Event()
    first, second = queue.reserve(), queue.reserve()
    with pytest.raises(StudyError) as caught:
        queue.reserve()
    assert caught.value.error_code == "queue_full" and queue.in_use == 2
    running = first.submit(lambda: gate.wait(5) and threading.current_thread().name)
    second.release()
    second.release()  # idempotent
    assert queue.in_use == 1
    gate.set()
    assert running.result(timeout=5).startswith("triage-worker")
    queue.shutdown()
    assert queue.in_use == 0


def test_a_failing_job_still_frees_its_slot() -> None:
    queue = JobQueue(1)

    def boom() -> None:
        raise RuntimeError("bug")

    future = queue.reserve().submit(boom)
    with pytest.raises(RuntimeError):
        future.result(timeout=5)
    queue.shutdown()
    assert queue.in_use == 0 and queue.reserve() is not None
