"""Every request rule of the paired CT config fires on a bad value, and passes the shipped defaults."""

from __future__ import annotations

import pytest

from medskills.core.models import PreflightReport
from medskills.core.preflight import PreflightCollector
from medskills.synthesis.nv_generate.anatomy import load_anatomy_table
from medskills.synthesis.nv_generate.config_rules import check_inference_config
from medskills.synthesis.nv_generate.ct_inference import DEFAULT_CONFIG_INFER, CTVersion, InferenceSettings


def _check(version: CTVersion = CTVersion.RFLOW_CT, **overrides: object) -> tuple[InferenceSettings | None, PreflightReport]:
    collector = PreflightCollector()
    settings = check_inference_config(collector, {**DEFAULT_CONFIG_INFER, **overrides}, table=load_anatomy_table(),
                                      version=version)
    return settings, collector.report()


def _error_codes(**overrides: object) -> list[str]:
    settings, report = _check(**overrides)
    assert settings is None and not report.request_valid
    return [check.code for check in report.errors]


def _warning_codes(**overrides: object) -> list[str]:
    settings, report = _check(**overrides)
    assert settings is not None and report.request_valid, report.errors
    return [check.code for check in report.warnings]


def test_shipped_defaults_are_valid_path_b():
    settings, report = _check()
    assert report.request_valid and not report.errors and not report.warnings
    assert settings.mask_path.value == "B" and settings.effective_anatomy == ["lung tumor"]


def test_misspelled_anatomy_suggests_the_right_name():
    settings, report = _check(anatomy_list=["lung tumour"])
    (error,) = report.errors
    assert error.code == "unknown_anatomy" and error.field == "anatomy_list[0]" and "'lung tumor'" in error.message


def test_placeholder_dummy_names_are_rejected():
    assert _error_codes(anatomy_list=["dummy3"]) == ["placeholder_anatomy"]


def test_duplicate_anatomy_names_are_rejected():
    assert _error_codes(anatomy_list=["liver", "spleen", "liver"]) == ["duplicate_anatomy"]


@pytest.mark.parametrize("key, value", [
    ("anatomy_list", "liver"), ("body_region", [1]), ("output_size", [256, 256]), ("spacing", "1.5"),
    ("controllable_anatomy_size", {"liver": 0.5}), ("controllable_anatomy_size", [["liver"]]),
    ("autoencoder_sliding_window_infer_size", [48.0, 48, 48]),
])
def test_wrong_types_are_rejected(key, value):
    assert "bad_type" in _error_codes(**{key: value})


def test_unknown_body_region_is_rejected_with_suggestion():
    settings, report = _check(body_region=["abdomn"])
    assert settings is None and report.errors[0].code == "unknown_body_region" and "'abdomen'" in report.errors[0].message


def test_thorax_is_an_accepted_body_region():
    assert _warning_codes(body_region=["thorax"]) == []


def test_non_controllable_name_is_rejected_with_hint():
    settings, report = _check(controllable_anatomy_size=[["spleen", 0.5]])
    assert report.errors[0].code == "not_controllable" and "cannot be controlled" in report.errors[0].message


def test_misspelled_controllable_name_suggests():
    settings, report = _check(controllable_anatomy_size=[["livr", 0.5]])
    assert "'liver'" in report.errors[0].message


@pytest.mark.parametrize("size", [1.5, -0.5, -2])
def test_controllable_size_outside_range_is_rejected(size):
    assert _error_codes(controllable_anatomy_size=[["liver", size]]) == ["bad_size"]


def test_controllable_size_minus_one_is_allowed():
    assert _warning_codes(controllable_anatomy_size=[["liver", -1], ["lung tumor", 0.6]]) == []


def test_two_tumors_are_rejected_even_with_minus_one():
    assert _error_codes(controllable_anatomy_size=[["lung tumor", 0.6], ["bone lesion", -1]]) == ["too_many_tumors"]


def test_repeated_controllable_name_is_rejected():
    assert _error_codes(controllable_anatomy_size=[["liver", 0.5], ["liver", 0.6]]) == ["duplicate_controllable"]


def test_more_than_ten_controllable_entries_are_rejected():
    entries = [["liver", 0.5]] * 11
    assert "too_many_controllable" in _error_codes(controllable_anatomy_size=entries)


def test_organ_only_path_a_warns_about_unrequested_tumor():
    assert _warning_codes(controllable_anatomy_size=[["liver", 0.5]]) == ["unrequested_tumor_risk"]


def test_small_tumor_size_warns():
    assert _warning_codes(controllable_anatomy_size=[["lung tumor", 0.2]]) == ["small_tumor"]


@pytest.mark.parametrize("size", [[256, 384, 256], [320, 320, 256], [256, 256, 200]])
def test_output_size_outside_supported_sets_is_rejected(size):
    assert _error_codes(output_size=size) == ["bad_output_size"]


@pytest.mark.parametrize("spacing", [[1.5, 1.0, 2.0], [0.4, 0.4, 2.0], [3.5, 3.5, 2.0], [1.5, 1.5, 5.5]])
def test_spacing_outside_ranges_is_rejected(spacing):
    assert _error_codes(spacing=spacing) == ["bad_spacing"]


def test_field_of_view_below_256_mm_is_an_error():
    assert _error_codes(output_size=[256, 256, 256], spacing=[0.75, 0.75, 1.0]) == ["fov_too_small"]


def test_field_of_view_below_384_mm_warns_for_body_regions():
    assert _warning_codes(output_size=[512, 512, 128], spacing=[0.684, 0.684, 2.422]) == ["fov_small_for_body"]


def test_field_of_view_below_384_mm_is_fine_for_head_only():
    assert _warning_codes(output_size=[256, 256, 256], spacing=[1.2, 1.2, 1.0], body_region=["head"],
                          anatomy_list=["brain", "skull"]) == []


@pytest.mark.parametrize("key", ["num_inference_steps", "mask_generation_num_inference_steps"])
@pytest.mark.parametrize("steps", [0, 1001, 2.5, True])
def test_steps_outside_1_to_1000_are_rejected(key, steps):
    assert _error_codes(**{key: steps}) == ["steps_out_of_range"]


def test_many_rflow_steps_warn():
    assert _warning_codes(num_inference_steps=1000) == ["many_rflow_steps"]


def test_num_output_samples_must_be_positive():
    assert _error_codes(num_output_samples=0) == ["bad_value"]


def test_sliding_window_size_must_be_multiple_of_16():
    assert _error_codes(autoencoder_sliding_window_infer_size=[48, 40, 48]) == ["bad_sliding_window"]


@pytest.mark.parametrize("overlap", [1.0, -0.1, "0.5"])
def test_overlap_must_be_in_zero_one(overlap):
    assert _error_codes(autoencoder_sliding_window_infer_overlap=overlap) == ["bad_overlap"]


def test_tp_splits_must_be_a_power_of_two_up_to_16():
    assert _error_codes(autoencoder_tp_num_splits=3) == ["bad_tp_splits"]
    settings, _ = _check(autoencoder_tp_num_splits=4)
    assert settings.autoencoder_tp_num_splits == 4


@pytest.mark.parametrize("key", ["image_output_ext", "label_output_ext"])
def test_output_extension_must_be_nifti(key):
    assert _error_codes(**{key: ".mha"}) == ["bad_extension"]


def test_modality_must_be_ct():
    assert _error_codes(modality=9) == ["bad_modality"]


def test_negative_guidance_scale_is_rejected_and_large_warns():
    assert _error_codes(cfg_guidance_scale=-1) == ["guidance_invalid"]
    assert _error_codes(cfg_guidance_scale=float("nan")) == ["guidance_invalid"]
    assert _warning_codes(cfg_guidance_scale=7) == ["large_cfg_scale"]


def test_all_problems_are_collected_in_one_pass():
    codes = _error_codes(anatomy_list=["lung tumour", "dummy1"], output_size=[100, 100, 100], num_inference_steps=0,
                         autoencoder_sliding_window_infer_overlap=2, image_output_ext=".png")
    assert set(codes) == {"unknown_anatomy", "placeholder_anatomy", "bad_output_size", "steps_out_of_range",
                          "bad_overlap", "bad_extension"}


def test_path_a_effective_anatomy_is_the_controllable_names():
    settings, _ = _check(anatomy_list=["lung tumor", "heart"], controllable_anatomy_size=[["lung tumor", 0.5]])
    assert settings.mask_path.value == "A" and settings.effective_anatomy == ["lung tumor"]
    assert settings.field_of_view_mm == (384.0, 384.0, 512.0)
