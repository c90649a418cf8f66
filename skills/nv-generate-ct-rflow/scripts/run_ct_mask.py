"""Synthetic CT anatomy masks only (thin shim over `medskills synth ct-mask`).

Usage: python run_ct_mask.py REQUEST.json|default --output-dir OUT [--preflight-only] [--yes] [--random-seed N]
"""

import sys

from medskills.cli import app

if __name__ == "__main__":
    app(["synth", "ct-mask", *sys.argv[1:]], prog_name="run_ct_mask.py")
