"""Synthetic CT from a label mask (thin shim over `medskills synth ct-from-mask`).

Usage: python run_ct_from_mask.py REQUEST.json|MASK.nii.gz --output-dir OUT [--allow-missing-body-label] [--yes]
       [--preflight-only] [--source-labels totalsegmentator|vista3d] [--add-body-envelope CT.nii.gz]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "src"))  # this checkout's package, installed or not

from medskills._bootstrap import run_script  # noqa: E402 - after the path is set

if __name__ == "__main__":
    run_script("medskills.cli.synth:ct_from_mask_script")
