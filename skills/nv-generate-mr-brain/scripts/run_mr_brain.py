"""Seed-compatible entry point; the logic is ``medskills synth mr-brain``.

    python skills/nv-generate-mr-brain/scripts/run_mr_brain.py CONFIG.json|default --output-dir OUT \
        --modality mri_t1 --random-seed 1234 [--yes] [--preflight-only]
"""

from medskills.cli.synth import mr_brain_script

if __name__ == "__main__":
    mr_brain_script()
