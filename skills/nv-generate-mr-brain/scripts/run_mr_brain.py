"""Seed-compatible entry point; the logic is ``medskills synth mr-brain``.

    python skills/nv-generate-mr-brain/scripts/run_mr_brain.py CONFIG.json|default --output-dir OUT \
        --modality mri_t1 --random-seed 1234 [--yes] [--preflight-only]
"""

import sys

from medskills.cli import app

if __name__ == "__main__":
    app(["synth", "mr-brain", *sys.argv[1:]], prog_name="run_mr_brain.py")
