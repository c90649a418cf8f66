"""Service settings: each from ``MEDSKILLS_<NAME>``, empty means unset, bounds refuse bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from medskills.triage.api import ServiceSettings


def test_variables_are_read_with_the_medskills_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEDSKILLS_QUEUE_SIZE", "9")
    monkeypatch.setenv("MEDSKILLS_API_KEY", "k-123")
    monkeypatch.setenv("MEDSKILLS_WORK_DIR", str(tmp_path))
    settings = ServiceSettings()
    assert settings.queue_size == 9 and settings.work_dir == tmp_path
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "k-123"
    assert "k-123" not in repr(settings)


def test_empty_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MEDSKILLS_API_KEY", "MEDSKILLS_PACK_DIR", "MEDSKILLS_ARCHIVE_DIR"):
        monkeypatch.setenv(name, "  ")
    settings = ServiceSettings()
    assert settings.api_key is None and settings.pack_dir is None and settings.archive_dir is None


def test_archive_limits_carry_the_upload_and_zip_caps() -> None:
    limits = ServiceSettings(max_upload_bytes=100, zip_max_entries=7, zip_max_uncompressed_bytes=900,
                             zip_max_compression_ratio=3.0).archive_limits
    assert (limits.max_upload_bytes, limits.max_entries, limits.max_uncompressed_bytes,
            limits.max_compression_ratio) == (100, 7, 900, 3.0)


@pytest.mark.parametrize(("name", "value"), [("MEDSKILLS_QUEUE_SIZE", "0"), ("MEDSKILLS_PORT", "70000"),
                                             ("MEDSKILLS_MIN_SLICES", "1")])
def test_out_of_range_values_are_refused_naming_the_field(monkeypatch: pytest.MonkeyPatch, name: str,
                                                          value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("MEDSKILLS_").lower()):
        ServiceSettings()
