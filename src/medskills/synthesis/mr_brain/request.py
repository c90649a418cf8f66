"""MR-brain request: modality names, override rules, preflight and cost, before any GPU time is spent.

Upstream ``diff_model_infer`` does no geometry validation for MR, so every rule lives here: dims are
multiples of 32 (three 2x downsamplings of a latent at dim/4) up to 512x512x256, steps 1..1000 (the
RFlow scheduler's range), guidance non-negative. ``check_input_mr``'s geometry sets are only advice.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pydantic import Field

from medskills.core.models import CostEstimate, FrozenModel
from medskills.core.mr_brain_modality import MRBrainModality
from medskills.core.preflight import PreflightCollector, check_unknown_keys, suggestion_text
from medskills.synthesis.diff_model.staging import DiffModelInference, modality_ids
from medskills.synthesis.nv_generate.request import read_override_file
from medskills.synthesis.nv_generate.checks import check_guidance, check_steps, is_finite_number, is_integer_value
from medskills.synthesis.nv_generate.cost import CONFIRMATION_VRAM_GB, CONFIRMATION_WALL_SECONDS, STARTUP_SECONDS
from medskills.synthesis.nv_generate.request import ConfigFileRequest

__all__ = [
    "MR_BRAIN_VERSION",
    "OVERRIDE_KEYS",
    "MRBrainOverrides",
    "estimate_mr_brain_cost",
    "load_overrides",
    "resolve_modality",
    "validate_overrides",
]

MR_BRAIN_VERSION = "rflow-mr-brain"
OVERRIDE_KEYS = ("dim", "spacing", "num_inference_steps", "cfg_guidance_scale", "modality")
DIM_MULTIPLE = 32
MAX_DIM = (512, 512, 256)
ADVISED_SPACING_MM = (0.4, 5.0)
_SECONDS_PER_256_CUBE_30_STEPS = 90.0

# Upstream warns that its MRA training scans are too few for guaranteed quality (every plane).
SPARSELY_TRAINED_MODALITIES = frozenset({MRBrainModality.MRI_MRA, MRBrainModality.MRI_MRA_SKULL_STRIPPED})


class MRBrainRequest(ConfigFileRequest):
    """What the command line asked for. ``config_path`` None means the upstream defaults."""

    modality: str | None = None
    random_seed: int = 1234
    has_summary_card: bool = True


class MRBrainOverrides(FrozenModel):
    """The override file as read (unknown keys are kept out: preflight reports them)."""

    dim: Any = None
    spacing: Any = None
    num_inference_steps: Any = None
    cfg_guidance_scale: Any = None
    modality: Any = None
    unknown_keys: list[str] = Field(default_factory=list)
    null_keys: list[str] = Field(default_factory=list, description="Keys given as JSON null (refused, not defaulted).")

    def given(self) -> dict[str, Any]:
        """The override keys that were set, for evidence."""
        return {key: getattr(self, key) for key in OVERRIDE_KEYS if getattr(self, key) is not None}


def load_overrides(config: Path | None) -> MRBrainOverrides:
    """Read the override file (see ``read_override_file``); ``None`` means the upstream defaults.

    Raises:
        UsageError: the file is missing, not JSON, or not an object.
    """
    if config is None:
        return MRBrainOverrides()
    known, unknown = read_override_file(config, allowed_keys=OVERRIDE_KEYS)
    nulls = [key for key, value in known.items() if value is None]
    return MRBrainOverrides(**known, unknown_keys=unknown, null_keys=nulls)


def resolve_modality(
    collector: PreflightCollector, *, cli_modality: str | None, override_modality: Any
) -> MRBrainModality | None:
    """``--modality`` wins over the override's ``modality`` (a name or an upstream id); default ``mri_t1``."""
    names = [member.value for member in MRBrainModality]
    if cli_modality is not None:
        if override_modality is not None:
            collector.warning("modality_override_ignored", f"--modality {cli_modality} takes precedence over the "
                              f"config's modality {override_modality!r}.", field="modality")
        modality = _modality_from_value(collector, cli_modality, field="--modality", names=names)
    elif override_modality is not None:
        modality = _modality_from_value(collector, override_modality, field="modality", names=names)
    else:
        modality = MRBrainModality.MRI_T1
    if modality in SPARSELY_TRAINED_MODALITIES:
        collector.warning("sparse_training_data", f"{modality} had few training scans upstream (docs/inference.md): "
                          "output quality is not guaranteed.", field="modality")
    return modality


def _modality_from_value(
    collector: PreflightCollector, value: Any, *, field: str, names: list[str]
) -> MRBrainModality | None:
    if isinstance(value, int) and not isinstance(value, bool):
        by_id = {member.upstream_id: member for member in MRBrainModality}
        if value in by_id:
            return by_id[value]
        known = {v: k for k, v in modality_ids().items()}
        what = f"upstream id {value} ({known[value]})" if value in known else f"id {value}"
        collector.error("unsupported_modality", f"{what} is not an MR-brain modality.", field=field,
                        fix="use one of: " + ", ".join(f"{m.value} ({m.upstream_id})" for m in MRBrainModality))
        return None
    if isinstance(value, str) and value.strip().lower() in names:
        return MRBrainModality(value.strip().lower())
    collector.error("unsupported_modality", f"modality {value!r} is not an MR-brain modality."
                    f"{suggestion_text(str(value), names)}", field=field, fix="use one of: " + ", ".join(names))
    return None


def _check_dim(collector: PreflightCollector, dim: Any) -> tuple[int, int, int] | None:
    if not (isinstance(dim, list) and len(dim) == 3 and all(is_integer_value(v) for v in dim)):
        collector.error("dim_type", f"dim must be a list of 3 integers, got {dim!r}.", field="dim",
                        fix="for example [256, 256, 128]")
        return None
    problems = []
    for axis, (value, limit) in enumerate(zip(dim, MAX_DIM, strict=True)):
        if value <= 0 or value % DIM_MULTIPLE:
            problems.append(f"dim[{axis}]={value} is not a positive multiple of {DIM_MULTIPLE}")
        elif value > limit:
            problems.append(f"dim[{axis}]={value} exceeds the maximum {limit}")
    for problem in problems:
        rule = "multiple_of_32" if "multiple" in problem else "dim_too_large"
        collector.error(rule, f"{problem} (rule: every dim a multiple of {DIM_MULTIPLE}, at most "
                        f"{MAX_DIM[0]}x{MAX_DIM[1]}x{MAX_DIM[2]}).", field="dim",
                        fix="round each dim to a multiple of 32, e.g. [256, 256, 128]")
    return None if problems else (dim[0], dim[1], dim[2])


def _check_spacing(collector: PreflightCollector, spacing: Any) -> tuple[float, float, float] | None:
    if not (isinstance(spacing, list) and len(spacing) == 3 and all(is_finite_number(v) and v > 0 for v in spacing)):
        collector.error("spacing_invalid", f"spacing must be 3 positive numbers in mm, got {spacing!r}.",
                        field="spacing", fix="for example [0.94, 0.94, 1.36]")
        return None
    low, high = ADVISED_SPACING_MM
    if any(not low <= value <= high for value in spacing):
        collector.warning("spacing_unusual", f"spacing {spacing} is outside [{low}, {high}] mm, the range upstream "
                          "checks for MR in its paired path; quality is not guaranteed.", field="spacing")
    return (float(spacing[0]), float(spacing[1]), float(spacing[2]))


def _check_advised_geometry(collector: PreflightCollector, dim: tuple[int, int, int]) -> None:
    """Upstream ``check_input_mr``'s sets (not applied by ``diff_model_infer``): a warning only."""
    x, y, z = dim
    advised = (z == 128 and x == y and x in (128, 256, 384, 512)) or (
        z == 256 and list(dim) in ([128, 256, 256], [256, 128, 256], [256, 256, 256]))
    if not advised:
        collector.warning("geometry_untested", f"dim {list(dim)} is outside the MR sizes upstream validates "
                          "elsewhere (z=128 with x=y in 128..512, or 256-sized volumes); output quality may suffer.",
                          field="dim")


def validate_overrides(
    collector: PreflightCollector, overrides: MRBrainOverrides, *, defaults: DiffModelInference,
    modality: MRBrainModality | None, random_seed: int,
) -> DiffModelInference | None:
    """Check every override (all problems collected) and return the rendered block, or None if invalid."""
    check_unknown_keys(collector, overrides.unknown_keys, OVERRIDE_KEYS, where="the MR-brain config")
    for key in overrides.null_keys:  # as synth ct and ct-image treat it: null is not "use the default"
        collector.error("null_value", f"{key} is null in the MR-brain config.", field=key,
                        fix="give a value, or drop the key to use the upstream default")
    dim = _check_dim(collector, overrides.dim if overrides.dim is not None else list(defaults.dim))
    spacing = _check_spacing(collector, overrides.spacing if overrides.spacing is not None else list(defaults.spacing))
    steps = overrides.num_inference_steps if overrides.num_inference_steps is not None else defaults.num_inference_steps
    check_steps(collector, steps, fix="upstream ships 30")
    guidance = overrides.cfg_guidance_scale if overrides.cfg_guidance_scale is not None else defaults.cfg_guidance_scale
    is_guidance_ok = check_guidance(collector, guidance, fix=f"upstream ships {defaults.cfg_guidance_scale:g}")
    if is_guidance_ok and guidance == 0:
        collector.warning("guidance_off", "cfg_guidance_scale 0 turns classifier-free guidance off; upstream notes "
                          "washed-out MR contrast.", field="cfg_guidance_scale")
    if dim is not None:
        _check_advised_geometry(collector, dim)
    if dim is None or spacing is None or modality is None or collector.has_request_errors:
        return None
    return defaults.model_copy(update={
        "dim": dim, "spacing": spacing, "num_inference_steps": int(steps), "cfg_guidance_scale": float(guidance),
        "modality": modality.upstream_id, "random_seed": random_seed,
    })


def estimate_mr_brain_cost(inference: DiffModelInference) -> CostEstimate:
    """Coarse wall time, VRAM and disk for one volume; above 300 s or 30 GB needs ``--yes``.

    Wall: a fixed start-up plus 90 s per 256^3 voxels at 30 steps, scaled by steps (upstream's
    reference calibration). VRAM: 16 GB when every dim <= 256, else 32 GB. Disk: int16, 2 B/voxel.
    """
    voxels = math.prod(inference.dim)
    wall = STARTUP_SECONDS + _SECONDS_PER_256_CUBE_30_STEPS * voxels / 256**3 * inference.num_inference_steps / 30
    vram = 16.0 if max(inference.dim) <= 256 else 32.0
    reasons = []
    if wall > CONFIRMATION_WALL_SECONDS:
        reasons.append(f"estimated wall time {wall:.0f} s exceeds {CONFIRMATION_WALL_SECONDS:.0f} s")
    if vram > CONFIRMATION_VRAM_GB:
        reasons.append(f"estimated peak VRAM {vram:.0f} GB exceeds {CONFIRMATION_VRAM_GB:.0f} GB")
    return CostEstimate(
        wall_seconds=round(wall, 1), peak_vram_gb=vram, disk_mb=round(voxels * 2 / 1e6, 1),
        basis="startup 25 s + 90 s x (voxels / 256^3) x (steps / 30); VRAM 16 GB if all dims <= 256 else 32 GB; "
        "int16 output", needs_confirmation=bool(reasons), reasons=reasons,
    )
