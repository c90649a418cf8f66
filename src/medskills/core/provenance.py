"""What ran, recorded for evidence: upstream commit, weight hashes, package versions, device."""

from __future__ import annotations

import json
import logging
import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from medskills.core.io import sha256_file, write_text_atomic
from medskills.core.models import Provenance, WeightFile

__all__ = [
    "DeviceInfo",
    "GitState",
    "collect_provenance",
    "detect_device",
    "git_state",
    "hash_file_cached",
    "package_versions",
    "weight_inventory",
]

logger = logging.getLogger(__name__)

TRACKED_PACKAGES = ("numpy", "torch", "monai", "nibabel", "pydicom", "highdicom", "lightgbm", "medskills")


@dataclass(frozen=True)
class DeviceInfo:
    """The compute device as torch sees it. ``import_error`` is set when torch is not importable."""

    cuda_available: bool
    device_name: str | None = None
    total_memory_gb: float | None = None
    torch_version: str | None = None
    cuda_version: str | None = None
    import_error: str | None = None

    @property
    def device(self) -> str:
        """``"cuda"`` or ``"cpu"``."""
        return "cuda" if self.cuda_available else "cpu"


@dataclass(frozen=True)
class GitState:
    """A git checkout's HEAD commit and whether its tracked files differ from it."""

    commit: str | None
    is_dirty: bool | None


def detect_device() -> DeviceInfo:
    """Ask torch for CUDA. Imports torch lazily; a missing torch is reported, not raised."""
    try:
        import torch
    except ImportError as err:
        return DeviceInfo(cuda_available=False, import_error=f"torch is not importable: {err}")
    if not torch.cuda.is_available():
        return DeviceInfo(cuda_available=False, torch_version=torch.__version__)
    properties = torch.cuda.get_device_properties(0)
    return DeviceInfo(
        cuda_available=True,
        device_name=properties.name,
        total_memory_gb=round(properties.total_memory / 1024**3, 2),
        torch_version=torch.__version__,
        cuda_version=torch.version.cuda,
    )


def git_state(root: Path) -> GitState:
    """Return HEAD and the dirty flag of the checkout at ``root`` (``None`` fields if not a git checkout)."""
    def _git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            logger.debug("git %s failed in %s: %s", args, root, err)
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return GitState(commit=None, is_dirty=None)
    status = _git("status", "--porcelain", "--untracked-files=no")
    return GitState(commit=commit, is_dirty=None if status is None else bool(status))


def hash_file_cached(path: Path, cache_path: Path) -> str:
    """sha256 of ``path``, cached by (resolved path, size, mtime_ns) so large weights are hashed once.

    A corrupt or unreadable cache is ignored and rewritten, never trusted.
    """
    path = Path(path).resolve()
    stat = path.stat()
    key = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
    cache = _read_cache(cache_path)
    cached = cache.get(key)
    if isinstance(cached, str) and len(cached) == 64:
        return cached
    digest = sha256_file(path)
    stale = [k for k in cache if k.startswith(f"{path}|")]
    for old_key in stale:
        del cache[old_key]
    cache[key] = digest
    write_text_atomic(cache_path, json.dumps(cache, indent=1, sort_keys=True))
    return digest


def _read_cache(cache_path: Path) -> dict[str, str]:
    try:
        loaded = json.loads(Path(cache_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def weight_inventory(
    paths: list[Path], *, cache_path: Path, expected_sha256: dict[str, str] | None = None, hash_files: bool = True
) -> list[WeightFile]:
    """Describe each weight file: present, size, sha256 (cached) and whether it matches a pin.

    ``expected_sha256`` is keyed by file name (``Path.name``) or by the full path string.
    """
    pins = expected_sha256 or {}
    inventory: list[WeightFile] = []
    for path in paths:
        expected = pins.get(str(path)) or pins.get(Path(path).name)
        if not Path(path).is_file():
            inventory.append(WeightFile(path=path, is_present=False, expected_sha256=expected))
            continue
        digest = hash_file_cached(path, cache_path) if hash_files else None
        inventory.append(
            WeightFile(
                path=path,
                is_present=True,
                bytes=Path(path).stat().st_size,
                sha256=digest,
                expected_sha256=expected,
                is_hash_match=None if expected is None or digest is None else digest == expected,
            )
        )
    return inventory


def package_versions(names: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str | None]:
    """Installed distribution versions (``None`` when not installed), without importing the packages."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def collect_provenance(
    *, upstream_root: Path | None, weights: list[WeightFile], device: DeviceInfo
) -> Provenance:
    """Assemble the provenance section of a run record."""
    state = git_state(upstream_root) if upstream_root is not None and upstream_root.is_dir() else GitState(None, None)
    return Provenance(
        upstream_root=upstream_root,
        upstream_commit=state.commit,
        upstream_dirty=state.is_dirty,
        weights=weights,
        python_version=platform.python_version(),
        package_versions=package_versions(),
        device=device.device,
        device_name=device.device_name,
    )
