"""The NV-Segment-CTMR (VISTA3D) modality switch: which classes a run may segment and grade."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["SegmentationModality"]


class SegmentationModality(StrEnum):
    """The bundle's three ``--modality`` values; each selects one "segment everything" set.

    Shared by the segmentation skill (which runs the bundle) and the segmentation verifier (which
    grades MRI runs against the MRI-trained classes instead of failing them).
    """

    CT_BODY = "CT_BODY"
    MRI_BODY = "MRI_BODY"
    MRI_BRAIN = "MRI_BRAIN"

    @property
    def is_mri(self) -> bool:
        """True for the two MRI modalities."""
        return self is not SegmentationModality.CT_BODY

    @property
    def training_modality(self) -> str:
        """The ``datasets`` tag (``CT`` or ``MRI``) a VISTA3D class needs to be trained for this modality."""
        return "MRI" if self.is_mri else "CT"
