"""Paired synthetic CT + label mask through NV-Generate-CTMR (thin shim over `medskills synth ct`).

Usage: python run_rflow_ct.py CONFIG.json|default --output-dir OUT --random-seed 0 --version rflow-ct|ddpm-ct
       [--preflight-only] [--yes] [--no-summary-card] [--timeout-seconds N]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "src"))  # this checkout's package, installed or not

from medskills._bootstrap import run_script  # noqa: E402 - after the path is set

if __name__ == "__main__":
    run_script("medskills.cli.synth:run_ct_script")
