"""Reconstruction-kernel classes by vendor: the lung-kernel tie-break of series selection.

The table is data: each row is a vendor, a pattern on the upper-cased ConvolutionKernel value and
the class it implies. The first matching row wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["KERNEL_TABLE", "KernelClass", "KernelRule", "classify_kernel"]


class KernelClass(StrEnum):
    """How a reconstruction kernel renders lung parenchyma."""

    LUNG = "lung"
    SOFT_TISSUE = "soft_tissue"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class KernelRule:
    """One row of the kernel table: ``pattern`` is matched against the upper-cased kernel name."""

    vendor: str
    pattern: str
    kernel_class: KernelClass
    example: str


_SHARP = KernelClass.LUNG
_SOFT = KernelClass.SOFT_TISSUE

KERNEL_TABLE: tuple[KernelRule, ...] = (
    # Siemens: B/Br/Bl/Bf/Hr/I/Ir/Q families; the two digits give sharpness (>= 50 lung/sharp).
    KernelRule("Siemens", r"^(BL|BR|BF|B|HR|IR|I|Q[RI]?)(5\d|6\d|7\d|8\d|9\d)[A-Z]?\b", _SHARP, "B70f, Br64, I70f, Bl57"),
    KernelRule("Siemens", r"^(BR|BF|B|HR|IR|I|Q[RI]?)([0-4]\d)[A-Z]?\b", _SOFT, "B30f, Br38f, I40f"),
    # GE: named kernels.
    KernelRule("GE", r"^(LUNG|BONE|BONEPLUS|EDGE|SHARP|HD LUNG|CHST)\b", _SHARP, "LUNG, BONE, BONEPLUS"),
    KernelRule("GE", r"^(STANDARD|STND|SOFT|DETAIL|SMOOTH)\b", _SOFT, "STANDARD, SOFT"),
    # Philips: the Y* family and L/LA are sharp lung kernels; A-D standard/soft.
    KernelRule("Philips", r"^(Y[A-H]|Y-?SHARP|L|LA)\b", _SHARP, "YA, YB, YC, L"),
    KernelRule("Philips", r"^[A-D]\b", _SOFT, "B, C"),
    # Canon/Toshiba: FC5x and FC8x are lung/high resolution; lower numbers body/soft tissue.
    KernelRule("Canon", r"^FC(5\d|8\d)\b", _SHARP, "FC51, FC52, FC86"),
    KernelRule("Canon", r"^FC([0-4]\d)\b", _SOFT, "FC08, FC18, FC30"),
)

_COMPILED = tuple((re.compile(rule.pattern), rule) for rule in KERNEL_TABLE)


def classify_kernel(kernel: str) -> KernelClass:
    """Class of a ConvolutionKernel value (all words of a multi-valued kernel are tried)."""
    for word in kernel.upper().replace("\\", " ").split(" ") if kernel else []:
        word = word.strip()
        for pattern, rule in _COMPILED:
            if word and pattern.match(word):
                return rule.kernel_class
    for pattern, rule in _COMPILED:
        if kernel and pattern.match(kernel.upper().strip()):
            return rule.kernel_class
    return KernelClass.UNKNOWN
