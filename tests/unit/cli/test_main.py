"""``python -m medskills.cli`` is the same app as the console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from medskills import __version__

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_python_dash_m_medskills_cli_runs_the_app() -> None:
    done = subprocess.run([sys.executable, "-m", "medskills.cli", "--version"], capture_output=True, text=True,
                          timeout=120, check=False, env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")})
    assert done.returncode == 0 and done.stdout.strip() == f"medskills {__version__}"
