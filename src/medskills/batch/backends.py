"""Where jobs run: a bounded pool of workers on this machine, or tasks on a Ray cluster.

Both hand back ``concurrent.futures.Future`` objects resolving to a :class:`JobOutcome`, so the
scheduler in :mod:`medskills.batch.runner` is written once for both.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Protocol

from medskills.batch.execution import JobLaunch, JobOutcome, RunningJobs, execute_job
from medskills.batch.ledger import JobState
from medskills.core.errors import UsageError

__all__ = ["Backend", "LocalBackend", "RayBackend", "ResourceRequest", "detect_gpu_ids"]


@dataclass(frozen=True)
class ResourceRequest:
    """What one job asks of a machine."""

    cpus: float
    gpus: int
    memory_gb: float


class Backend(Protocol):
    """Runs job launches; ``stop`` asks running ones to end (``kill``: at once)."""

    name: str

    def submit(self, launch: JobLaunch, resources: ResourceRequest, *,
               node_id: str | None = None) -> Future[JobOutcome]: ...

    def nodes(self) -> list[str]: ...

    def stop(self, *, kill: bool) -> None: ...

    def close(self) -> None: ...


def detect_gpu_ids() -> list[str]:
    """GPU ids this machine offers: ``CUDA_VISIBLE_DEVICES`` if set, else what ``nvidia-smi -L`` lists."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [item.strip() for item in visible.split(",") if item.strip() and item.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(index) for index, line in enumerate(listing.splitlines()) if line.startswith("GPU ")]


class LocalBackend:
    """``workers`` threads, each running one job's process; GPU jobs get one GPU per worker slot."""

    name = "local"

    def __init__(self, workers: int, gpu_ids: list[str]) -> None:
        if workers < 1:
            raise UsageError(f"--workers {workers}: give at least 1")
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="medskills-batch")
        self._slots: queue.Queue[int] = queue.Queue()
        for slot in range(workers):
            self._slots.put(slot)
        self._gpu_ids = gpu_ids
        self.running = RunningJobs()

    def submit(self, launch: JobLaunch, resources: ResourceRequest, *,
               node_id: str | None = None) -> Future[JobOutcome]:
        return self._pool.submit(self._run_in_slot, launch, resources.gpus > 0)

    def _run_in_slot(self, launch: JobLaunch, wants_gpu: bool) -> JobOutcome:
        slot = self._slots.get()
        try:
            if wants_gpu and self._gpu_ids:
                device = self._gpu_ids[slot % len(self._gpu_ids)]
                launch = replace(launch, environment=(*launch.environment, ("CUDA_VISIBLE_DEVICES", device)))
            return execute_job(launch, self.running)
        finally:
            self._slots.put(slot)

    def nodes(self) -> list[str]:
        return []

    def stop(self, *, kill: bool) -> None:
        self.running.stop_all(kill=kill)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayBackend:
    """Each job is a Ray task with its resource request; Ray re-runs a task whose worker or node died.

    Only infrastructure failures are retried by Ray (``max_retries``, ``retry_exceptions=False``):
    a job that exits 1 or 2 returned normally and is never run again. The upstream clones, weights
    and inputs must sit at the same paths on every node (docs/running_at_scale.md).
    """

    name = "ray"

    def __init__(self, address: str, *, infrastructure_retries: int) -> None:
        try:
            import ray
        except ImportError as err:
            raise UsageError("--ray needs Ray: pip install 'medskills[batch]'") from err
        self._ray: Any = ray
        if address == "local":
            ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, log_to_driver=False,
                     configure_logging=False, object_store_memory=200 * 1024 * 1024)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        self._remote = ray.remote(max_retries=infrastructure_retries, retry_exceptions=False)(execute_job)
        self._references: list[Any] = []

    def submit(self, launch: JobLaunch, resources: ResourceRequest, *,
               node_id: str | None = None) -> Future[JobOutcome]:
        options: dict[str, Any] = {"num_cpus": resources.cpus, "num_gpus": resources.gpus,
                                   "memory": int(resources.memory_gb * 1024**3)}
        if node_id is not None:
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)
        reference = self._remote.options(**options).remote(launch)
        self._references.append(reference)
        future: Future[JobOutcome] = Future()
        reference.future().add_done_callback(lambda done: self._settle(future, done, launch))
        return future

    def _settle(self, future: Future[JobOutcome], done: Future[Any], launch: JobLaunch) -> None:
        error = done.exception()
        if error is None:
            future.set_result(done.result())
            return
        exceptions = self._ray.exceptions
        state = JobState.INTERRUPTED if isinstance(error, exceptions.TaskCancelledError) else JobState.INFRASTRUCTURE
        future.set_result(JobOutcome(state, None, 0.0, "unknown", f"{type(error).__name__}: {error}"))

    def nodes(self) -> list[str]:
        return [node["NodeID"] for node in self._ray.nodes() if node.get("Alive")]

    def cluster_gpus(self) -> int:
        return int(self._ray.cluster_resources().get("GPU", 0))

    def stop(self, *, kill: bool) -> None:
        for reference in self._references:
            self._ray.cancel(reference, force=kill)

    def close(self) -> None:
        self._ray.shutdown()
