"""CT-from-mask request file and override rules: each rule fires, defaults pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medskills.core.errors import UsageError
from medskills.core.preflight import PreflightCollector
from medskills.synthesis.ct_from_mask.request import (
    CTFromMaskRequest, FromMaskFile, load_from_mask_file, validate_from_mask_overrides,
)


def _validate(**overrides: object) -> tuple[PreflightCollector, object]:
    collector = PreflightCollector()
    file = FromMaskFile(mask_path=Path("m.nii.gz"), overrides=overrides, unknown_keys=[])
    return collector, validate_from_mask_overrides(collector, file, base_config={}, mask_shape=(122, 101, 30))


def test_defaults_render_settings_on_the_snapped_grid() -> None:
    collector, settings = _validate()
    assert not collector.has_request_errors
    assert settings.num_inference_steps == 30 and settings.output_size == (256, 256, 128)


@pytest.mark.parametrize(("mask_shape", "snapped"), [
    ((300, 300, 200), (256, 256, 256)),  # upstream takes the closest valid size, not the next larger one
    ((460, 440, 700), (512, 512, 640)),
    ((330, 330, 100), (384, 384, 128)),
])
def test_the_cost_grid_is_the_one_upstream_snaps_the_mask_to(mask_shape: tuple[int, int, int],
                                                             snapped: tuple[int, int, int]) -> None:
    collector = PreflightCollector()
    file = FromMaskFile(mask_path=Path("m.nii.gz"), overrides={}, unknown_keys=[])
    settings = validate_from_mask_overrides(collector, file, base_config={}, mask_shape=mask_shape)
    assert settings is not None and settings.output_size == snapped


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"num_inference_steps": 0}, "steps_out_of_range"),
        ({"num_inference_steps": 1001}, "steps_out_of_range"),
        ({"autoencoder_sliding_window_infer_size": [48, 48, 40]}, "sliding_window_invalid"),
        ({"autoencoder_sliding_window_infer_size": [48, 48]}, "sliding_window_invalid"),
        ({"autoencoder_sliding_window_infer_overlap": 1.5}, "overlap_invalid"),
        ({"autoencoder_sliding_window_infer_overlap": 1.0}, "overlap_invalid"),
        ({"cfg_guidance_scale": -0.5}, "guidance_invalid"),
        ({"modality": 9}, "modality_not_ct"),
    ],
)
def test_each_override_rule_fires(overrides: dict[str, object], code: str) -> None:
    collector, settings = _validate(**overrides)
    assert code in {check.code for check in collector.report().errors}
    assert settings is None


def test_strong_guidance_is_a_warning() -> None:
    collector, settings = _validate(cfg_guidance_scale=7)
    assert settings is not None and collector.report().warnings[0].code == "guidance_strong"


def test_request_file_resolves_mask_relative_to_itself_and_keeps_unknown_keys(tmp_path: Path) -> None:
    request = tmp_path / "req.json"
    request.write_text(json.dumps({"mask_path": "masks/m.nii.gz", "num_inference_steps": 20, "num_inference_step": 1, "_c": 0}))
    loaded = load_from_mask_file(request)
    assert loaded.mask_path == tmp_path / "masks" / "m.nii.gz"
    assert loaded.overrides == {"num_inference_steps": 20} and loaded.unknown_keys == ["num_inference_step"]
    collector = PreflightCollector()
    validate_from_mask_overrides(collector, loaded, base_config={}, mask_shape=(256, 256, 128))
    assert "Did you mean 'num_inference_steps'" in collector.report().errors[0].message


def test_a_nifti_path_is_taken_as_the_mask(tmp_path: Path) -> None:
    assert load_from_mask_file(tmp_path / "seg.nii.gz").mask_path == tmp_path / "seg.nii.gz"


@pytest.mark.parametrize("content", ["{", "[]", json.dumps({"num_inference_steps": 3})])
def test_bad_request_files_are_usage_errors(tmp_path: Path, content: str) -> None:
    request = tmp_path / "req.json"
    request.write_text(content)
    with pytest.raises(UsageError):
        load_from_mask_file(request)


def test_unknown_source_labels_is_a_usage_error_with_suggestion(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="Did you mean 'totalsegmentator'"):
        CTFromMaskRequest.from_cli(request_path=tmp_path, output_dir=tmp_path, source_labels="totalsegmentor")
