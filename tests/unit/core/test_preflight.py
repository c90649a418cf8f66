from __future__ import annotations

import pytest

from medskills.core.errors import PreflightError, UsageError
from medskills.core.label_spaces import SegmentationModality
from medskills.core.preflight import PreflightCollector, check_gpu, check_unknown_keys, did_you_mean, parse_choice
from medskills.core.provenance import DeviceInfo
from medskills.core.settings import Settings


def test_collector_gathers_every_problem_before_raising() -> None:
    collector = PreflightCollector()
    collector.error("a", "first", field="x")
    collector.error("b", "second", field="y", fix="do z")
    collector.warning("c", "just a warning")
    with pytest.raises(PreflightError) as caught:
        collector.raise_if_invalid()
    assert len(caught.value.problems) == 2
    assert "do z" in caught.value.problems[1]


def test_readiness_errors_keep_the_request_valid() -> None:
    collector = PreflightCollector()
    collector.error("weights_missing", "no weights", blocks_request=False)
    report = collector.report()
    assert report.request_valid is True
    assert report.environment_ready is False
    collector.raise_if_invalid()  # readiness problems do not invalidate the request


def test_did_you_mean_suggests_the_closest_anatomy_name() -> None:
    assert did_you_mean("lung tumour", ["lung tumor", "liver", "bone lesion"])[0] == "lung tumor"


def test_did_you_mean_returns_nothing_for_unrelated_words() -> None:
    assert did_you_mean("zzzzzzzzzz", ["liver", "spleen"]) == []


def test_unknown_keys_are_errors_with_suggestions_and_underscore_keys_are_comments() -> None:
    collector = PreflightCollector()
    check_unknown_keys(collector, ["_comment", "output_sise", "spacing"], ["output_size", "spacing"], where="CONFIG")
    report = collector.report()
    assert len(report.errors) == 1
    assert "output_size" in report.errors[0].message


def test_missing_gpu_is_a_readiness_error_by_default() -> None:
    collector = PreflightCollector()
    check_gpu(collector, Settings(), DeviceInfo(cuda_available=False), needed_for="rflow-ct")
    report = collector.report()
    assert [e.code for e in report.errors] == ["no_gpu"]
    assert report.request_valid and not report.environment_ready


def test_allow_no_gpu_turns_the_gpu_error_into_a_recorded_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDSKILLS_ALLOW_NO_GPU", "1")
    collector = PreflightCollector()
    check_gpu(collector, Settings(), DeviceInfo(cuda_available=False), needed_for="rflow-ct")
    report = collector.report()
    assert report.errors == []
    assert [w.code for w in report.warnings] == ["no_gpu_allowed"]


def test_parse_choice_returns_the_member() -> None:
    assert parse_choice(SegmentationModality, "MRI_BRAIN", where="--modality") is SegmentationModality.MRI_BRAIN


def test_parse_choice_refuses_with_where_every_choice_and_the_closest() -> None:
    with pytest.raises(UsageError) as caught:
        parse_choice(SegmentationModality, "CT_BODDY", where="--modality")
    message = str(caught.value)
    assert message.startswith("--modality 'CT_BODDY' is not one of ")
    assert all(member.value in message for member in SegmentationModality)
    assert "Did you mean 'CT_BODY'" in message
    assert caught.value.exit_code == 2
