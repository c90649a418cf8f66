"""Run an upstream process: argument list, explicit cwd and environment, timeout, logs to files.

Output is drained by two threads into log files as it arrives, so a chatty upstream cannot deadlock
us, and each line can feed a live progress line. On timeout the whole process group is killed (the
upstream may spawn workers) and the exit code is 124.
The runner is a plain callable so tests substitute a stand-in upstream without patching.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from medskills.core.errors import ExitCode
from medskills.core.models import Invocation, LogTails, utc_now

__all__ = [
    "DEFAULT_ALLOWED_VARIABLES",
    "Runner",
    "UpstreamCommand",
    "build_environment",
    "has_traceback",
    "read_tail",
    "run_upstream",
]

logger = logging.getLogger(__name__)

TAIL_CHARS = 4000
_KILL_GRACE_SECONDS = 5.0

DEFAULT_ALLOWED_VARIABLES = (
    "PATH", "HOME", "USER", "LANG", "LC_ALL", "TMPDIR", "TZ",
    "CUDA_VISIBLE_DEVICES", "CUDA_HOME", "LD_LIBRARY_PATH", "NVIDIA_VISIBLE_DEVICES",
    "HF_HOME", "HF_TOKEN", "HF_HUB_OFFLINE", "HF_ENDPOINT", "HUGGINGFACE_HUB_CACHE",
    "MONAI_DATA_DIRECTORY", "PYTORCH_CUDA_ALLOC_CONF", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
    "VIRTUAL_ENV", "PYTHONPATH", "MEDSKILLS_ALLOW_NO_GPU",
    # Proxies: upstream pings (and, when something is missing, downloads from) the hub on every run.
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
)
_SECRET_VARIABLES = ("HF_TOKEN", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")  # may carry credentials


@dataclass(frozen=True)
class UpstreamCommand:
    """One upstream invocation. ``log_name`` prefixes ``<log_dir>/<log_name>.stdout.log`` / ``.stderr.log``."""

    argv: list[str]
    cwd: Path
    env: Mapping[str, str]
    timeout_seconds: float
    log_dir: Path
    log_name: str = "upstream"
    recorded_variables: tuple[str, ...] = field(default=())


Runner = Callable[[UpstreamCommand], Invocation]


def build_environment(
    overrides: Mapping[str, str], *, allowed: Iterable[str] = DEFAULT_ALLOWED_VARIABLES,
    source: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Copy only allow-listed variables from ``source`` (default ``os.environ``), then apply ``overrides``."""
    parent = os.environ if source is None else source
    environment = {name: parent[name] for name in allowed if name in parent}
    environment.update(overrides)
    return environment


def read_tail(path: Path, *, chars: int = TAIL_CHARS) -> str:
    """The last ``chars`` characters of a text file, with a leading ``...`` when cut."""
    try:
        with Path(path).open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - chars * 4))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return text if len(text) <= chars else "..." + text[-chars:]


def has_traceback(text: str) -> bool:
    """True when a Python traceback appears in ``text``."""
    return "Traceback (most recent call last):" in text


def _copy_stream(source: IO[bytes], log: IO[bytes], on_line: Callable[[str], None] | None) -> None:
    """Copy a pipe into its log file as it arrives, handing each line (``\\n`` or tqdm's ``\\r``) to ``on_line``."""
    pending = b""
    for chunk in iter(lambda: os.read(source.fileno(), 65536), b""):
        log.write(chunk)
        log.flush()
        if on_line is None:
            continue
        pending += chunk
        *lines, pending = re.split(rb"[\r\n]", pending)
        for line in lines:
            if line.strip():
                on_line(line.decode("utf-8", errors="replace"))
    if on_line is not None and pending.strip():
        on_line(pending.decode("utf-8", errors="replace"))


def run_upstream(command: UpstreamCommand, *, on_line: Callable[[str], None] | None = None) -> Invocation:
    """Run ``command`` to completion or timeout. Never raises for a non-zero exit; the caller checks it.

    Output is streamed through pipes into the two log files as it arrives; ``on_line`` (for a live
    progress line on stderr) sees every stdout and stderr line too. Nothing goes to our stdout.
    """
    command.log_dir.mkdir(parents=True, exist_ok=True)
    stdout_path = command.log_dir / f"{command.log_name}.stdout.log"
    stderr_path = command.log_dir / f"{command.log_name}.stderr.log"
    started_at = utc_now()
    start = time.monotonic()
    is_timed_out = False
    logger.info("running upstream in %s: %s", command.cwd, " ".join(command.argv))
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(  # noqa: S603 - argument list, never a shell
            command.argv, cwd=command.cwd, env=dict(command.env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        assert process.stdout is not None and process.stderr is not None  # both are pipes
        copiers = [threading.Thread(target=_copy_stream, args=(pipe, log, on_line), daemon=True)
                   for pipe, log in ((process.stdout, stdout), (process.stderr, stderr))]
        for copier in copiers:
            copier.start()
        try:
            exit_code = process.wait(timeout=command.timeout_seconds)
        except subprocess.TimeoutExpired:
            is_timed_out = True
            _kill_group(process)
            exit_code = int(ExitCode.TIMEOUT)
        for copier in copiers:
            copier.join(timeout=_KILL_GRACE_SECONDS)
    if is_timed_out:
        with stderr_path.open("a", encoding="utf-8") as stderr_append:
            stderr_append.write(f"\n[medskills] TIMEOUT after {command.timeout_seconds:g} s: process group killed\n")
    runtime = time.monotonic() - start
    return Invocation(
        argv=list(command.argv),
        cwd=command.cwd,
        environment=_recorded_environment(command),
        exit_code=exit_code,
        is_timed_out=is_timed_out,
        timeout_seconds=command.timeout_seconds,
        runtime_seconds=round(runtime, 3),
        started_at=started_at,
        logs=LogTails(stdout_path=stdout_path, stderr_path=stderr_path,
                      stdout_tail=read_tail(stdout_path), stderr_tail=read_tail(stderr_path)),
    )


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left after a grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=_KILL_GRACE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue


def _recorded_environment(command: UpstreamCommand) -> dict[str, str]:
    names = command.recorded_variables or tuple(command.env)
    return {
        name: ("<set>" if name in _SECRET_VARIABLES else command.env[name])
        for name in names if name in command.env
    }
