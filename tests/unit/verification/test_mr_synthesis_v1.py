"""mr_synthesis_quality_v1 on the real T1 brain volume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medskills.core.errors import InputError
from medskills.core.models import Status
from medskills.verification import grade_mr_synthesis
from unit.verification.run_builders import build_mr_run, load_nifti

HONEST_CLAIMS = {"all_images_readable": True, "all_shapes_match_requested": True,
                 "all_spacing_match_requested": True, "all_images_finite": True,
                 "all_images_nonconstant": True, "all_images_nonnegative": True}


@pytest.fixture(scope="module")
def brain_t1(shared_data: Path) -> tuple[np.ndarray, np.ndarray]:
    return load_nifti(shared_data / "mr_brain_t1" / "image.nii.gz")


def test_real_t1_passes(tmp_path: Path, brain_t1: tuple[np.ndarray, np.ndarray]) -> None:
    verdict = grade_mr_synthesis(build_mr_run(tmp_path / "run", *brain_t1, claims=HONEST_CLAIMS))
    assert verdict.status is Status.PASSED, verdict.failed_checks
    assert verdict.exit_code == 0


def test_negative_values_fail(tmp_path: Path, brain_t1: tuple[np.ndarray, np.ndarray]) -> None:
    image, affine = brain_t1
    shifted = image.astype(np.float32) - 10.0
    verdict = grade_mr_synthesis(build_mr_run(tmp_path / "run", shifted, affine))
    assert verdict.failed_checks == ["image_values.sample0_values_nonnegative"]


def test_negative_values_with_an_honest_looking_claim_fail_honesty_too(
    tmp_path: Path, brain_t1: tuple[np.ndarray, np.ndarray],
) -> None:
    image, affine = brain_t1
    verdict = grade_mr_synthesis(build_mr_run(tmp_path / "run", image.astype(np.float32) - 10.0, affine,
                                              claims=HONEST_CLAIMS))
    assert "honesty.aggregate_flags_match_recomputed" in verdict.failed_checks


@pytest.mark.parametrize("modality", ["mri_swi", "mri_mra", "mri_flair_skull_stripped", "mri_t2"])
def test_every_documented_brain_modality_is_accepted(
    tmp_path: Path, brain_t1: tuple[np.ndarray, np.ndarray], modality: str,
) -> None:
    verdict = grade_mr_synthesis(build_mr_run(tmp_path / "run", *brain_t1, modality=modality))
    assert verdict.status is Status.PASSED, verdict.failed_checks


def test_unknown_modality_fails(tmp_path: Path, brain_t1: tuple[np.ndarray, np.ndarray]) -> None:
    verdict = grade_mr_synthesis(build_mr_run(tmp_path / "run", *brain_t1, modality="ct"))
    assert verdict.failed_checks == ["target.modality_supported"]


def test_shape_and_spacing_must_equal_the_request(tmp_path: Path, brain_t1: tuple[np.ndarray, np.ndarray]) -> None:
    verdict = grade_mr_synthesis(build_mr_run(tmp_path / "run", *brain_t1, dim=[192, 256, 192],
                                              spacing_mm=[1.0, 1.0, 1.0]))
    assert set(verdict.failed_checks) == {"requested_geometry.sample0_shape_matches_request",
                                          "requested_geometry.sample0_spacing_matches_request"}


def test_constant_and_non_finite_images_fail(tmp_path: Path, brain_t1: tuple[np.ndarray, np.ndarray]) -> None:
    image, affine = brain_t1
    constant = np.full(image.shape, 5.0, dtype=np.float32)
    constant[0, 0, 0] = np.nan
    verdict = grade_mr_synthesis(build_mr_run(tmp_path / "run", constant, affine))
    assert {"image_values.sample0_values_finite", "image_values.sample0_values_nonconstant"} <= set(
        verdict.failed_checks)


def test_missing_record_is_unusable_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="result.json is missing"):
        grade_mr_synthesis(tmp_path)
