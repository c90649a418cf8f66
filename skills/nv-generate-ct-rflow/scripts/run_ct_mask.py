"""Synthetic CT anatomy masks only (thin shim over `medskills synth ct-mask`).

Usage: python run_ct_mask.py REQUEST.json|default --output-dir OUT [--preflight-only] [--yes] [--random-seed N]
"""

from medskills.cli.synth import ct_mask_script

if __name__ == "__main__":
    ct_mask_script()
