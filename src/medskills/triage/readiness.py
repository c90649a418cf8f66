"""Can this machine serve chest-CT triage? The model pack, its members, and the optional extras.

Read by ``medskills doctor``; nothing is imported from the extras, only looked up, so the check is
cheap and works on a machine without them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from pydantic import Field

from medskills.core.errors import ModelPackError
from medskills.core.models import FrozenModel

__all__ = ["EXTRA_MODULES", "ServiceReadiness", "check_service_readiness"]

# The import names behind the extras the triage service uses (pyproject's optional dependencies).
EXTRA_MODULES = {
    "service": ("fastapi", "uvicorn", "multipart", "httpx", "openpyxl"),
    "models": ("torch", "monai", "lightgbm", "sklearn", "transformers", "safetensors"),
}


class ServiceReadiness(FrozenModel):
    """The pack as found (or why not), its members, and which extras lack which modules."""

    pack_dir: Path | None
    is_builtin_pack: bool = Field(default=False, description="No pack folder: the built-in pack (no stacker) serves.")
    pack_problem: str | None = Field(default=None, description="None when the pack loaded and verified.")
    model_version: str | None = None
    members: list[str] = Field(default_factory=list)
    has_stacker: bool = False
    missing_modules: dict[str, list[str]] = Field(default_factory=dict, description="extra -> missing imports")


def check_service_readiness(pack_dir: Path | None, *, is_builtin_allowed: bool = True) -> ServiceReadiness:
    """Load and verify the pack at ``pack_dir`` (hashes included) and look up the extras' modules.

    Without ``pack_dir`` the service serves the built-in pack unless ``is_builtin_allowed`` is off
    (``MEDSKILLS_BUILTIN_PACK=0``); its members are listed as it would load them, and the Astra
    weight file's hash is checked when the service loads it.
    """
    missing = {extra: [name for name in names if importlib.util.find_spec(name) is None]
               for extra, names in EXTRA_MODULES.items()}
    missing = {extra: names for extra, names in missing.items() if names}
    if pack_dir is None:
        if not is_builtin_allowed:
            return ServiceReadiness(pack_dir=None, missing_modules=missing)
        from medskills.triage.default_pack import default_manifest, is_astra_installed

        manifest = default_manifest(with_astra=is_astra_installed())
        return ServiceReadiness(pack_dir=None, is_builtin_pack=True, model_version=manifest.model_version,
                                members=[member.name for member in manifest.members], missing_modules=missing)
    from medskills.triage.pack import load_pack

    try:
        pack = load_pack(pack_dir, require_stacker=False)
    except ModelPackError as err:
        return ServiceReadiness(pack_dir=pack_dir, pack_problem=str(err), missing_modules=missing)
    manifest = pack.manifest
    return ServiceReadiness(pack_dir=pack.root, model_version=manifest.model_version,
                            members=[member.name for member in manifest.members],
                            has_stacker=manifest.stacker is not None, missing_modules=missing)
