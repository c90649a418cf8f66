"""Mask-only request: the mask model's own limits (size conditions, fixed grid, DDPM steps) and its cost estimate.

The run through the stand-in upstream (exit codes, the paired-CT rules on top) is in
``tests/integration/synthesis/ct_mask/test_ct_mask_run.py``; here the rules are called directly on a merged config.
"""

from __future__ import annotations

from typing import Any

import pytest

from medskills.core.models import Check, Severity
from medskills.core.preflight import PreflightCollector
from medskills.synthesis.ct_mask.request import (
    DDPM_STEPS, DEFAULT_CONTROLLABLE, MASK_SIZE, check_mask_request, estimate_mask_cost,
)
from medskills.synthesis.nv_generate.anatomy import load_anatomy_table
from medskills.synthesis.nv_generate.config_rules import check_inference_config
from medskills.synthesis.nv_generate.cost import PATH_A_MASK_SECONDS_AT_1000_STEPS, STARTUP_SECONDS
from medskills.synthesis.nv_generate.ct_inference import DEFAULT_CONFIG_INFER, CTVersion, InferenceSettings

MASK_SPACING = [1.5, 1.5, 1.5]


def _merged(**overrides: Any) -> dict[str, Any]:
    """The config the mask command checks: upstream defaults, the fixed grid, the default size condition."""
    return {**DEFAULT_CONFIG_INFER, "output_size": list(MASK_SIZE), "spacing": MASK_SPACING,
            "controllable_anatomy_size": DEFAULT_CONTROLLABLE, **overrides}


def _check(**overrides: Any) -> PreflightCollector:
    collector = PreflightCollector()
    check_mask_request(collector, _merged(**overrides))
    return collector


def _only_error(collector: PreflightCollector) -> Check:
    (error,) = collector.report().errors
    return error


def _settings(**overrides: Any) -> InferenceSettings:
    collector = PreflightCollector()
    settings = check_inference_config(collector, _merged(**overrides), table=load_anatomy_table(),
                                      version=CTVersion.RFLOW_CT)
    assert settings is not None, collector.report().errors
    return settings


def test_check_mask_request_records_nothing_for_the_default_lung_tumor_request() -> None:
    report = _check().report()
    assert report.errors == [] and report.warnings == []


@pytest.mark.parametrize("value", [[], None], ids=["empty", "null"])
def test_check_mask_request_requires_size_conditions_when_controllable_anatomy_size_is_empty(value: object) -> None:
    error = _only_error(_check(controllable_anatomy_size=value))
    assert error.code == "controllable_required" and error.field == "controllable_anatomy_size"
    assert error.blocks_request and error.fix == 'for example [["lung tumor", 0.5]]'


def test_check_mask_request_requires_size_conditions_when_the_key_is_absent() -> None:
    merged = _merged()
    del merged["controllable_anatomy_size"]
    collector = PreflightCollector()
    check_mask_request(collector, merged)
    assert _only_error(collector).code == "controllable_required"


@pytest.mark.parametrize("size", [[512, 512, 128], [256, 256, 128], None], ids=["larger", "shorter", "null"])
def test_check_mask_request_refuses_any_output_size_but_256_cubed(size: object) -> None:
    error = _only_error(_check(output_size=size))
    assert error.code == "mask_size_fixed" and error.field == "output_size" and error.blocks_request
    assert f"got {size!r}" in error.message
    assert error.fix == "drop the key or set it to [256, 256, 256]"


@pytest.mark.parametrize("spacing", [[1.5, 1.5, 2.0], [1.0, 1.0, 1.0], None], ids=["ct-default", "one-mm", "null"])
def test_check_mask_request_refuses_any_spacing_but_1_5_mm_isotropic(spacing: object) -> None:
    error = _only_error(_check(spacing=spacing))
    assert error.code == "mask_spacing_fixed" and error.field == "spacing" and error.blocks_request
    assert f"got {spacing!r}" in error.message and "[1.5, 1.5, 1.5] mm" in error.message
    assert error.fix == "drop the key or set it to [1.5, 1.5, 1.5]"


@pytest.mark.parametrize("steps", [1, 50, DDPM_STEPS - 1])
def test_check_mask_request_warns_that_quality_is_not_guaranteed_when_ddpm_steps_are_below_1000(steps: int) -> None:
    report = _check(mask_generation_num_inference_steps=steps).report()
    assert report.errors == []
    (warning,) = report.warnings
    assert warning.code == "ddpm_steps_low" and warning.severity is Severity.WARNING
    assert warning.field == "mask_generation_num_inference_steps"
    assert warning.message.startswith(f"mask_generation_num_inference_steps {steps} < 1000")


@pytest.mark.parametrize("steps", [DDPM_STEPS, 0, 30.0, None, True], ids=["1000", "zero", "float", "null", "bool"])
def test_check_mask_request_does_not_warn_about_steps_when_they_are_1000_or_not_a_positive_integer(
        steps: object) -> None:
    """Steps that are not an integer in 1..999 are left to ``check_steps`` (an error there, not a warning here)."""
    assert _check(mask_generation_num_inference_steps=steps).report().warnings == []


def test_check_mask_request_reports_every_problem_in_one_pass() -> None:
    collector = _check(controllable_anatomy_size=[], output_size=[512, 512, 128], spacing=[1.5, 1.5, 2.0],
                       mask_generation_num_inference_steps=10)
    report = collector.report()
    assert [check.code for check in report.errors] == ["controllable_required", "mask_size_fixed",
                                                       "mask_spacing_fixed"]
    assert [check.code for check in report.warnings] == ["ddpm_steps_low"]


def test_estimate_mask_cost_always_asks_for_confirmation_with_the_reason() -> None:
    cost = estimate_mask_cost(_settings())
    assert cost.needs_confirmation
    assert cost.reasons == ["mask-only generation always asks for --yes (a 1000-step DDPM per mask)"]
    assert cost.peak_vram_gb == 16.0 and "int16 masks" in cost.basis


def test_estimate_mask_cost_is_start_up_plus_one_mask_diffusion_per_sample_at_1000_steps() -> None:
    one = estimate_mask_cost(_settings())
    three = estimate_mask_cost(_settings(num_output_samples=3))
    assert one.wall_seconds == STARTUP_SECONDS + PATH_A_MASK_SECONDS_AT_1000_STEPS
    assert three.wall_seconds == STARTUP_SECONDS + 3 * PATH_A_MASK_SECONDS_AT_1000_STEPS


def test_estimate_mask_cost_scales_the_diffusion_time_with_the_ddpm_steps() -> None:
    cost = estimate_mask_cost(_settings(mask_generation_num_inference_steps=250))
    assert cost.wall_seconds == STARTUP_SECONDS + PATH_A_MASK_SECONDS_AT_1000_STEPS / 4


def test_estimate_mask_cost_counts_one_int16_256_cubed_mask_per_sample_on_disk() -> None:
    voxels = MASK_SIZE[0] * MASK_SIZE[1] * MASK_SIZE[2]
    assert estimate_mask_cost(_settings()).disk_mb == round(voxels * 2 / 1e6, 1)
    assert estimate_mask_cost(_settings(num_output_samples=2)).disk_mb == round(voxels * 2 * 2 / 1e6, 1)
