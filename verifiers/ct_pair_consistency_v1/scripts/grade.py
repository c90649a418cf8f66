"""Seed-compatible entry point; the logic is ``medskills verify ct-pair-consistency``.

    python verifiers/ct_pair_consistency_v1/scripts/grade.py RUN_DIR | --image CT.nii.gz --label LABELS.nii.gz --label-space SPACE [--json VERDICT.json]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "src"))  # this checkout's package, installed or not

from medskills._bootstrap import run_script  # noqa: E402 - after the path is set

if __name__ == "__main__":
    run_script("medskills.cli.verify:grade_script", "ct_pair_consistency_v1")
