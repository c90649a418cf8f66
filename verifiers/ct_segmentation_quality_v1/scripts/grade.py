"""Seed-compatible entry point; the logic is ``medskills verify segmentation``.

    python verifiers/ct_segmentation_quality_v1/scripts/grade.py RUN_DIR [--ground-truth GT.nii.gz]
        [--reference-labels maisi|vista3d|totalsegmentator|totalsegmentator_mr] [--json VERDICT.json]
    python verifiers/ct_segmentation_quality_v1/scripts/grade.py --prediction MASK.nii.gz --image IMAGE.nii.gz
        [--prediction-labels ...] [--ground-truth GT.nii.gz] [--reference-labels ...]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "src"))  # this checkout's package, installed or not

from medskills._bootstrap import run_script  # noqa: E402 - after the path is set

if __name__ == "__main__":
    run_script("medskills.cli.verify:grade_script", "ct_segmentation_quality_v1")
