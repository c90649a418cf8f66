"""NV-Generate-CTMR's CT inference config: upstream's shipped values, override keys, versions, typed settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from medskills.synthesis.nv_generate.ct_inference import (
    ALLOWED_OVERRIDE_KEYS, DEFAULT_CONFIG_INFER, CTVersion, InferenceSettings, MaskPath,
)
from standin_upstream.snapshot import nv_generate_snapshot  # noqa: F401  (fixture)


def _is_reference(value: object) -> bool:
    """Upstream's ``"$@name_def"`` values point at network definitions; they are not settings."""
    return isinstance(value, str) and value.startswith("$@")


def _settings(**changes: Any) -> InferenceSettings:
    """Upstream's defaults as typed settings (``spacing`` is ``spacing_mm`` here), with ``changes``."""
    values = {key: value for key, value in DEFAULT_CONFIG_INFER.items() if key != "spacing"}
    return InferenceSettings.model_validate({**values, "spacing_mm": DEFAULT_CONFIG_INFER["spacing"], **changes})


def test_default_config_infer_is_upstreams_config_infer_without_its_network_references(
        nv_generate_snapshot: Path) -> None:
    upstream = json.loads((nv_generate_snapshot / "configs" / "config_infer.json").read_text(encoding="utf-8"))
    assert DEFAULT_CONFIG_INFER == {key: value for key, value in upstream.items() if not _is_reference(value)}


def test_allowed_override_keys_are_every_setting_upstreams_config_files_use(nv_generate_snapshot: Path) -> None:
    """config_infer.json and its GPU presets hold no setting we refuse, and we allow none they lack."""
    used: set[str] = set()
    for path in sorted((nv_generate_snapshot / "configs").glob("config_infer*.json")):
        used |= {key for key, value in json.loads(path.read_text(encoding="utf-8")).items() if not _is_reference(value)}
    assert ALLOWED_OVERRIDE_KEYS == used


def test_allowed_override_keys_add_only_the_autoencoder_split_count_to_the_defaults() -> None:
    assert ALLOWED_OVERRIDE_KEYS - set(DEFAULT_CONFIG_INFER) == {"autoencoder_tp_num_splits"}
    assert set(DEFAULT_CONFIG_INFER) <= ALLOWED_OVERRIDE_KEYS


@pytest.mark.parametrize(("version", "network"), [(CTVersion.RFLOW_CT, "rflow"), (CTVersion.DDPM_CT, "ddpm")])
def test_each_ct_version_names_an_upstream_network_config_that_exists(
        nv_generate_snapshot: Path, version: CTVersion, network: str) -> None:
    assert version.network == network
    assert (nv_generate_snapshot / "configs" / f"config_network_{version.network}.json").is_file()


def test_ct_version_and_mask_path_accept_only_their_spelled_values() -> None:
    assert CTVersion("rflow-ct") is CTVersion.RFLOW_CT and MaskPath("A") is MaskPath.A
    with pytest.raises(ValueError, match="rflow-mr"):
        CTVersion("rflow-mr")
    with pytest.raises(ValueError, match="'a'"):
        MaskPath("a")


def test_settings_without_controllable_sizes_take_path_b_and_label_the_anatomy_list_once_each() -> None:
    settings = _settings(anatomy_list=["liver", "spleen", "liver"])
    assert settings.mask_path is MaskPath.B
    assert settings.effective_anatomy == ["liver", "spleen"]


def test_settings_with_controllable_sizes_take_path_a_and_label_those_names_once_each() -> None:
    settings = _settings(anatomy_list=["heart"],
                         controllable_anatomy_size=[["pancreas", 0.4], ["liver", 0.5], ["pancreas", 0.6]])
    assert settings.mask_path is MaskPath.A
    assert settings.effective_anatomy == ["pancreas", "liver"], "controllable names, first order kept"
    assert settings.controllable_anatomy_size[0] == ("pancreas", 0.4)


def test_field_of_view_is_size_times_spacing_per_voxel_axis_rounded_to_micrometres() -> None:
    settings = _settings(output_size=[512, 3, 768], spacing_mm=[0.703125, 0.1, 0.667])
    assert settings.field_of_view_mm == (360.0, 0.3, 512.256)


def test_as_config_values_gives_back_upstreams_keys_and_json_values() -> None:
    assert _settings().as_config_values() == DEFAULT_CONFIG_INFER


def test_as_config_values_writes_controllable_sizes_as_pairs_and_the_split_count_only_when_set() -> None:
    values = _settings(controllable_anatomy_size=[["liver", 0.5]], autoencoder_tp_num_splits=4).as_config_values()
    assert values["controllable_anatomy_size"] == [["liver", 0.5]] and values["autoencoder_tp_num_splits"] == 4
    assert json.loads(json.dumps(values)) == values
    assert "autoencoder_tp_num_splits" not in _settings().as_config_values()
    assert set(values) <= ALLOWED_OVERRIDE_KEYS


@pytest.mark.parametrize("changes", [{"spacing": [1.0, 1.0, 1.0]}, {"output_size": [256, 256]},
                                     {"controllable_anatomy_size": [["liver"]]}],
                         ids=["upstream-spelling", "two-axes", "size-without-value"])
def test_settings_refuse_an_unknown_key_or_a_value_of_the_wrong_shape(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match=next(iter(changes))):
        _settings(**changes)
