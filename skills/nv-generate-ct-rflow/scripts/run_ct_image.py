"""Synthetic CT image without a mask (thin shim over `medskills synth ct-image`).

Usage: python run_ct_image.py CONFIG.json|default --output-dir OUT --version rflow-ct|ddpm-ct [--random-seed N]
       [--preflight-only] [--yes]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "src"))  # this checkout's package, installed or not

from medskills._bootstrap import run_script  # noqa: E402 - after the path is set

if __name__ == "__main__":
    run_script("medskills.cli.synth:ct_image_script")
