"""Synthetic CT image without a mask (thin shim over `medskills synth ct-image`).

Usage: python run_ct_image.py CONFIG.json|default --output-dir OUT --version rflow-ct|ddpm-ct [--random-seed N]
       [--preflight-only] [--yes]
"""

import sys

from medskills.cli import app

if __name__ == "__main__":
    app(["synth", "ct-image", *sys.argv[1:]], prog_name="run_ct_image.py")
