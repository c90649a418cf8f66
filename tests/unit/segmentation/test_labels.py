"""Prompt resolution: names and ids, did-you-mean, refusals (0, deprecated incl. 155), subclass expansion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medskills.core.errors import InputError
from medskills.core.preflight import PreflightCollector
from medskills.segmentation.labels import (
    SegmentationModality,
    list_labels,
    load_label_sets,
    load_segmentation_labels,
    parse_prompt_tokens,
    resolve_prompts,
)


def _resolve(text: str | None, modality: SegmentationModality | None = SegmentationModality.CT_BODY):
    collector = PreflightCollector()
    resolution = resolve_prompts(text, modality=modality, labels=load_segmentation_labels(None),
                                 label_sets=load_label_sets(), collector=collector)
    return resolution, collector.report()


def _codes(report) -> list[str]:
    return [check.code for check in report.errors]


def test_everything_sets_have_the_documented_sizes_and_brain_is_disjoint() -> None:
    sets = load_label_sets().everything
    assert (len(sets[SegmentationModality.CT_BODY]), len(sets[SegmentationModality.MRI_BODY]),
            len(sets[SegmentationModality.MRI_BRAIN])) == (117, 50, 132)
    assert max(sets[SegmentationModality.CT_BODY]) == 127
    assert sets[SegmentationModality.MRI_BRAIN] == tuple(range(214, 346))
    body = set(sets[SegmentationModality.CT_BODY]) | set(sets[SegmentationModality.MRI_BODY])
    assert not set(sets[SegmentationModality.MRI_BRAIN]) & body
    assert len(set(sets[SegmentationModality.CT_BODY]) & set(sets[SegmentationModality.MRI_BODY])) == 46


def test_names_resolve_case_insensitively_and_ids_pass_through() -> None:
    resolution, report = _resolve("Liver, SPLEEN ,14")
    assert report.request_valid
    assert resolution.requested_ids == [1, 3, 14]
    assert resolution.name_to_id == {"Liver": 1, "SPLEEN": 3}
    assert resolution.allowed_output_ids == [1, 3, 14]


def test_blank_tokens_are_dropped_and_no_prompt_means_everything() -> None:
    assert parse_prompt_tokens(" 3, ,14,") == ["3", "14"]
    resolution, report = _resolve(None, SegmentationModality.MRI_BODY)
    assert report.request_valid and resolution.is_everything
    assert resolution.allowed_output_ids == list(load_label_sets().everything[SegmentationModality.MRI_BODY])


def test_misspelled_name_is_refused_with_a_did_you_mean() -> None:
    _, report = _resolve("livr")
    assert _codes(report) == ["prompt_unknown_name"]
    assert "Did you mean 'liver'" in report.errors[0].message


@pytest.mark.parametrize("token", ["²", "٣", "-²"], ids=["superscript-two", "arabic-three", "negative-superscript"])
def test_a_token_of_unicode_digits_is_an_unknown_name_not_a_crash(token: str) -> None:
    _, report = _resolve(token)
    assert _codes(report) == ["prompt_unknown_name"]


@pytest.mark.parametrize(("token", "code"), [
    ("0", "prompt_background"),
    ("155", "prompt_untrained"),
    ("16", "prompt_untrained"),
    ("ascending aorta (deprecated)", "prompt_untrained"),
    ("512", "prompt_unknown_id"),
    ("400", "prompt_unknown_id"),
    ("-3", "prompt_unknown_id"),
])
def test_unpromptable_ids_are_refused(token: str, code: str) -> None:
    resolution, report = _resolve(token)
    assert _codes(report) == [code]
    assert resolution.requested_ids == []


def test_every_bad_token_is_reported_at_once() -> None:
    _, report = _resolve("0,livr,155,spleen")
    assert _codes(report) == ["prompt_background", "prompt_unknown_name", "prompt_untrained"]


@pytest.mark.parametrize(("token", "expected"), [
    ("2", [5, 14]),
    ("kidney", [5, 14]),
    ("20", [28, 29, 30, 31, 32]),
])
def test_subclass_keys_expand_before_the_run(token: str, expected: list[int]) -> None:
    resolution, report = _resolve(token)
    assert report.request_valid
    assert resolution.requested_ids == [int(token)] if token.isdigit() else [2]
    assert resolution.expanded_ids == expected
    assert resolution.allowed_output_ids == expected


def test_bone_key_21_expands_to_62_ids() -> None:
    resolution, _ = _resolve("21")
    assert len(resolution.expanded_ids) == 62 and 21 not in resolution.expanded_ids


def test_duplicate_prompts_warn_and_are_used_once() -> None:
    resolution, report = _resolve("3,spleen")
    assert resolution.requested_ids == [3]
    assert [w.code for w in report.warnings] == ["prompt_duplicate"]


def test_class_without_training_for_the_modality_warns() -> None:
    _, report = _resolve("brain tumor", SegmentationModality.CT_BODY)
    assert report.request_valid
    assert [w.code for w in report.warnings] == ["prompt_not_trained_for_modality"]


def test_bundle_label_dictionary_is_preferred_when_present(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "label_dict.json").write_text(json.dumps({
        "liver": {"index": 1, "datasets": ["CT"]}, "renamed spleen": {"index": 3, "datasets": ["CT"]}}))
    labels = load_segmentation_labels(tmp_path)
    assert labels.source == str(configs / "label_dict.json")
    assert labels.id_for_name("Renamed Spleen") == 3 and labels.id_for_name("spleen") is None


def test_unparseable_bundle_label_dictionary_is_an_error_not_a_silent_fallback(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "label_dict.json").write_text("{not json")
    with pytest.raises(InputError, match="label_dict.json"):
        load_segmentation_labels(tmp_path)


def test_listing_filters_by_modality_and_name() -> None:
    listing = list_labels(load_segmentation_labels(None), modality=SegmentationModality.CT_BODY, name_filter="kidney")
    assert {row.label_id for row in listing.labels} == {5, 14, 116, 117}
    assert all(SegmentationModality.CT_BODY in row.in_everything_sets for row in listing.labels)


def test_without_label_dict_names_come_from_metadata_channel_def_and_datasets_from_the_package(
    bundle_layout: Path,
) -> None:
    (bundle_layout / "configs" / "label_dict.json").unlink()
    metadata_path = bundle_layout / "configs" / "metadata.json"
    metadata = json.loads(metadata_path.read_text())
    metadata["network_data_format"]["outputs"]["pred"]["channel_def"]["3"] = "spleen (bundle name)"
    metadata_path.write_text(json.dumps(metadata))
    labels = load_segmentation_labels(bundle_layout)
    assert labels.is_label_dict_missing and str(metadata_path) in labels.source
    assert labels.name_of(3) == "spleen (bundle name)" and labels.id_for_name("liver") == 1
    packaged = load_segmentation_labels(None)
    assert labels.datasets == packaged.datasets and labels.is_trained(3, {})
