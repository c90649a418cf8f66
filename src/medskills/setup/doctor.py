"""``medskills doctor``: one table saying whether each skill can run on this machine, and how to fix it.

Package versions are read from installed metadata (no import); only torch is imported, to ask for
CUDA. Weight hashes go through the shared cache, so only the first doctor after a download hashes.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from medskills.core.assets import AssetKind, AssetManifest, SkillAssets, load_asset_manifest
from medskills.core.skills import SkillId
from medskills.core.provenance import DeviceInfo, detect_device, package_versions, weight_inventory
from medskills.core.settings import Settings
from medskills.setup.clone import clone_problems, inspect_clone
from medskills.setup.download import FreeBytes, free_bytes_at
from medskills.setup.models import DoctorReport, DoctorRow, RowStatus

__all__ = ["NO_CUDA_FIX", "has_nvidia_driver", "probe_device", "run_doctor", "runtime_root_of"]

SYNTHESIS = (SkillId.SYNTH_CT, SkillId.SYNTH_MR_BRAIN)
NO_CUDA_FIX = (
    "run on a machine with an NVIDIA GPU (check nvidia-smi) and a CUDA build of torch "
    "(pip install torch --index-url https://download.pytorch.org/whl/cu124); MEDSKILLS_ALLOW_NO_GPU=1 is only for "
    "the CPU stand-in upstream used in tests"
)
_TRUTHY = {"1", "true", "yes", "on"}


def run_doctor(
    *,
    settings: Settings,
    skill: SkillId | None = None,
    device_probe: Callable[[], DeviceInfo] | None = None,
    free_bytes: FreeBytes = free_bytes_at,
    hash_weights: bool = True,
    manifest: AssetManifest | None = None,
    extra_rows: Sequence[DoctorRow] = (),
) -> DoctorReport:
    """Check this machine for ``skill`` (or every skill); the report's exit code is 1 when any row fails.

    ``manifest`` replaces the packaged one (tests point it at a local clone); ``extra_rows`` are checks
    of other capabilities (the triage service), which the command line gathers.
    """
    started = time.perf_counter()
    manifest = manifest or load_asset_manifest()
    skills = [skill] if skill is not None else list(manifest.skills)
    versions = package_versions(("numpy", "monai", "nibabel", "pydicom", "huggingface_hub"))
    rows = [_python_row(skills)]
    device = (device_probe or probe_device)()
    rows += [_torch_row(device, skills), _gpu_row(device, skills, settings=settings)]
    rows += _package_rows(versions, skills)
    for entry in (manifest.skills[s] for s in skills):
        rows += _skill_rows(entry, settings=settings, hash_weights=hash_weights)
    rows.append(_disk_row(skills, manifest_skills=manifest.skills, settings=settings, free_bytes=free_bytes))
    rows.append(_offline_row())
    rows += list(extra_rows)
    can_run = {s: not any(r.status == RowStatus.FAIL and s in r.blocks for r in rows) for s in skills}
    exit_code = 1 if any(row.status == RowStatus.FAIL for row in rows) else 0
    return DoctorReport(skills=skills, rows=rows, can_run=can_run,
                        elapsed_seconds=round(time.perf_counter() - started, 3), exit_code=exit_code)


def has_nvidia_driver() -> bool:
    """True when an NVIDIA kernel driver or nvidia-smi exists; without one CUDA cannot be available."""
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


def probe_device() -> DeviceInfo:
    """Ask torch for CUDA, but skip the 2 s torch import when no NVIDIA driver is installed at all."""
    if has_nvidia_driver():
        return detect_device()
    torch_version = package_versions(("torch",))["torch"]
    if torch_version is None:
        return DeviceInfo(cuda_available=False, import_error="torch is not installed")
    return DeviceInfo(cuda_available=False, torch_version=torch_version)


def runtime_root_of(entry: SkillAssets, settings: Settings) -> Path:
    """The runtime root a skill will use: its environment variable, else the settings fallback."""
    if entry.upstream.root_env_var == "NV_SEGMENT_CTMR_ROOT":
        return settings.nv_segment_ctmr_root or settings.default_nv_segment_ctmr_root
    return settings.nv_generate_root or settings.default_nv_generate_root


def _row(area: str, name: str, detail: str, *, fail_for: Iterable[SkillId] = (), warn: bool = False,
         fix: str | None = None) -> DoctorRow:
    blocks = sorted(set(fail_for))
    status = RowStatus.FAIL if blocks else RowStatus.WARN if warn else RowStatus.OK
    return DoctorRow(area=area, name=name, status=status, detail=detail, fix=fix if status != RowStatus.OK else None,
                     blocks=blocks)


def _python_row(skills: list[SkillId]) -> DoctorRow:
    version = platform.python_version()
    too_old = sys.version_info < (3, 10)
    return _row("runtime", "python", f"{version} ({sys.executable})", fail_for=skills if too_old else (),
                warn=sys.version_info < (3, 11), fix="use Python 3.11 or newer (upstream tooling needs >= 3.11)")


def _torch_row(device: DeviceInfo, skills: list[SkillId]) -> DoctorRow:
    if device.import_error:
        return _row("runtime", "torch", device.import_error, fail_for=skills,
                    fix='pip install "medskills[models]" (torch >= 2.1, monai >= 1.5)')
    cuda_build = device.cuda_version or ("none" if device.cuda_available or "+cpu" in (device.torch_version or "")
                                         else "not checked")
    return _row("runtime", "torch", f"{device.torch_version} (CUDA build: {cuda_build})")


def _gpu_row(device: DeviceInfo, skills: list[SkillId], *, settings: Settings) -> DoctorRow:
    if device.cuda_available:
        vram = device.total_memory_gb or 0.0
        return _row("runtime", "CUDA / GPU", f"{device.device_name}, {vram:.1f} GB VRAM",
                    warn=vram < 16, fix="synthesis at the default sizes wants >= 16 GB VRAM; use smaller outputs")
    reason = device.import_error or ("torch.cuda.is_available() is False" if has_nvidia_driver()
                                     else "no NVIDIA driver: no /proc/driver/nvidia/version, no nvidia-smi")
    synth = [s for s in skills if s in SYNTHESIS]
    if settings.allow_no_gpu:
        return _row("runtime", "CUDA / GPU", f"no CUDA ({reason}); MEDSKILLS_ALLOW_NO_GPU=1 lets synthesis go ahead",
                    warn=True, fix=NO_CUDA_FIX)
    detail = f"no CUDA ({reason}). NV-Generate-CTMR has no CPU path; NV-Segment-CTMR runs on CPU, slowly"
    return _row("runtime", "CUDA / GPU", detail, fail_for=synth, warn=True, fix=NO_CUDA_FIX)


def _version_tuple(text: str) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def _package_rows(versions: dict[str, str | None], skills: list[SkillId]) -> list[DoctorRow]:
    synth = [s for s in skills if s in SYNTHESIS]
    rows: list[DoctorRow] = []
    numpy = versions["numpy"]
    if numpy is None:
        rows.append(_row("packages", "numpy", "not installed", fail_for=skills, fix='pip install "numpy>=2"'))
    else:
        trap = (1, 24) <= _version_tuple(numpy)[:2] < (2, 0)
        rows.append(_row("packages", "numpy", numpy + (" (np.long removed: upstream crashes)" if trap else ""),
                         fail_for=synth if trap else (), warn=trap, fix='pip install "numpy>=2"'))
    monai = versions["monai"]
    if monai is None:
        rows.append(_row("packages", "monai", "not installed", fail_for=skills, fix='pip install "monai>=1.5"'))
    else:
        old = _version_tuple(monai)[:2] < (1, 5)
        rows.append(_row("packages", "monai", monai + (" (< 1.5: no RFlowScheduler)" if old else ""),
                         fail_for=synth if old else (), warn=old, fix='pip install "monai>=1.5"'))
    for name, fix in (("nibabel", "pip install nibabel"), ("pydicom", 'pip install "pydicom>=3"')):
        found = versions[name]
        old = found is not None and name == "pydicom" and _version_tuple(found)[:1] < (3,)
        rows.append(_row("packages", name, found or "not installed", fail_for=skills if found is None else (),
                         warn=old, fix=fix))
    hub = versions["huggingface_hub"]
    rows.append(_row("packages", "huggingface_hub", hub or "not installed (only medskills setup needs it)",
                     warn=hub is None, fix='pip install "medskills[setup]"'))
    return rows


def _skill_rows(entry: SkillAssets, *, settings: Settings, hash_weights: bool) -> list[DoctorRow]:
    skill = entry.skill
    root = runtime_root_of(entry, settings)
    version = entry.version()
    setup_fix = f"medskills setup {skill.value} --root <dir>, then export {entry.upstream.root_env_var}"
    if not root.is_dir():
        return [_row(skill.value, "upstream", f"{entry.upstream.root_env_var} -> {root} does not exist",
                     fail_for=[skill], fix=setup_fix)]
    clone_dir = root.parent if entry.upstream.bundle_subdir else root
    inspection = inspect_clone(clone_dir, pinned_commit=version.upstream_commit)
    if inspection.head_commit is None:
        rows = [_row(skill.value, "upstream", f"{clone_dir} exists but is not a git clone", fail_for=[skill],
                     fix=f"move {clone_dir} away, then {setup_fix}")]
        return [*rows, *_asset_rows(entry, root, settings=settings, hash_weights=hash_weights)]
    problems = clone_problems(clone_dir, inspection, url=entry.upstream.url, pinned_commit=version.upstream_commit)
    detail = f"{root} @ {inspection.head_commit[:12]}, dirty={inspection.is_dirty}"
    rows = [_row(skill.value, "upstream", detail if not problems else f"{detail}; {problems[0]}",
                 fail_for=[] if inspection.contains_pin else [skill], warn=bool(problems),
                 fix=" | ".join(problems) or None)]
    return [*rows, *_asset_rows(entry, root, settings=settings, hash_weights=hash_weights)]


def _asset_rows(entry: SkillAssets, root: Path, *, settings: Settings, hash_weights: bool) -> list[DoctorRow]:
    skill, version = entry.skill, entry.version()
    rows = [_weights_row(entry, root, settings=settings, hash_weights=hash_weights)]
    dataset_files = [f for f in version.files if f.kind == AssetKind.DATASET]
    if dataset_files:
        data_root = settings.monai_data_directory or root
        missing = [f.target for f in dataset_files if not (data_root / f.target).is_file()]  # upstream checks the zip
        rows.append(_row(skill.value, "datasets", f"{len(dataset_files) - len(missing)}/{len(dataset_files)} under "
                         f"{data_root}" + (f"; missing {', '.join(missing)}" if missing else ""),
                         fail_for=[skill] if missing else (),
                         fix=f"medskills setup {skill.value}, then export MONAI_DATA_DIRECTORY={data_root}"))
    return rows


def _weights_row(entry: SkillAssets, root: Path, *, settings: Settings, hash_weights: bool) -> DoctorRow:
    skill = entry.skill
    files = [root / f.target for f in entry.version().files if f.kind == AssetKind.WEIGHT]
    inventory = weight_inventory(files, cache_path=settings.weight_hash_cache,
                                 expected_sha256=entry.version().sha256_pins(), hash_files=hash_weights)
    missing = [w.path.name for w in inventory if not w.is_present]
    mismatched = [w.path.name for w in inventory if w.is_hash_match is False]
    verified = sum(1 for w in inventory if w.is_hash_match)
    detail = f"{len(files) - len(missing)}/{len(files)} present, {verified} match a sha256 pin"
    if missing:
        detail += f"; missing {', '.join(missing)}"
    if mismatched:
        detail += f"; sha256 mismatch {', '.join(mismatched)}"
    return _row(skill.value, "weights", detail, fail_for=[skill] if missing or mismatched else (),
                fix=f"move mismatched files away, then medskills setup {skill.value}")


def _disk_row(skills: list[SkillId], *, manifest_skills: dict[SkillId, SkillAssets], settings: Settings,
              free_bytes: FreeBytes) -> DoctorRow:
    missing: dict[Path, float] = {}
    probe = Path(".")
    for skill in skills:
        entry = manifest_skills[skill]
        probe = runtime_root_of(entry, settings)
        for asset in entry.version().files:
            base = probe if asset.kind == AssetKind.WEIGHT else settings.monai_data_directory or probe
            if not (base / asset.runtime_target).exists():
                missing[base / asset.runtime_target] = (asset.size_mb_approx + (asset.unpacked_size_mb_approx or 0)) * 1e6
    needed = sum(missing.values())
    free = free_bytes(probe)
    detail = f"{free / 1e9:.1f} GB free near {probe}; missing assets need about {needed / 1e9:.1f} GB"
    return _row("machine", "disk space", detail, warn=free < needed,
                fix="free space or choose --root on a larger disk before medskills setup")


def _offline_row() -> DoctorRow:
    value = os.environ.get("HF_HUB_OFFLINE", "")
    offline = value.strip().lower() in _TRUTHY
    return _row("machine", "HF offline mode", f"HF_HUB_OFFLINE={value or '(unset)'}", warn=not offline,
                fix="after setup, export HF_HUB_OFFLINE=1 so upstream does not contact the hub on every run")
