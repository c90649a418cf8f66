"""Synthetic CT from a label mask (thin shim over `medskills synth ct-from-mask`).

Usage: python run_ct_from_mask.py REQUEST.json|MASK.nii.gz --output-dir OUT [--allow-missing-body-label] [--yes]
       [--preflight-only] [--source-labels totalsegmentator|vista3d] [--add-body-envelope CT.nii.gz]
"""

import sys

from medskills.cli import app

if __name__ == "__main__":
    app(["synth", "ct-from-mask", *sys.argv[1:]], prog_name="run_ct_from_mask.py")
