"""mr_synthesis_quality_v1's brain-volume check: deepbrain on the real T1, skipped where it does not apply."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medskills.core.models import Status
from medskills.verification import grade_mr_synthesis
from pretrained_support import needs_deepbrain
from unit.verification.run_builders import build_mr_run, load_nifti


@pytest.fixture(scope="module")
def brain_t1(shared_data: Path) -> tuple[np.ndarray, np.ndarray]:
    return load_nifti(shared_data / "mr_brain_t1" / "image.nii.gz")


def _brain_checks(verdict):  # type: ignore[no-untyped-def]
    return next(item for item in verdict.tiers if item.name == "brain_volume_plausibility").checks


@needs_deepbrain
def test_the_real_t1_has_an_adult_brain_volume(tmp_path: Path, brain_t1: tuple[np.ndarray, np.ndarray]) -> None:
    [volume] = _brain_checks(grade_mr_synthesis(build_mr_run(tmp_path / "run", *brain_t1)))
    assert volume.status is Status.PASSED and 1450.0 < volume.measured < 1650.0, volume


@needs_deepbrain
def test_a_head_at_half_the_size_fails(tmp_path: Path, brain_t1: tuple[np.ndarray, np.ndarray]) -> None:
    image, affine = brain_t1
    half = affine.copy()
    half[:3, :3] *= 0.5  # the same voxels at half the spacing: an eighth of the volume
    verdict = grade_mr_synthesis(build_mr_run(tmp_path / "run", image, half))
    [volume] = _brain_checks(verdict)
    assert volume.status is Status.FAILED and volume.measured < 845.0
    assert verdict.status is Status.FAILED


@pytest.mark.parametrize("modality", ["mri_t1_skull_stripped", "mri_swi", "mri_mra"])
def test_skull_stripped_swi_and_mra_are_skipped_with_the_reason(
        tmp_path: Path, brain_t1: tuple[np.ndarray, np.ndarray], modality: str) -> None:
    [volume] = _brain_checks(grade_mr_synthesis(build_mr_run(tmp_path / "run", *brain_t1, modality=modality)))
    assert volume.status is Status.SKIPPED
    assert ("skull-stripped" if "skull" in modality else "unlike deepbrain's T1 training data") in volume.reason
