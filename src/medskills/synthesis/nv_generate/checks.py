"""NV-Generate-CTMR specifics shared by the five synthesis commands: root, pinned commit, weights, configs, env.

The generic run lifecycle (output folder, refusals, outcome, record, card) lives in ``core.run``.

Every readiness problem (no upstream, missing weights, hash mismatch) is collected with
``blocks_request=False``, so ``--preflight-only`` still validates a request on a bare machine.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from medskills.core.assets import resolve_version, sha256_pins, weight_paths
from medskills.core.skills import SkillId
from medskills.core.errors import EnvironmentProblem
from medskills.core.models import WeightFile
from medskills.core.preflight import PreflightCollector
from medskills.core.provenance import git_state, weight_inventory
from medskills.core.requirements import missing_packages, pip_install_command, requirements_from_file
from medskills.core.settings import Settings
from medskills.core.upstream import build_environment
from medskills.synthesis.nv_generate.ct_inference import DEFAULT_CONFIG_INFER
from medskills.synthesis.diff_model.staging import DiffModelFacts, checkpoint_paths
from medskills.synthesis.nv_generate.staging import CUDA_ALLOC_CONF
from medskills.synthesis.nv_generate.upstream_root import locate_nv_generate_root

__all__ = [
    "check_guidance",
    "check_diff_model_weights",
    "check_upstream_requirements",
    "check_steps",
    "check_upstream_commit",
    "check_weight_files",
    "check_weights",
    "is_finite_number",
    "is_integer_value",
    "read_config_infer",
    "resolve_generate_root",
    "run_environment",
]

def resolve_generate_root(collector: PreflightCollector, settings: Settings) -> Path | None:
    """The NV-Generate-CTMR runtime root (``locate_nv_generate_root``); a readiness error when there is none."""
    location = locate_nv_generate_root(settings)
    if location.warning is not None:
        collector.warning("upstream_root_fallback", location.warning, field="NV_GENERATE_ROOT",
                          fix="unset NV_GENERATE_ROOT, or point it at a complete NV-Generate-CTMR clone")
    if location.root is None:
        collector.error("upstream_missing", location.problem or "NV-Generate-CTMR upstream not found",
                        field="NV_GENERATE_ROOT", fix=location.fix, blocks_request=False)
    return location.root


def check_upstream_commit(collector: PreflightCollector, root: Path | None, *, skill: SkillId, version: str) -> None:
    """Warn when the checkout is not at the pinned commit or has local changes (the run still goes ahead)."""
    if root is None:
        return
    pinned = resolve_version(skill, version).upstream_commit
    state = git_state(root)
    if state.commit is None:
        collector.warning("upstream_not_git", f"{root} is not a git checkout; its commit cannot be recorded.",
                          field="NV_GENERATE_ROOT")
    elif state.commit != pinned:
        collector.warning("upstream_commit_differs", f"upstream is at {state.commit[:10]}, the tested pin is "
                          f"{pinned[:10]}.", field="NV_GENERATE_ROOT", fix=f"git -C {root} checkout {pinned}")
    if state.is_dirty:
        collector.warning("upstream_dirty", f"{root} has uncommitted changes to tracked files.",
                          field="NV_GENERATE_ROOT")


def check_upstream_requirements(collector: PreflightCollector, root: Path | None) -> None:
    """Every package in the clone's ``requirements.txt`` must be importable here; the fix is one pip command."""
    if root is None:
        return
    path = root / "requirements.txt"
    try:
        requirements = requirements_from_file(path)
    except OSError as err:
        collector.error("upstream_requirements_unreadable", f"{path} cannot be read ({err}); the packages upstream "
                        "needs cannot be checked.", field=str(path),
                        fix=f"restore it: git -C {root} checkout -- requirements.txt", blocks_request=False)
        return
    missing = missing_packages(requirements)
    if missing:
        names = ", ".join(f"{r.pip_requirement} (import {r.import_name})" for r in missing)
        collector.error("upstream_packages_missing", f"{len(missing)} package(s) from {path} are not importable in "
                        f"this Python: {names}; the upstream run would stop with ModuleNotFoundError.",
                        field="requirements.txt", fix=pip_install_command(missing), blocks_request=False)


MAX_STEPS = 1000


def is_integer_value(value: Any) -> bool:
    """True for a JSON integer (booleans excluded)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    """True for a finite JSON number (booleans excluded)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_steps(collector: PreflightCollector, value: Any, *, key: str = "num_inference_steps", fix: str) -> bool:
    """Steps must be an integer in 1..1000 (both upstream schedulers' range); True when valid."""
    if is_integer_value(value) and 1 <= value <= MAX_STEPS:
        return True
    collector.error("steps_out_of_range", f"{key} must be an integer in 1..{MAX_STEPS}, got {value!r}.", field=key,
                    fix=fix)
    return False


def check_guidance(collector: PreflightCollector, value: Any, *, fix: str) -> bool:
    """``cfg_guidance_scale`` must be a finite number >= 0; True when valid."""
    if is_finite_number(value) and value >= 0:
        return True
    collector.error("guidance_invalid", f"cfg_guidance_scale must be a number >= 0, got {value!r}.",
                    field="cfg_guidance_scale", fix=fix)
    return False




def check_weights(
    collector: PreflightCollector, settings: Settings, skill: SkillId, version: str, root: Path | None, *,
    names: Iterable[str] | None = None, expected_sha256: dict[str, str] | None = None,
) -> list[WeightFile]:
    """Inventory the weights ``version`` needs (optionally only ``names``); missing or mismatched is an error."""
    if root is None:
        return []
    wanted = set(names) if names is not None else None
    paths = [p for p in weight_paths(skill, version, root) if wanted is None or p.name in wanted]
    return check_weight_files(collector, settings, paths, skill=skill, version=version,
                              expected_sha256=expected_sha256)


def check_weight_files(
    collector: PreflightCollector, settings: Settings, paths: Iterable[Path], *, skill: SkillId, version: str,
    expected_sha256: dict[str, str] | None = None,
) -> list[WeightFile]:
    """Inventory exactly ``paths`` against the sha256 pins by file name; missing or mismatched is an error."""
    pins = sha256_pins(skill, version) if expected_sha256 is None else expected_sha256
    inventory = weight_inventory(list(paths), cache_path=settings.weight_hash_cache, expected_sha256=pins)
    for weight in inventory:
        if not weight.is_present:
            collector.error("weights_missing", f"weight file {weight.path} is missing.", field="weights",
                            fix=f"run `medskills setup {skill.value}` (downloads at the pinned revision)",
                            blocks_request=False)
        elif weight.is_hash_match is False:
            collector.error("weights_hash_mismatch", f"{weight.path} has sha256 {weight.sha256}, expected "
                            f"{weight.expected_sha256}.", field="weights",
                            fix="delete the file and download it again with `medskills setup`", blocks_request=False)
    return inventory


def check_diff_model_weights(
    collector: PreflightCollector, settings: Settings, facts: DiffModelFacts, root: Path | None, *, skill: SkillId,
    expected_sha256: dict[str, str] | None = None,
) -> list[WeightFile]:
    """The checkpoints ``diff_model_infer`` will load, named by the clone's environment file (never a fixed name)."""
    if root is None:
        return []
    try:
        paths = checkpoint_paths(facts, root)
    except EnvironmentProblem as err:
        collector.error("upstream_env_unreadable", str(err), field=facts.environment, blocks_request=False)
        return []
    return check_weight_files(collector, settings, paths, skill=skill, version=facts.version,
                              expected_sha256=expected_sha256)



def run_environment(root: Path, *, data_root: Path | None = None) -> dict[str, str]:
    """Allow-listed environment for an upstream process: no bytecode in the clone, offline hub, data root."""
    return build_environment({
        "PYTHONDONTWRITEBYTECODE": "1",
        "HF_HUB_OFFLINE": "1",
        "PYTORCH_CUDA_ALLOC_CONF": CUDA_ALLOC_CONF,
        "MONAI_DATA_DIRECTORY": str(data_root or root),
    })


def read_config_infer(collector: PreflightCollector, root: Path | None) -> dict[str, Any]:
    """Upstream's ``configs/config_infer.json`` over the shipped values (keeps its ``$@`` reference keys)."""
    if root is None:
        return dict(DEFAULT_CONFIG_INFER)
    path = root / "configs" / "config_infer.json"
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        collector.error("upstream_config_unreadable", f"{path} is missing or not JSON: {err}.", field=str(path),
                        fix="restore it: `git -C <root> checkout -- configs`", blocks_request=False)
        return dict(DEFAULT_CONFIG_INFER)
    if not isinstance(loaded, dict):
        collector.error("upstream_config_unreadable", f"{path} holds a JSON {type(loaded).__name__}, not the object "
                        "of inference settings upstream reads.", field=str(path),
                        fix="restore it: `git -C <root> checkout -- configs`", blocks_request=False)
        return dict(DEFAULT_CONFIG_INFER)
    return {**DEFAULT_CONFIG_INFER, **loaded}
