"""Verifiers: re-read a run's files, recompute everything, cross-check the wrapper's claims, grade."""

from medskills.verification.ct_pair_consistency_v1 import PairConsistencyRequest, grade_ct_pair_consistency
from medskills.verification.ct_synthesis_v1 import grade_ct_synthesis
from medskills.verification.metrics import ClassOverlap, confusion_matrix, hd95_mm, overlap_per_class
from medskills.verification.mr_synthesis_v1 import grade_mr_synthesis
from medskills.verification.run_inputs import FIELD_PATHS
from medskills.verification.segmentation_scores import score_segmentation
from medskills.verification.segmentation_v1 import (
    SegmentationModality,
    SegmentationVerifyRequest,
    grade_segmentation,
)
from medskills.verification.verify_run import RunDirRequest, verify_in_folder
from medskills.verification.verdict import (
    ClassScore,
    SegmentationScores,
    Tier,
    Verdict,
    VerdictCheck,
    VerifierId,
    write_verdict,
)

__all__ = [
    "FIELD_PATHS",
    "ClassOverlap",
    "PairConsistencyRequest",
    "RunDirRequest",
    "ClassScore",
    "SegmentationModality",
    "SegmentationScores",
    "SegmentationVerifyRequest",
    "Tier",
    "Verdict",
    "VerdictCheck",
    "VerifierId",
    "confusion_matrix",
    "grade_ct_pair_consistency",
    "grade_ct_synthesis",
    "grade_mr_synthesis",
    "grade_segmentation",
    "hd95_mm",
    "overlap_per_class",
    "score_segmentation",
    "verify_in_folder",
    "write_verdict",
]
