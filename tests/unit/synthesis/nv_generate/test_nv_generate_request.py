"""The request options every synth command shares, and what each command keeps its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from medskills.core.errors import UsageError
from medskills.synthesis.ct_from_mask.request import CTFromMaskRequest
from medskills.synthesis.ct_image.request import CTImageRequest
from medskills.synthesis.ct_mask.request import CTMaskRequest
from medskills.synthesis.mr_brain.request import MRBrainRequest
from medskills.synthesis.paired_ct.request import CTRunRequest


@pytest.mark.parametrize("request_type", [CTRunRequest, CTMaskRequest, CTImageRequest, MRBrainRequest])
def test_the_word_default_means_no_config_file(request_type: type, tmp_path: Path) -> None:
    assert request_type.from_cli("default", output_dir=tmp_path).config_path is None
    assert request_type.from_cli("my.json", output_dir=tmp_path).config_path == Path("my.json")


@pytest.mark.parametrize("request_type", [CTMaskRequest, CTImageRequest, MRBrainRequest])
def test_a_non_positive_timeout_is_refused(request_type: type, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="timeout_seconds"):
        request_type.from_cli("default", output_dir=tmp_path, timeout_seconds=0)


def test_paired_ct_states_a_bad_option_as_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="timeout_seconds"):
        CTRunRequest.from_cli("default", output_dir=tmp_path, timeout_seconds=-1)


def test_paired_ct_request_needs_its_config_argument(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="config_path"):
        CTRunRequest(output_dir=tmp_path)


def test_per_command_defaults_are_kept(tmp_path: Path) -> None:
    assert MRBrainRequest(output_dir=tmp_path).random_seed == 1234
    assert CTMaskRequest(output_dir=tmp_path).random_seed == 0
    assert not hasattr(CTMaskRequest(output_dir=tmp_path), "has_summary_card")
    from_mask = CTFromMaskRequest(output_dir=tmp_path, request_path=tmp_path / "r.json")
    assert from_mask.timeout_seconds == 3600.0 and not from_mask.is_cost_confirmed
