"""MR-brain override rules: each rule has a case that fires, and the defaults pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medskills.core.errors import UsageError
from medskills.core.mr_brain_modality import MRBrainModality
from medskills.core.preflight import PreflightCollector
from medskills.synthesis.diff_model.staging import diff_model_facts
from medskills.synthesis.mr_brain.request import (
    MRBrainOverrides, estimate_mr_brain_cost, load_overrides, resolve_modality, validate_overrides,
)

DEFAULTS = diff_model_facts("rflow-mr-brain").inference_defaults


def _validate(**overrides: object) -> tuple[PreflightCollector, object]:
    collector = PreflightCollector()
    known = {k: v for k, v in overrides.items() if k != "unknown_keys"}
    parsed = MRBrainOverrides(**known, unknown_keys=list(overrides.get("unknown_keys", [])))  # type: ignore[arg-type]
    rendered = validate_overrides(collector, parsed, defaults=DEFAULTS, modality=MRBrainModality.MRI_T1,
                                  random_seed=7)
    return collector, rendered


def _codes(collector: PreflightCollector) -> set[str]:
    return {check.code for check in collector.report().errors}


@pytest.mark.parametrize("value", ["mri_mra", 16, 33])
def test_mra_is_accepted_with_a_warning_that_upstream_does_not_guarantee_its_quality(value: object) -> None:
    collector = PreflightCollector()
    modality = resolve_modality(collector, cli_modality=None, override_modality=value)
    assert modality in {MRBrainModality.MRI_MRA, MRBrainModality.MRI_MRA_SKULL_STRIPPED}
    assert not collector.report().errors
    assert [w.code for w in collector.report().warnings] == ["sparse_training_data"]


def test_defaults_render_with_the_seed_and_modality_staged() -> None:
    collector, rendered = _validate()
    assert not collector.has_request_errors
    assert rendered.random_seed == 7 and rendered.modality == 9
    assert rendered.cfg_guidance_scale == 2 and rendered.dim == (256, 256, 128)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"dim": [250, 256, 128]}, "multiple_of_32"),
        ({"dim": [256, 256, 0]}, "multiple_of_32"),
        ({"dim": [544, 256, 128]}, "dim_too_large"),
        ({"dim": [256, 256, 288]}, "dim_too_large"),
        ({"dim": [256, 256]}, "dim_type"),
        ({"dim": [256.0, 256, 128]}, "dim_type"),
        ({"spacing": [1.0, -1.0, 1.0]}, "spacing_invalid"),
        ({"spacing": "1mm"}, "spacing_invalid"),
        ({"num_inference_steps": 0}, "steps_out_of_range"),
        ({"num_inference_steps": 1001}, "steps_out_of_range"),
        ({"num_inference_steps": 30.5}, "steps_out_of_range"),
        ({"cfg_guidance_scale": -1}, "guidance_invalid"),
        ({"cfg_guidance_scale": "high"}, "guidance_invalid"),
        ({"unknown_keys": ["dims"]}, "unknown_key"),
    ],
)
def test_each_override_rule_fires(overrides: dict[str, object], code: str) -> None:
    collector, rendered = _validate(**overrides)
    assert code in _codes(collector)
    assert rendered is None


def test_all_problems_are_collected_at_once() -> None:
    collector, _ = _validate(dim=[250, 250, 128], num_inference_steps=0, unknown_keys=["seed"])
    report = collector.report()
    assert len(report.errors) == 4
    assert not report.request_valid


def test_unknown_key_suggests_the_close_name() -> None:
    collector, _ = _validate(unknown_keys=["spacng"])
    assert "Did you mean 'spacing'" in collector.report().errors[0].message


def test_steps_at_bounds_are_accepted() -> None:
    for steps in (1, 1000):
        collector, rendered = _validate(num_inference_steps=steps)
        assert not collector.has_request_errors and rendered.num_inference_steps == steps


def test_unusual_geometry_and_spacing_are_only_warnings() -> None:
    collector, rendered = _validate(dim=[96, 160, 64], spacing=[0.2, 0.2, 6.0], cfg_guidance_scale=0)
    warnings = {check.code for check in collector.report().warnings}
    assert {"geometry_untested", "spacing_unusual", "guidance_off"} <= warnings
    assert rendered is not None


@pytest.mark.parametrize(("value", "expected"), [("mri_flair", MRBrainModality.MRI_FLAIR), (31,
                         MRBrainModality.MRI_FLAIR_SKULL_STRIPPED), ("MRI_T2", MRBrainModality.MRI_T2)])
def test_modality_override_takes_a_name_or_an_id(value: object, expected: MRBrainModality) -> None:
    collector = PreflightCollector()
    assert resolve_modality(collector, cli_modality=None, override_modality=value) is expected
    assert not collector.has_request_errors


@pytest.mark.parametrize("value", ["mri_flar", 12, 1, "ct", True])
def test_modality_outside_the_brain_set_is_an_error(value: object) -> None:
    collector = PreflightCollector()
    assert resolve_modality(collector, cli_modality=None, override_modality=value) is None
    assert "unsupported_modality" in _codes(collector)


def test_modality_typo_gets_a_suggestion() -> None:
    collector = PreflightCollector()
    resolve_modality(collector, cli_modality="mri_flar", override_modality=None)
    assert "Did you mean 'mri_flair'" in collector.report().errors[0].message


def test_cli_modality_wins_over_the_config_with_a_warning() -> None:
    collector = PreflightCollector()
    chosen = resolve_modality(collector, cli_modality="mri_t2", override_modality="mri_t1")
    assert chosen is MRBrainModality.MRI_T2
    assert collector.report().warnings[0].code == "modality_override_ignored"


def test_modality_defaults_to_t1() -> None:
    assert resolve_modality(PreflightCollector(), cli_modality=None, override_modality=None) is MRBrainModality.MRI_T1


def test_load_overrides_accepts_nested_block_and_skips_comments(tmp_path: Path) -> None:
    path = tmp_path / "o.json"
    path.write_text(json.dumps({"diffusion_unet_inference": {"dim": [128, 128, 128], "_note": "x", "sed": 1}}))
    overrides = load_overrides(path)
    assert overrides.dim == [128, 128, 128] and overrides.unknown_keys == ["sed"]


@pytest.mark.parametrize("content", ["not json", "[1, 2]"])
def test_load_overrides_rejects_bad_files(tmp_path: Path, content: str) -> None:
    path = tmp_path / "o.json"
    path.write_text(content)
    with pytest.raises(UsageError):
        load_overrides(path)


def test_load_overrides_missing_file_is_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_overrides(tmp_path / "missing.json")


def test_cost_estimate_asks_for_confirmation_only_when_large() -> None:
    assert not estimate_mr_brain_cost(DEFAULTS).needs_confirmation
    large = DEFAULTS.model_copy(update={"dim": (512, 512, 256)})
    cost = estimate_mr_brain_cost(large)
    assert cost.needs_confirmation and cost.peak_vram_gb == 32 and len(cost.reasons) == 2
    many_steps = DEFAULTS.model_copy(update={"num_inference_steps": 1000})
    assert estimate_mr_brain_cost(many_steps).needs_confirmation


@pytest.mark.parametrize("key", ["dim", "spacing", "num_inference_steps", "cfg_guidance_scale"])
def test_a_null_override_is_refused_not_taken_for_the_default(tmp_path: Path, key: str) -> None:
    path = tmp_path / "mr.json"
    path.write_text(json.dumps({key: None}))
    collector = PreflightCollector()
    rendered = validate_overrides(collector, load_overrides(path), defaults=DEFAULTS,
                                  modality=MRBrainModality.MRI_T1, random_seed=7)
    assert rendered is None and _codes(collector) == {"null_value"}
    assert collector.report().errors[0].field == key
