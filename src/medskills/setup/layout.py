"""Where setup puts things, what the user exports, and the mask-archive extraction upstream expects."""

from __future__ import annotations

import logging
import shlex
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from medskills.core.assets import AssetFile, AssetKind, SkillAssets, SkillVersion
from medskills.core.errors import EnvironmentProblem
from medskills.setup.download import FreeBytes, partial_path, require_free_space
from medskills.setup.models import FileAction, FileOutcome

__all__ = ["SetupLayout", "extract_archive", "missing_bytes_estimate"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SetupLayout:
    """The folders of one setup: the clone, the runtime root inside it, and the data root."""

    assets: SkillAssets
    version: SkillVersion
    clone_dir: Path
    data_root: Path

    @classmethod
    def plan(cls, assets: SkillAssets, version: SkillVersion, *, root: Path, data_root: Path | None) -> SetupLayout:
        """Clone under ``root``; datasets under ``data_root`` or, by default, the runtime root."""
        clone_dir = Path(root).absolute() / assets.upstream.name
        layout = cls(assets=assets, version=version, clone_dir=clone_dir, data_root=clone_dir)
        chosen = Path(data_root).absolute() if data_root is not None else layout.runtime_root
        return cls(assets=assets, version=version, clone_dir=clone_dir, data_root=chosen)

    @property
    def runtime_root(self) -> Path:
        """The folder upstream runs in (the bundle folder for NV-Segment-CTMR)."""
        subdir = self.assets.upstream.bundle_subdir
        return self.clone_dir / subdir if subdir else self.clone_dir

    def destination(self, asset: AssetFile) -> Path:
        """Where the downloaded file lands."""
        base = self.runtime_root if asset.kind == AssetKind.WEIGHT else self.data_root
        return base / asset.target

    def runtime_path(self, asset: AssetFile) -> Path:
        """What upstream reads at run time (the extracted folder for archives)."""
        base = self.runtime_root if asset.kind == AssetKind.WEIGHT else self.data_root
        return base / asset.runtime_target

    def exports(self) -> list[str]:
        """The shell lines that point the skill and upstream at this layout, and keep runs offline."""
        lines = [f"export {self.assets.upstream.root_env_var}={shlex.quote(str(self.runtime_root))}"]
        if any(f.kind == AssetKind.DATASET for f in self.version.files):
            lines.append(f"export MONAI_DATA_DIRECTORY={shlex.quote(str(self.data_root))}")
        lines.append("export HF_HUB_OFFLINE=1")
        return lines


def missing_bytes_estimate(layout: SetupLayout) -> int:
    """Approximate bytes still to write: files not yet in place (minus partial bytes), plus unpacking."""
    total = 0.0
    for asset in layout.version.files:
        destination = layout.destination(asset)
        if not destination.is_file():
            partial = partial_path(destination)
            done = partial.stat().st_size if partial.is_file() else 0
            total += max(asset.size_mb_approx * 1e6 - done, 0)
        if asset.is_archive and asset.unpacked_size_mb_approx is not None and not layout.runtime_path(asset).is_dir():
            total += asset.unpacked_size_mb_approx * 1e6
    return int(total)


def extract_archive(asset: AssetFile, archive: Path, extract_dir: Path, *, free_bytes: FreeBytes) -> FileOutcome:
    """Unzip ``archive`` so that ``extract_dir`` exists, via a ``.partial`` folder renamed at the end."""
    if extract_dir.is_dir():
        return FileOutcome(repo_id=asset.repo_id, filename=asset.filename, path=extract_dir,
                           action=FileAction.ALREADY_EXTRACTED)
    staging = extract_dir.with_name(f".{extract_dir.name}.partial")
    if staging.exists():
        shutil.rmtree(staging)
    with zipfile.ZipFile(archive) as bundle:
        members = bundle.infolist()
        _reject_unsafe_members(archive, [m.filename for m in members])
        unpacked = sum(m.file_size for m in members)
        require_free_space(extract_dir, unpacked, free_bytes=free_bytes, what=f"unpacking {archive.name}")
        logger.info("Extracting %s (%d members) into %s", archive.name, len(members), extract_dir)
        try:
            bundle.extractall(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    inner = staging / extract_dir.name
    (inner if inner.is_dir() else staging).rename(extract_dir)
    if staging.exists():
        shutil.rmtree(staging)
    return FileOutcome(repo_id=asset.repo_id, filename=asset.filename, path=extract_dir,
                       action=FileAction.EXTRACTED, bytes=unpacked)


def _reject_unsafe_members(archive: Path, names: list[str]) -> None:
    unsafe = [n for n in names if PurePosixPath(n).is_absolute() or ".." in PurePosixPath(n).parts]
    if unsafe:
        raise EnvironmentProblem(f"{archive} has members outside its folder ({unsafe[:3]}); refusing to extract it. "
                                 f"Delete it and re-run setup.")
