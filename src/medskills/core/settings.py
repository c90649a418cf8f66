"""Process-wide settings, read once at the edge (CLI callback or app factory) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "load_settings"]

_WORKBENCH = Path(".workbench_data") / "upstreams"


class Settings(BaseSettings):
    """Settings from ``MEDSKILLS_*`` variables; upstream roots keep their historical names.

    ``nv_generate_root`` and ``nv_segment_ctmr_root`` are read from ``NV_GENERATE_ROOT`` and
    ``NV_SEGMENT_CTMR_ROOT``. When unset, the fallbacks under ``.workbench_data/upstreams`` (relative
    to ``workbench_dir``) are used.
    """

    model_config = SettingsConfigDict(env_prefix="MEDSKILLS_", frozen=True, extra="ignore")

    nv_generate_root: Path | None = Field(
        default=None, validation_alias=AliasChoices("NV_GENERATE_ROOT", "MEDSKILLS_NV_GENERATE_ROOT")
    )
    nv_segment_ctmr_root: Path | None = Field(
        default=None, validation_alias=AliasChoices("NV_SEGMENT_CTMR_ROOT", "MEDSKILLS_NV_SEGMENT_CTMR_ROOT")
    )
    monai_data_directory: Path | None = Field(
        default=None, validation_alias=AliasChoices("MONAI_DATA_DIRECTORY", "MEDSKILLS_MONAI_DATA_DIRECTORY")
    )
    workbench_dir: Path = Field(default=Path("."), description="Folder holding .workbench_data/.")
    allow_no_gpu: bool = Field(
        default=False,
        description="MEDSKILLS_ALLOW_NO_GPU=1 turns the missing-CUDA error into a recorded warning.",
    )
    weight_hash_cache: Path = Field(
        default=Path.home() / ".cache" / "medskills" / "sha256_cache.json",
        description="Cache of weight-file hashes keyed by path, size and mtime.",
    )

    @field_validator("nv_generate_root", "nv_segment_ctmr_root", "monai_data_directory", mode="before")
    @classmethod
    def _empty_means_unset(cls, value: object) -> object:
        """``NV_GENERATE_ROOT=`` (empty) means unset, not the current folder."""
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def default_nv_generate_root(self) -> Path:
        """The fallback NV-Generate-CTMR clone location."""
        return (self.workbench_dir / _WORKBENCH / "NV-Generate-CTMR").absolute()

    @property
    def default_nv_segment_ctmr_root(self) -> Path:
        """The fallback NV-Segment-CTMR bundle location (the bundle is a sub-folder of the clone)."""
        return (self.workbench_dir / _WORKBENCH / "NV-Segment-CTMR" / "NV-Segment-CTMR").absolute()


def load_settings() -> Settings:
    """Read settings from the environment. Call once, at the edge."""
    return Settings()
