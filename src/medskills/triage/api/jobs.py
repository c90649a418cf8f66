"""One worker thread behind a bounded queue: inference never runs on the event loop.

A request reserves a slot before its upload is copied; the slot is released when its job ends
(or when the request gives up before submitting). With every slot taken, new requests get 503.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from medskills.core.errors import study_error
from medskills.triage.api.errors import ServiceErrorCode

__all__ = ["JobQueue", "Slot"]

T = TypeVar("T")


class Slot:
    """A reserved place in the queue; ``submit`` runs one job in it, ``release`` gives it back unused."""

    def __init__(self, queue: JobQueue) -> None:
        self._queue = queue
        self._released = False
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], T]) -> Future[T]:
        """Run ``job`` on the worker; the slot is released when it finishes."""
        future = self._queue.executor.submit(job)
        future.add_done_callback(lambda _: self.release())
        return future

    def release(self) -> None:
        """Give the slot back (idempotent)."""
        with self._lock:
            if self._released:
                return
            self._released = True
        self._queue.give_back()


class JobQueue:
    """At most ``size`` studies waiting or running; one runs at a time."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage-worker")
        self._in_use = 0
        self._lock = threading.Lock()

    def reserve(self) -> Slot:
        """A slot, or ``queue_full`` (503 with Retry-After) when all are taken."""
        with self._lock:
            if self._in_use >= self.size:
                raise study_error(ServiceErrorCode.QUEUE_FULL, f"the service is busy ({self.size} studies queued "
                                  "or running); retry after the Retry-After delay.")
            self._in_use += 1
        return Slot(self)

    def give_back(self) -> None:
        """Return one slot (called by :meth:`Slot.release`)."""
        with self._lock:
            self._in_use -= 1

    @property
    def in_use(self) -> int:
        """Slots currently reserved."""
        return self._in_use

    def shutdown(self) -> None:
        """Finish running work and stop the worker thread."""
        self.executor.shutdown(wait=True, cancel_futures=True)
