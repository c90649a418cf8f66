"""The one manifest of external assets per skill: upstream clone, weights, datasets, pins.

The data lives in package data (``medskills/data/assets.json``) so the pins are reviewed in one place
and shipped with the wheel. ``medskills setup`` reads it to clone and download; each skill's
preflight reads it for its weight inventory; ``medskills doctor`` reads it to check a machine.

Two roots matter, and every path helper takes the one it needs:

- the **runtime root**: where the upstream runs (CWD). For NV-Generate-CTMR it is the clone itself
  (``NV_GENERATE_ROOT``); for NV-Segment-CTMR it is the bundle folder inside the clone
  (``NV_SEGMENT_CTMR_ROOT`` = ``<clone>/NV-Segment-CTMR``). Weight targets (``models/…``) are
  relative to it.
- the **data root**: ``MONAI_DATA_DIRECTORY``. Dataset targets (``datasets/…``) are relative to it.
  Setup uses the runtime root as data root unless told otherwise.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import Field

from medskills.core.errors import UsageError
from medskills.core.models import FrozenModel
from medskills.core.preflight import suggestion_text
from medskills.core.skills import SkillId

__all__ = [
    "AssetFile",
    "AssetKind",
    "AssetManifest",
    "SkillAssets",
    "SkillVersion",
    "UpstreamRepo",
    "assets_for",
    "dataset_paths",
    "load_asset_manifest",
    "resolve_version",
    "runtime_root_for_clone",
    "sha256_pins",
    "skill_assets",
    "weight_paths",
]

_COMMIT_PATTERN = r"^[0-9a-f]{40}$"
_SHA256_PATTERN = r"^[0-9a-f]{64}$"



class AssetKind(StrEnum):
    """Weights live under the runtime root; datasets under the data root (MONAI_DATA_DIRECTORY)."""

    WEIGHT = "weight"
    DATASET = "dataset"


class UpstreamRepo(FrozenModel):
    """The upstream git repository a skill runs."""

    name: str
    url: str
    root_env_var: str = Field(description="Environment variable naming the runtime root.")
    bundle_subdir: str | None = Field(
        default=None, description="Runtime root relative to the clone (None: the clone itself)."
    )
    licence: str


class AssetFile(FrozenModel):
    """One file fetched from the Hugging Face hub at a pinned revision."""

    kind: AssetKind
    repo_id: str
    revision: str = Field(pattern=_COMMIT_PATTERN)
    filename: str = Field(description="Path of the file inside the hub repository.")
    target: str = Field(description="Where it lands, relative to the runtime root (weights) or data root.")
    size_mb_approx: float = Field(gt=0)
    sha256: str | None = Field(default=None, pattern=_SHA256_PATTERN)
    extract_dir: str | None = Field(
        default=None, description="For archives: the folder upstream reads, relative to the same root."
    )
    unpacked_size_mb_approx: float | None = Field(default=None, gt=0)
    licence: str
    note: str | None = None

    @property
    def is_archive(self) -> bool:
        """True when the file is a zip that must be extracted into ``extract_dir``."""
        return self.extract_dir is not None

    @property
    def runtime_target(self) -> str:
        """What upstream reads at run time: the extracted folder for archives, else the file."""
        return self.extract_dir or self.target

    @property
    def hub_url_hint(self) -> str:
        """The hub page whose licence must be accepted for gated repos."""
        return f"https://huggingface.co/{self.repo_id}"


class SkillVersion(FrozenModel):
    """One model version of a skill: its upstream pin and its files."""

    version: str
    upstream_commit: str = Field(pattern=_COMMIT_PATTERN)
    needs_cuda: bool
    files: list[AssetFile]

    def sha256_pins(self) -> dict[str, str]:
        """Known sha256 pins keyed by file name (the form ``weight_inventory`` accepts)."""
        return {Path(f.target).name: f.sha256 for f in self.files if f.sha256 is not None}


class SkillAssets(FrozenModel):
    """Everything external one skill needs."""

    skill: SkillId
    upstream: UpstreamRepo
    default_version: str
    versions: dict[str, SkillVersion]

    def version(self, name: str | None = None) -> SkillVersion:
        """The named version (the default when ``name`` is None); unknown names raise UsageError."""
        chosen = name or self.default_version
        if chosen not in self.versions:
            choices = list(self.versions)
            raise UsageError(
                f"Unknown version {chosen!r} for skill {self.skill.value}; choose one of {', '.join(choices)}."
                f"{suggestion_text(chosen, choices)}"
            )
        return self.versions[chosen]


class AssetManifest(FrozenModel):
    """The whole ``assets.json``."""

    schema_version: str
    skills: dict[SkillId, SkillAssets]


@lru_cache(maxsize=1)
def load_asset_manifest() -> AssetManifest:
    """Read and validate the packaged manifest (cached; it never changes at run time)."""
    text = resources.files("medskills").joinpath("data", "assets.json").read_text(encoding="utf-8")
    return AssetManifest.model_validate_json(text)


def skill_assets(skill: SkillId | str) -> SkillAssets:
    """The manifest entry of ``skill``; an unknown id raises UsageError with suggestions."""
    manifest = load_asset_manifest()
    try:
        return manifest.skills[SkillId(skill)]
    except ValueError as err:
        choices = [s.value for s in SkillId]
        raise UsageError(
            f"Unknown skill {skill!r}; choose one of {', '.join(choices)}.{suggestion_text(str(skill), choices)}"
        ) from err


def resolve_version(skill: SkillId | str, version: str | None = None) -> SkillVersion:
    """The named version of ``skill`` (its default when ``version`` is None)."""
    return skill_assets(skill).version(version)


def assets_for(skill: SkillId | str, version: str | None = None, *, kind: AssetKind | None = None) -> list[AssetFile]:
    """The files a version needs, optionally only weights or only datasets, in manifest order."""
    files = resolve_version(skill, version).files
    return [f for f in files if kind is None or f.kind == kind]


def weight_paths(skill: SkillId | str, version: str | None, root: Path) -> list[Path]:
    """Absolute weight paths under the runtime root ``root`` (what preflight inventories)."""
    return [Path(root) / f.target for f in assets_for(skill, version, kind=AssetKind.WEIGHT)]


def dataset_paths(skill: SkillId | str, version: str | None, data_root: Path) -> list[Path]:
    """Dataset paths upstream reads under ``data_root`` (extracted folders for archives)."""
    return [Path(data_root) / f.runtime_target for f in assets_for(skill, version, kind=AssetKind.DATASET)]


def sha256_pins(skill: SkillId | str, version: str | None = None) -> dict[str, str]:
    """Known sha256 pins keyed by file name, the form ``weight_inventory(expected_sha256=...)`` accepts."""
    return resolve_version(skill, version).sha256_pins()


def runtime_root_for_clone(skill: SkillId | str, clone_dir: Path) -> Path:
    """The runtime root inside a clone (the bundle folder for NV-Segment-CTMR)."""
    subdir = skill_assets(skill).upstream.bundle_subdir
    return Path(clone_dir) / subdir if subdir else Path(clone_dir)
