"""CT/MRI segmentation through NV-Segment-CTMR (VISTA3D), with DICOM in and DICOM SEG out."""

from medskills.segmentation.ctmr import segment_ctmr
from medskills.segmentation.labels import (
    PromptResolution,
    ResolvedPrompt,
    SegmentationLabels,
    SegmentationModality,
    list_labels,
    list_labels_for_settings,
    load_label_sets,
    load_segmentation_labels,
    resolve_prompts,
)
from medskills.segmentation.models import (
    OutputType,
    SegmentationOutput,
    SegmentationPlan,
    SegmentationRequest,
    SegmentationRunRecord,
)
from medskills.segmentation.preflight import preflight_segmentation

__all__ = [
    "OutputType",
    "PromptResolution",
    "ResolvedPrompt",
    "SegmentationModality",
    "SegmentationLabels",
    "SegmentationOutput",
    "SegmentationPlan",
    "SegmentationRequest",
    "SegmentationRunRecord",
    "list_labels",
    "list_labels_for_settings",
    "load_label_sets",
    "load_segmentation_labels",
    "preflight_segmentation",
    "resolve_prompts",
    "segment_ctmr",
]
