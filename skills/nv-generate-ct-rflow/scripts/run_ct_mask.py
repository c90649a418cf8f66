"""Synthetic CT anatomy masks only (thin shim over `medskills synth ct-mask`).

Usage: python run_ct_mask.py REQUEST.json|default --output-dir OUT [--preflight-only] [--yes] [--random-seed N]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "src"))  # this checkout's package, installed or not

from medskills._bootstrap import run_script  # noqa: E402 - after the path is set

if __name__ == "__main__":
    run_script("medskills.cli.synth:ct_mask_script")
