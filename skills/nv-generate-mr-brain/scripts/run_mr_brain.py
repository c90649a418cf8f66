"""Seed-compatible entry point; the logic is ``medskills synth mr-brain``.

    python skills/nv-generate-mr-brain/scripts/run_mr_brain.py CONFIG.json|default --output-dir OUT \
        --modality mri_t1 --random-seed 1234 [--yes] [--preflight-only]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "src"))  # this checkout's package, installed or not

from medskills._bootstrap import run_script  # noqa: E402 - after the path is set

if __name__ == "__main__":
    run_script("medskills.cli.synth:mr_brain_script")
