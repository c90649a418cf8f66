"""Seed-compatible entry point; the logic is ``medskills segment ctmr``.

    python skills/nv-segment-ctmr/scripts/run_ctmr.py IMAGE --modality CT_BODY|MRI_BODY|MRI_BRAIN \
        --output-dir OUT [--label-prompts "3,14" | "liver,spleen"] [--ground-truth GT.nii.gz] \
        [--device cpu|cuda:N] [--yes] [--preflight-only] [--output-type nifti|dicom-seg|both]
"""

from medskills.cli.segment import run_ctmr_script

if __name__ == "__main__":
    run_ctmr_script()
