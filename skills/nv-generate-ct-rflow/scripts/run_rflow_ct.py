"""Paired synthetic CT + label mask through NV-Generate-CTMR (thin shim over `medskills synth ct`).

Usage: python run_rflow_ct.py CONFIG.json|default --output-dir OUT --random-seed 0 --version rflow-ct|ddpm-ct
       [--preflight-only] [--yes] [--no-summary-card] [--timeout-seconds N]
"""

from medskills.cli.synth import run_ct_script

if __name__ == "__main__":
    run_ct_script()
