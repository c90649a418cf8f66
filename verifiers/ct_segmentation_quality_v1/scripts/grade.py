"""Seed-compatible entry point; the logic is ``medskills verify segmentation``.

    python verifiers/ct_segmentation_quality_v1/scripts/grade.py RUN_DIR [--ground-truth GT.nii.gz]
        [--reference-labels maisi|vista3d|totalsegmentator|totalsegmentator_mr] [--json VERDICT.json]
    python verifiers/ct_segmentation_quality_v1/scripts/grade.py --prediction MASK.nii.gz --image IMAGE.nii.gz
        [--prediction-labels ...] [--ground-truth GT.nii.gz] [--reference-labels ...]
"""

from medskills.cli.verify import grade_script

if __name__ == "__main__":
    grade_script("ct_segmentation_quality_v1")
