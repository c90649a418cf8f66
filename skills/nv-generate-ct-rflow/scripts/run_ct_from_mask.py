"""Synthetic CT from a label mask (thin shim over `medskills synth ct-from-mask`).

Usage: python run_ct_from_mask.py REQUEST.json|MASK.nii.gz --output-dir OUT [--allow-missing-body-label] [--yes]
       [--preflight-only] [--source-labels totalsegmentator|vista3d] [--add-body-envelope CT.nii.gz]
"""

from medskills.cli.synth import ct_from_mask_script

if __name__ == "__main__":
    ct_from_mask_script()
