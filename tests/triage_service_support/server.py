"""Start a real uvicorn process on 127.0.0.1 (free port), wait for /health, always stop it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(argv: Sequence[str], port: int, *, env: dict[str, str] | None = None,
                   startup_seconds: float = 60.0) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run ``argv`` (which must serve on ``port``); yield its base URL and process; kill its group on exit."""
    environment = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO / 'tests'}", **(env or {})}
    process = subprocess.Popen(list(argv), env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_seconds
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited {process.returncode}: {process.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"server on port {port} did not become healthy in {startup_seconds} s")
        yield url, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if process.stderr:
            process.stderr.close()


def app_argv(port: int, *, queue_size: int, delay_seconds: float, work_dir: Path) -> list[str]:
    return [sys.executable, str(REPO / "tests" / "triage_service_support" / "serve_app.py"), str(port),
            str(queue_size), str(delay_seconds), str(work_dir)]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")
