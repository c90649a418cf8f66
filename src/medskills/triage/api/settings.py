"""Service settings from ``MEDSKILLS_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from medskills.dicom.archive import GIB, ArchiveLimits
from medskills.triage.series_policy import DEFAULT_MIN_SLICES

__all__ = ["ServiceSettings"]


class ServiceSettings(BaseSettings):
    """Everything the triage service can be told, each from ``MEDSKILLS_<NAME>``.

    ``archive_dir`` keeps a copy of every successfully analysed upload: the copies hold PHI
    (patient names, IDs, dates). It is off unless set; set a retention policy when you turn it on.
    """

    model_config = SettingsConfigDict(env_prefix="MEDSKILLS_", frozen=True, extra="ignore")

    api_key: SecretStr | None = Field(default=None, description="When set, every predict request needs X-API-Key.")
    pack_dir: Path | None = Field(default=None, description="Model pack folder; without it the built-in pack "
                                   "answers with measurements and no probability.")
    builtin_pack: bool = Field(default=True, description="Without pack_dir, serve the built-in pack (qct, and Astra "
                               "when installed): measurements, no probability. False: not ready until a pack is set.")
    max_upload_bytes: int = Field(default=2 * GIB, gt=0, description="Largest accepted upload (413 above).")
    zip_max_entries: int = Field(default=20_000, gt=0, description="Most entries a ZIP may hold.")
    zip_max_uncompressed_bytes: int = Field(default=8 * GIB, gt=0, description="Largest total uncompressed size.")
    zip_max_compression_ratio: float = Field(default=200.0, gt=1.0, description="Largest uncompressed/compressed ratio.")
    queue_size: int = Field(default=4, ge=1, le=1000, description="Studies waiting or running before 503.")
    retry_after_seconds: int = Field(default=30, ge=1, description="Retry-After sent with a 503.")
    min_slices: int = Field(default=DEFAULT_MIN_SLICES, ge=2, description="Fewest slices a usable series has.")
    work_dir: Path | None = Field(default=None, description="Where temporary upload folders go (system temp if unset).")
    archive_dir: Path | None = Field(default=None, description="Copy of each analysed upload. STORES PHI. Off by default.")
    host: str = Field(default="127.0.0.1", description="Address `medskills triage serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535)

    @field_validator("api_key", mode="before")
    @classmethod
    def _empty_key_means_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("pack_dir", "work_dir", "archive_dir", mode="before")
    @classmethod
    def _empty_path_means_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def archive_limits(self) -> ArchiveLimits:
        """The upload and ZIP caps as the DICOM layer takes them."""
        return ArchiveLimits(
            max_upload_bytes=self.max_upload_bytes,
            max_entries=self.zip_max_entries,
            max_uncompressed_bytes=self.zip_max_uncompressed_bytes,
            max_compression_ratio=self.zip_max_compression_ratio,
        )
