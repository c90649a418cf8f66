from __future__ import annotations

import sys
import time
from pathlib import Path

from medskills.core.upstream import UpstreamCommand, build_environment, has_traceback, run_upstream


def _command(tmp_path: Path, code: str, timeout: float = 30.0) -> UpstreamCommand:
    return UpstreamCommand(argv=[sys.executable, "-c", code], cwd=tmp_path, env=build_environment({}),
                           timeout_seconds=timeout, log_dir=tmp_path / "logs")


def test_run_upstream_records_exit_code_and_log_tails(tmp_path: Path) -> None:
    invocation = run_upstream(_command(tmp_path, "import sys; print('hello'); sys.stderr.write('oops'); sys.exit(3)"))
    assert invocation.exit_code == 3
    assert not invocation.is_timed_out
    assert invocation.logs.stdout_tail.strip() == "hello"
    assert invocation.logs.stderr_tail == "oops"
    assert invocation.logs.stdout_path is not None and invocation.logs.stdout_path.read_text().strip() == "hello"


def test_run_upstream_does_not_deadlock_on_large_output(tmp_path: Path) -> None:
    invocation = run_upstream(_command(tmp_path, "import sys; sys.stdout.write('x' * 5_000_000)"))
    assert invocation.exit_code == 0
    assert invocation.logs.stdout_path is not None and invocation.logs.stdout_path.stat().st_size == 5_000_000
    assert invocation.logs.stdout_tail.startswith("...") and len(invocation.logs.stdout_tail) == 4003


def test_timeout_kills_the_whole_process_group_and_returns_124(tmp_path: Path) -> None:
    marker = tmp_path / "child_alive"
    child = tmp_path / "child.py"
    child.write_text(f"import time, pathlib\ntime.sleep(3)\npathlib.Path({str(marker)!r}).touch()\n")
    code = f"import subprocess, sys, time; subprocess.Popen([sys.executable, {str(child)!r}]); time.sleep(60)"
    invocation = run_upstream(_command(tmp_path, code, timeout=1.0))
    assert invocation.exit_code == 124
    assert invocation.is_timed_out
    assert "TIMEOUT" in invocation.logs.stderr_tail
    time.sleep(3.5)
    assert not marker.exists(), "a grandchild survived the timeout"


def test_build_environment_passes_only_allow_listed_variables() -> None:
    environment = build_environment({"MONAI_DATA_DIRECTORY": "/data"},
                                    source={"PATH": "/bin", "AWS_SECRET": "s", "HOME": "/root"})
    assert environment == {"PATH": "/bin", "HOME": "/root", "MONAI_DATA_DIRECTORY": "/data"}


def test_hf_token_is_never_recorded_in_evidence(tmp_path: Path) -> None:
    command = UpstreamCommand(argv=[sys.executable, "-c", "pass"], cwd=tmp_path,
                              env={**build_environment({}), "HF_TOKEN": "secret"}, timeout_seconds=10,
                              log_dir=tmp_path / "logs")
    assert "secret" not in run_upstream(command).model_dump_json()


def test_has_traceback_detects_python_tracebacks() -> None:
    assert has_traceback('Traceback (most recent call last):\n  File "x"')
    assert not has_traceback("all good")


def test_output_is_streamed_line_by_line_to_the_callback_and_the_log(tmp_path):
    import sys

    from medskills.core.upstream import UpstreamCommand, run_upstream

    script = "import sys\nfor i in range(3): sys.stderr.write(f'{i+1}/3 [\\r'); sys.stderr.flush()\nprint('done')\n"
    seen: list[str] = []
    invocation = run_upstream(UpstreamCommand(argv=[sys.executable, "-c", script], cwd=tmp_path, env={},
                                              timeout_seconds=30, log_dir=tmp_path / "logs", log_name="bar"),
                              on_line=seen.append)
    assert invocation.exit_code == 0 and seen.count("done") == 1
    assert [line for line in seen if "/3" in line] == ["1/3 [", "2/3 [", "3/3 ["]
    assert (tmp_path / "logs" / "bar.stderr.log").read_bytes() == b"1/3 [\r2/3 [\r3/3 [\r"


def test_build_environment_passes_proxy_variables_in_both_spellings() -> None:
    proxies = {"HTTP_PROXY": "http://proxy:3128", "HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "localhost",
               "http_proxy": "http://p:1", "https_proxy": "http://p:2", "no_proxy": "127.0.0.1"}
    environment = build_environment({}, source={**proxies, "FTP_PROXY": "x", "SECRET": "y"})
    assert environment == proxies
