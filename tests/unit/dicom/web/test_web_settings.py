"""``MEDSKILLS_DICOMWEB_*`` settings: read once, ``--dicomweb`` overrides, bad values name the variable."""

from __future__ import annotations

import pytest

from medskills.core.errors import UsageError
from medskills.dicom.web import load_dicomweb_settings


def test_variables_are_read_and_the_url_loses_its_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDSKILLS_DICOMWEB_URL", "http://pacs:8042/dicom-web/")
    monkeypatch.setenv("MEDSKILLS_DICOMWEB_USERNAME", "reader")
    monkeypatch.setenv("MEDSKILLS_DICOMWEB_PASSWORD", "s3cret-value")
    monkeypatch.setenv("MEDSKILLS_DICOMWEB_MAX_ATTEMPTS", "5")
    settings = load_dicomweb_settings()
    assert settings.url == "http://pacs:8042/dicom-web" and settings.is_configured
    assert settings.username == "reader" and settings.max_attempts == 5
    assert settings.password is not None and settings.password.get_secret_value() == "s3cret-value"
    assert "s3cret-value" not in repr(settings)


def test_the_flag_overrides_the_variable_and_keeps_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDSKILLS_DICOMWEB_URL", "http://pacs:8042/dicom-web")
    monkeypatch.setenv("MEDSKILLS_DICOMWEB_TIMEOUT_SECONDS", "4")
    settings = load_dicomweb_settings("https://other:443/wado")
    assert settings.url == "https://other:443/wado" and settings.timeout_seconds == 4.0


def test_nothing_set_is_not_configured() -> None:
    assert not load_dicomweb_settings().is_configured


@pytest.mark.parametrize(("url", "needle"), [
    ("pacs:8042/dicom-web", "must start with http:// or https://"),
    ("http://reader:s3cret-value@pacs:8042/dicom-web", "MEDSKILLS_DICOMWEB_PASSWORD instead"),
])
def test_a_bad_url_is_a_usage_error_naming_the_variable(url: str, needle: str) -> None:
    with pytest.raises(UsageError) as caught:
        load_dicomweb_settings(url)
    message = str(caught.value)
    assert needle in message and "MEDSKILLS_DICOMWEB_" in message and "s3cret-value" not in message


def test_an_out_of_range_attempt_count_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDSKILLS_DICOMWEB_MAX_ATTEMPTS", "0")
    with pytest.raises(UsageError, match="max_attempts"):
        load_dicomweb_settings()
