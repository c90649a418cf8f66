"""The vendor kernel table: lung kernels win the tie-break, soft-tissue kernels do not."""

from __future__ import annotations

import pytest

from medskills.triage.kernels import KernelClass, classify_kernel


@pytest.mark.parametrize("kernel", ["B70f", "B80f", "Br64", "Bl57", "I70f", "Hr60", "LUNG", "BONE", "BONEPLUS",
                                    "YA", "YB", "YC", "L", "FC51", "FC52", "FC86", "Br64 3", "HD LUNG"])
def test_lung_kernels_of_each_vendor_are_recognised(kernel: str) -> None:
    assert classify_kernel(kernel) is KernelClass.LUNG


@pytest.mark.parametrize("kernel", ["B30f", "Br38f", "I40f", "STANDARD", "SOFT", "B", "C", "FC08", "FC30"])
def test_soft_tissue_kernels_are_not_lung(kernel: str) -> None:
    assert classify_kernel(kernel) is KernelClass.SOFT_TISSUE


@pytest.mark.parametrize("kernel", ["", "XYZ", "FC", "B"[:0]])
def test_unknown_kernels_are_unknown(kernel: str) -> None:
    assert classify_kernel(kernel) is KernelClass.UNKNOWN
