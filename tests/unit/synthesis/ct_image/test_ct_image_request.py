"""CT image-only request: upstream's ``check_input_ct`` geometry, the FOV rule, scalar rules, rendering and cost.

The run through the stand-in upstream (exit codes, staged seed) is in
``tests/integration/synthesis/ct_image/test_ct_image_run.py``; here the rules are called directly.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from medskills.core.models import Check, Severity
from medskills.core.preflight import PreflightCollector
from medskills.synthesis.ct_image.request import (
    CT_MODALITY, CTImageRequest, estimate_ct_image_cost, validate_ct_image_overrides,
)
from medskills.synthesis.diff_model.staging import DiffModelInference, diff_model_facts
from medskills.synthesis.nv_generate.ct_inference import CTVersion

RFLOW_DEFAULTS = diff_model_facts("rflow-ct").inference_defaults  # 256x256x128 at 1.7 mm: FOV 435 mm
DDPM_DEFAULTS = diff_model_facts("ddpm-ct").inference_defaults  # 256x256x128 at 1.0 mm: FOV 256 mm


def _validate(overrides: dict[str, Any], unknown: list[str] | None = None, *,
              defaults: DiffModelInference = RFLOW_DEFAULTS,
              collector: PreflightCollector | None = None) -> tuple[PreflightCollector, DiffModelInference | None]:
    collector = collector or PreflightCollector()
    rendered = validate_ct_image_overrides(collector, overrides, unknown or [], defaults=defaults, random_seed=42)
    return collector, rendered


def _error(collector: PreflightCollector, code: str) -> Check:
    (check,) = [check for check in collector.report().errors if check.code == code]
    return check


def test_ct_image_request_defaults_to_rflow_ct_with_a_summary_card(tmp_path: Path) -> None:
    request = CTImageRequest(output_dir=tmp_path)
    assert request.version is CTVersion.RFLOW_CT and request.has_summary_card and request.config_path is None


def test_validate_ct_image_overrides_renders_the_defaults_with_the_seed_and_ct_modality_when_not_overridden() -> None:
    collector, rendered = _validate({})
    assert collector.report().errors == [] and collector.report().warnings == []
    assert rendered == RFLOW_DEFAULTS.model_copy(update={"random_seed": 42, "modality": CT_MODALITY})


def test_validate_ct_image_overrides_applies_valid_overrides_over_the_defaults() -> None:
    overrides = {"dim": [512, 512, 256], "spacing": [0.8, 0.8, 1.25], "num_inference_steps": 50,
                 "cfg_guidance_scale": 1.5, "top_region_index": [1, 0, 0, 0], "bottom_region_index": [0, 1, 0, 0]}
    collector, rendered = _validate(overrides)
    assert collector.report().errors == [] and rendered is not None
    assert rendered.dim == (512, 512, 256) and rendered.spacing == (0.8, 0.8, 1.25)
    assert rendered.num_inference_steps == 50 and rendered.cfg_guidance_scale == 1.5
    assert rendered.top_region_index == (1, 0, 0, 0) and rendered.bottom_region_index == (0, 1, 0, 0)


@pytest.mark.parametrize("dim", [[256, 256, 100], [256, 384, 128], [128, 128, 128], [256, 256], [256.0, 256.0, 128],
                                 [True, True, 128], "256x256x128", None],
                         ids=["z-not-a-size", "x-not-y", "xy-not-a-size", "two-values", "floats", "booleans",
                              "string", "null"])
def test_validate_ct_image_overrides_reports_bad_dim_with_the_allowed_sizes_when_dim_is_not_a_ct_size(
        dim: object) -> None:
    collector, rendered = _validate({"dim": dim})
    error = _error(collector, "bad_dim")
    assert rendered is None and error.field == "dim" and error.blocks_request
    assert repr(dim) in error.message and "[256, 384, 512]" in error.message
    assert error.fix == "for example [256, 256, 128] or [512, 512, 128]"


@pytest.mark.parametrize("spacing", [[1.5, 1.5, 6.0], [1.5, 1.5, 0.4], [1.5, 2.0, 2.0], [0.4, 0.4, 2.0],
                                     [3.5, 3.5, 2.0], [math.nan, math.nan, 2.0], [1.5, 1.5], ["1.5", "1.5", "2"]],
                         ids=["z-too-large", "z-too-small", "x-not-y", "xy-too-small", "xy-too-large", "nan",
                              "two-values", "strings"])
def test_validate_ct_image_overrides_reports_bad_spacing_with_the_ranges_when_spacing_is_not_a_ct_spacing(
        spacing: object) -> None:
    collector, rendered = _validate({"spacing": spacing})
    error = _error(collector, "bad_spacing")
    assert rendered is None and error.field == "spacing" and error.blocks_request
    assert "[0.5, 3.0]" in error.message and "[0.5, 5.0]" in error.message
    assert error.fix == "for example [1.5, 1.5, 2.0]"


@pytest.mark.parametrize("spacing", [[0.5, 0.5, 0.5], [3.0, 3.0, 5.0]], ids=["lower-bounds", "upper-bounds"])
def test_validate_ct_image_overrides_accepts_spacing_at_the_range_bounds(spacing: list[float]) -> None:
    collector, rendered = _validate({"dim": [512, 512, 128], "spacing": spacing})
    assert collector.report().errors == [] and rendered is not None and rendered.spacing == tuple(spacing)


def test_validate_ct_image_overrides_reports_both_geometry_errors_but_no_fov_error_when_both_are_bad() -> None:
    collector, rendered = _validate({"dim": [100, 100, 100], "spacing": [0.1, 0.1, 0.1]})
    assert rendered is None
    assert [check.code for check in collector.report().errors] == ["bad_dim", "bad_spacing"]


def test_validate_ct_image_overrides_refuses_a_field_of_view_below_256_mm() -> None:
    collector, rendered = _validate({"dim": [256, 256, 128], "spacing": [0.99, 0.99, 2.0]})
    error = _error(collector, "fov_too_small")
    assert rendered is None and error.field == "dim" and error.blocks_request
    assert "253.44 mm" in error.message and "below 256 mm" in error.message
    assert error.fix == "raise dim[0] or spacing[0] so their product is >= 256 mm"


def test_validate_ct_image_overrides_only_warns_when_the_field_of_view_is_below_the_body_recommendation() -> None:
    collector, rendered = _validate({}, defaults=DDPM_DEFAULTS)
    assert rendered is not None and collector.report().errors == []
    (warning,) = collector.report().warnings
    assert warning.code == "fov_small_for_body" and warning.severity is Severity.WARNING and warning.field == "dim"
    assert "256 mm" in warning.message and "384 mm" in warning.message


def test_validate_ct_image_overrides_does_not_warn_when_the_field_of_view_reaches_384_mm() -> None:
    collector, rendered = _validate({"dim": [256, 256, 128], "spacing": [1.5, 1.5, 2.0]})
    assert rendered is not None and collector.report().warnings == []


@pytest.mark.parametrize(("key", "value"), [("num_inference_steps", 0), ("num_inference_steps", 1001),
                                            ("num_inference_steps", 30.0)])
def test_validate_ct_image_overrides_reports_steps_out_of_range_with_the_ct_step_hint(key: str, value: object) -> None:
    collector, rendered = _validate({key: value})
    error = _error(collector, "steps_out_of_range")
    assert rendered is None and error.field == "num_inference_steps"
    assert error.fix == "rflow-ct uses 30, ddpm-ct 1000"


@pytest.mark.parametrize("value", [-1, math.inf, "0"])
def test_validate_ct_image_overrides_reports_guidance_invalid_with_the_ct_hint(value: object) -> None:
    collector, rendered = _validate({"cfg_guidance_scale": value})
    error = _error(collector, "guidance_invalid")
    assert rendered is None and error.fix == "upstream ships 0 for CT"


@pytest.mark.parametrize("key", ["top_region_index", "bottom_region_index"])
@pytest.mark.parametrize("value", [[0, 1, 0], [0, 2, 0, 0], [0, True, 0, 0], [0, 1.0, 0, 0], "chest", None],
                         ids=["three-values", "two", "boolean", "float", "string", "null"])
def test_validate_ct_image_overrides_reports_region_index_invalid_when_not_four_zeros_or_ones(
        key: str, value: object) -> None:
    collector, rendered = _validate({key: value})
    error = _error(collector, "region_index_invalid")
    assert rendered is None and error.field == key and error.blocks_request
    assert error.message.startswith(f"{key} must be 4 values of 0 or 1 (head, chest, abdomen, pelvis)")
    assert error.fix == "for example [0, 1, 0, 0]"


def test_validate_ct_image_overrides_reports_an_unknown_key_with_a_suggestion() -> None:
    collector, rendered = _validate({}, ["spacng"])
    error = _error(collector, "unknown_key")
    assert rendered is None and error.field == "spacng"
    assert "the CT image-only config" in error.message and "Did you mean 'spacing'" in error.message


def test_validate_ct_image_overrides_collects_every_problem_in_one_pass() -> None:
    collector, rendered = _validate({"dim": [256, 384, 128], "num_inference_steps": 0, "cfg_guidance_scale": -1,
                                     "top_region_index": [1]}, ["seed"])
    assert rendered is None
    assert [check.code for check in collector.report().errors] == [
        "unknown_key", "bad_dim", "steps_out_of_range", "guidance_invalid", "region_index_invalid"]


def test_validate_ct_image_overrides_still_renders_when_only_a_readiness_error_was_recorded_before() -> None:
    collector = PreflightCollector()
    collector.error("upstream_missing", "no clone", blocks_request=False)
    _, rendered = _validate({}, collector=collector)
    assert rendered is not None


def test_validate_ct_image_overrides_renders_nothing_when_a_request_error_was_recorded_before() -> None:
    collector = PreflightCollector()
    collector.error("unknown_key", "bad key")
    _, rendered = _validate({}, collector=collector)
    assert rendered is None


def test_estimate_ct_image_cost_counts_no_mask_diffusion_and_two_float32_volumes_on_the_requested_grid() -> None:
    inference = RFLOW_DEFAULTS.model_copy(update={"modality": CT_MODALITY})
    cost = estimate_ct_image_cost(inference, CTVersion.RFLOW_CT)
    assert "Path-A" not in cost.basis and "(256, 256, 128)" in cost.basis
    assert cost.disk_mb == round(256 * 256 * 128 * 4 * 2 / 1e6, 1)
    assert not cost.needs_confirmation and cost.reasons == []


def test_estimate_ct_image_cost_grows_with_steps_and_states_the_doubled_diffusion_when_guidance_is_on() -> None:
    base = estimate_ct_image_cost(RFLOW_DEFAULTS, CTVersion.RFLOW_CT)
    more_steps = estimate_ct_image_cost(RFLOW_DEFAULTS.model_copy(update={"num_inference_steps": 300}),
                                        CTVersion.RFLOW_CT)
    guided = estimate_ct_image_cost(RFLOW_DEFAULTS.model_copy(update={"cfg_guidance_scale": 3.0}), CTVersion.RFLOW_CT)
    assert more_steps.wall_seconds > base.wall_seconds and guided.wall_seconds > base.wall_seconds
    assert "x2 diffusion" in guided.basis and "x2 diffusion" not in base.basis


def test_estimate_ct_image_cost_asks_for_confirmation_when_a_large_ddpm_grid_is_requested() -> None:
    large = DDPM_DEFAULTS.model_copy(update={"dim": (512, 512, 512), "spacing": (1.0, 1.0, 1.0)})
    cost = estimate_ct_image_cost(large, CTVersion.DDPM_CT)
    assert cost.needs_confirmation
    assert [reason.split(" ")[1] for reason in cost.reasons] == ["wall", "peak"]
