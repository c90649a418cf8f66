"""Find the NV-Generate-CTMR clone: ``NV_GENERATE_ROOT``, else ``.workbench_data/upstreams/NV-Generate-CTMR``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from medskills.core.assets import skill_assets
from medskills.core.skills import SkillId
from medskills.core.settings import Settings

__all__ = ["UpstreamLocation", "is_nv_generate_root", "locate_nv_generate_root"]

_MARKERS = ("scripts/inference.py", "configs/config_infer.json")


@dataclass(frozen=True)
class UpstreamLocation:
    """The clone to run (``root``), or ``problem`` saying why none was found and how to get one."""

    root: Path | None
    source: str
    problem: str | None = None
    fix: str | None = None
    warning: str | None = None


def is_nv_generate_root(path: Path) -> bool:
    """True when ``path`` looks like an NV-Generate-CTMR checkout (entry point and configs present)."""
    return all((path / marker).is_file() for marker in _MARKERS)


def _missing_markers(path: Path) -> str:
    if not path.is_dir():
        return "does not exist"
    missing = [marker for marker in _MARKERS if not (path / marker).is_file()]
    return f"is not an NV-Generate-CTMR clone (missing {', '.join(missing)})"


def locate_nv_generate_root(settings: Settings) -> UpstreamLocation:
    """Resolve the runtime root: ``NV_GENERATE_ROOT`` when it passes the layout check, else the repo-local clone.

    A set but failing ``NV_GENERATE_ROOT`` (a stale clone) falls back to the repo-local clone when that
    one passes, with a ``warning`` naming both; never silently. When neither passes it is a ``problem``.
    """
    default = settings.default_nv_generate_root
    if settings.nv_generate_root is not None:
        chosen = Path(settings.nv_generate_root).expanduser().absolute()
        if is_nv_generate_root(chosen):
            return UpstreamLocation(root=chosen, source="NV_GENERATE_ROOT")
        described = f"NV_GENERATE_ROOT={chosen} {_missing_markers(chosen)}"
        if is_nv_generate_root(default):
            return UpstreamLocation(root=default, source="default", warning=(
                f"{described} (a stale clone?); using the repo-local clone {default} instead. Unset "
                f"NV_GENERATE_ROOT or point it at {default} to silence this."))
    elif is_nv_generate_root(default):
        return UpstreamLocation(root=default, source="default")
    else:
        described = "NV_GENERATE_ROOT is not set"
    upstream = skill_assets(SkillId.SYNTH_CT).upstream
    problem = (f"NV-Generate-CTMR upstream not found: {described}, and the default location {default} "
               f"{_missing_markers(default)}.")
    fix = (f"run `medskills setup synth-ct` (clones {upstream.url} at the pinned commit into {default} and "
           f"downloads weights and datasets), or clone it yourself (`git clone {upstream.url} <dir>`) and "
           "`export NV_GENERATE_ROOT=<dir>`")
    return UpstreamLocation(root=None, source="none", problem=problem, fix=fix)
