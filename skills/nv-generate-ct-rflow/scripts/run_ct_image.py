"""Synthetic CT image without a mask (thin shim over `medskills synth ct-image`).

Usage: python run_ct_image.py CONFIG.json|default --output-dir OUT --version rflow-ct|ddpm-ct [--random-seed N]
       [--preflight-only] [--yes]
"""

from medskills.cli.synth import ct_image_script

if __name__ == "__main__":
    ct_image_script()
