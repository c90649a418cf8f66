"""Which series of a study the chest-CT triage reads: original axial CT, thin slices, a lung kernel.

The DICOM layer checks the mechanics (one regular stack); this policy adds the triage rules.
Hard rules refuse a series (not CT, a localizer or derived image, not axial). Among the usable
ones the preference is: slice thickness within 0.5-3 mm, then a lung kernel, then the most slices.
"""

from __future__ import annotations

from dataclasses import dataclass

from medskills.dicom.geometry import AcquisitionPlane
from medskills.dicom.selection import PolicyVerdict, SeriesFacts
from medskills.triage.errors import TriageErrorCode
from medskills.triage.kernels import KernelClass, classify_kernel

__all__ = ["DEFAULT_MIN_SLICES", "PREFERRED_THICKNESS_MM", "ChestCTSeriesPolicy"]

DEFAULT_MIN_SLICES = 20
PREFERRED_THICKNESS_MM = (0.5, 3.0)
_EXCLUDED_IMAGE_TYPES = frozenset({"LOCALIZER", "DERIVED", "SECONDARY"})
_KERNEL_RANK = {KernelClass.LUNG: 2, KernelClass.SOFT_TISSUE: 1, KernelClass.UNKNOWN: 0}


@dataclass(frozen=True)
class ChestCTSeriesPolicy:
    """The triage's :class:`medskills.dicom.selection.SeriesPolicy`: original axial CT, ranked for lungs."""

    min_slices: int = DEFAULT_MIN_SLICES

    def judge(self, facts: SeriesFacts) -> PolicyVerdict:
        """Refuse non-CT, non-original and non-axial series; rank the rest by thickness, kernel, slices."""
        if facts.modalities != {"CT"}:
            modality = ", ".join(sorted(facts.modalities)) or "<none>"
            return _refused(TriageErrorCode.NOT_CT, f"modality {modality} is not CT")
        excluded = sorted(facts.image_types & _EXCLUDED_IMAGE_TYPES)
        if excluded:
            return _refused(TriageErrorCode.NOT_ORIGINAL_IMAGE, f"image type {'/'.join(excluded)} (not an original "
                            "axial acquisition)", "modality CT")
        if facts.plane is not None and facts.plane is not AcquisitionPlane.AXIAL:
            return _refused(TriageErrorCode.NOT_AXIAL, f"{facts.plane.value} slices (a reformat); the triage reads "
                            "axial series", "modality CT")
        low, high = PREFERRED_THICKNESS_MM
        thickness = facts.slice_thickness_mm
        is_thickness_preferred = thickness is not None and low <= thickness <= high
        kernel_class = classify_kernel(facts.kernel)
        reasons = ("modality CT",
                   f"slice thickness {thickness} mm {'within' if is_thickness_preferred else 'outside'} the preferred "
                   f"{low}-{high} mm",
                   f"kernel {facts.kernel or '<none>'!r} classified {kernel_class.value}")
        rank = (float(is_thickness_preferred), float(_KERNEL_RANK[kernel_class]), float(facts.slice_count))
        return PolicyVerdict(rejection_code=None, reasons=reasons, rank=rank)


def _refused(code: TriageErrorCode, reason: str, *passed: str) -> PolicyVerdict:
    return PolicyVerdict(rejection_code=code, reasons=(*passed, f"refused: {reason}"))
