"""The local pool: bounded workers, one GPU per worker slot for GPU jobs, none for CPU jobs."""

from __future__ import annotations

import threading

import pytest

from medskills.batch import backends
from medskills.batch.backends import LocalBackend, ResourceRequest, detect_gpu_ids
from medskills.batch.execution import JobLaunch, JobOutcome
from medskills.batch.ledger import JobState
from medskills.core.errors import UsageError


def test_visible_devices_decide_the_gpu_ids(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2, 5")
    assert detect_gpu_ids() == ["2", "5"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert detect_gpu_ids() == []


def test_each_worker_slot_holds_its_own_gpu_and_cpu_jobs_get_none(monkeypatch, tmp_path):
    seen: list[tuple[str, str | None]] = []
    both_running = threading.Barrier(2, timeout=10)

    def fake_execute(launch: JobLaunch, running: object) -> JobOutcome:
        device = dict(launch.environment).get("CUDA_VISIBLE_DEVICES")
        seen.append((launch.name, device))
        if launch.name.startswith("gpu"):
            both_running.wait()  # two GPU jobs at once must hold two different GPUs
        return JobOutcome(JobState.PASSED, 0, 0.0, "here")

    monkeypatch.setattr(backends, "execute_job", fake_execute)
    pool = LocalBackend(2, ["0", "1"])
    launches = [JobLaunch(name=name, argv=(), job_dir=tmp_path / name, log_dir=tmp_path, cwd=tmp_path,
                          creates_job_dir=False) for name in ("gpu-a", "gpu-b", "cpu")]
    futures = [pool.submit(launch, ResourceRequest(cpus=1, gpus=0 if launch.name == "cpu" else 1, memory_gb=1))
               for launch in launches]
    assert all(future.result(timeout=20).state is JobState.PASSED for future in futures)
    pool.close()
    devices = dict(seen)
    assert {devices["gpu-a"], devices["gpu-b"]} == {"0", "1"} and devices["cpu"] is None


def test_zero_workers_is_a_usage_error():
    with pytest.raises(UsageError, match="--workers 0"):
        LocalBackend(0, [])
