"""House rule 10: all of ``src/medskills`` stays clean under ``mypy --strict`` (pyproject's ``[tool.mypy]``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "src/medskills"

pytestmark = pytest.mark.slow  # about a minute: mypy reads the whole package and its dependencies


def test_the_whole_package_is_clean_under_mypy_strict(tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy is in the test extra: pip install -e '.[test]'")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), PACKAGE],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
