"""Seed-compatible entry point; the logic is ``medskills segment ctmr``.

    python skills/nv-segment-ctmr/scripts/run_ctmr.py IMAGE --modality CT_BODY|MRI_BODY|MRI_BRAIN \
        --output-dir OUT [--label-prompts "3,14" | "liver,spleen"] [--ground-truth GT.nii.gz] \
        [--device cpu|cuda:N] [--yes] [--preflight-only] [--output-type nifti|dicom-seg|both]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "src"))  # this checkout's package, installed or not

from medskills._bootstrap import run_script  # noqa: E402 - after the path is set

if __name__ == "__main__":
    run_script("medskills.cli.segment:run_ctmr_script")
