"""Override loading and the command-line request."""

from __future__ import annotations

import pytest

from medskills.core.errors import UsageError
from medskills.synthesis.nv_generate.ct_inference import CTVersion
from medskills.synthesis.paired_ct.request import CTRunRequest, load_overrides


def test_default_means_no_overrides_and_comment_keys_are_dropped(tmp_path):
    assert load_overrides(None) == {}
    path = tmp_path / "c.json"
    path.write_text('{"_note": "x", "anatomy_list": ["liver"]}')
    assert load_overrides(path) == {"anatomy_list": ["liver"]}


@pytest.mark.parametrize("content, message", [("[1, 2]", "JSON object"), ("{bad", "not valid JSON")])
def test_bad_override_files_are_usage_errors(tmp_path, content, message):
    path = tmp_path / "c.json"
    path.write_text(content)
    with pytest.raises(UsageError, match=message):
        load_overrides(path)


def test_missing_override_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        load_overrides(tmp_path / "absent.json")


def test_from_cli_maps_default_and_rejects_bad_options(tmp_path):
    request = CTRunRequest.from_cli("default", output_dir=tmp_path, version="ddpm-ct")
    assert request.config_path is None and request.version is CTVersion.DDPM_CT
    with pytest.raises(UsageError, match="timeout_seconds"):
        CTRunRequest.from_cli("default", output_dir=tmp_path, timeout_seconds=0)
