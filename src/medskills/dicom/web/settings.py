"""Where the DICOMweb server is and how to reach it, from ``MEDSKILLS_DICOMWEB_*`` variables."""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from medskills.core.errors import UsageError

__all__ = ["DicomWebSettings", "load_dicomweb_settings"]


class DicomWebSettings(BaseSettings):
    """Server URL, credentials and the timeout/retry budget of every request.

    Variables: ``MEDSKILLS_DICOMWEB_URL``, ``MEDSKILLS_DICOMWEB_USERNAME``, ``MEDSKILLS_DICOMWEB_PASSWORD``,
    ``MEDSKILLS_DICOMWEB_TIMEOUT_SECONDS``, ``MEDSKILLS_DICOMWEB_MAX_ATTEMPTS``,
    ``MEDSKILLS_DICOMWEB_BACKOFF_SECONDS``, ``MEDSKILLS_DICOMWEB_STORE_RESULTS``. The password is a
    ``SecretStr``: it never appears in a record, a log line or ``repr``.
    """

    model_config = SettingsConfigDict(env_prefix="MEDSKILLS_DICOMWEB_", frozen=True, extra="ignore")

    url: str = Field(default="", description="DICOMweb root, e.g. http://pacs:8042/dicom-web")
    username: str | None = None
    password: SecretStr | None = None
    timeout_seconds: float = Field(default=30.0, gt=0, description="Connect and read timeout of one request.")
    max_attempts: int = Field(default=3, ge=1, le=10, description="Attempts per request, the first included.")
    backoff_seconds: float = Field(default=0.5, ge=0, description="Backoff factor: waits grow 1x, 2x, 4x ...")
    store_results: bool = Field(default=False, description="Service default for /predict_study's store_results.")

    @field_validator("url")
    @classmethod
    def _http_url_without_credentials(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"MEDSKILLS_DICOMWEB_URL must start with http:// or https:// (got {value!r})")
        if "@" in value.split("://", 1)[-1].split("/", 1)[0]:
            raise ValueError("MEDSKILLS_DICOMWEB_URL must not carry credentials; set "
                             "MEDSKILLS_DICOMWEB_USERNAME and MEDSKILLS_DICOMWEB_PASSWORD instead")
        return value

    @property
    def is_configured(self) -> bool:
        return bool(self.url)


def load_dicomweb_settings(url: str | None = None) -> DicomWebSettings:
    """Read ``MEDSKILLS_DICOMWEB_*`` once at the edge; ``url`` (``--dicomweb``) overrides the variable.

    Raises:
        UsageError: a value is invalid (the message names the variable, never the password).
    """
    try:
        settings = DicomWebSettings()
        return DicomWebSettings.model_validate({**dict(settings), "url": url}) if url is not None else settings
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors())
        raise UsageError(f"DICOMweb settings are invalid ({problems}); fix --dicomweb or the "
                         "MEDSKILLS_DICOMWEB_* variables") from err
