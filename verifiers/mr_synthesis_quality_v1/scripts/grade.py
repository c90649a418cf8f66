"""Seed-compatible entry point; the logic is ``medskills verify mr-synthesis``.

    python verifiers/mr_synthesis_quality_v1/scripts/grade.py RUN_DIR [--json VERDICT.json]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "src"))  # this checkout's package, installed or not

from medskills._bootstrap import run_script  # noqa: E402 - after the path is set

if __name__ == "__main__":
    run_script("medskills.cli.verify:grade_script", "mr_synthesis_quality_v1")
