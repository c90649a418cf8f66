"""Cost estimate of a paired CT run (wall time, peak VRAM, disk) from upstream's performance tables.

Numbers are the A100 measurements of upstream ``docs/performance.md`` (spec §F) plus end-to-end
observations: about 25 s of start-up and weight loading, and about 80 s for Path A's 1000-step mask
diffusion. They are estimates for the ``--yes`` gate, not promises.
"""

from __future__ import annotations

from dataclasses import dataclass

from medskills.core.models import CostEstimate
from medskills.synthesis.nv_generate.ct_inference import CTVersion, InferenceSettings, MaskPath

__all__ = ["CONFIRMATION_VRAM_GB", "CONFIRMATION_WALL_SECONDS", "confirmation_reasons", "estimate_ct_cost"]

CONFIRMATION_WALL_SECONDS = 300.0
CONFIRMATION_VRAM_GB = 30.0
STARTUP_SECONDS = 25.0
PATH_A_MASK_SECONDS_AT_1000_STEPS = 80.0
FLOAT32_BYTES = 4


@dataclass(frozen=True)
class _Measured:
    """One row of the upstream table: size, SW size, tp splits, peak GB, seconds per stage."""

    output_size: tuple[int, int, int]
    sliding_window: tuple[int, int, int]
    tp_splits: int
    peak_vram_gb: float
    ddpm_seconds: float  # DM (1000 steps) + VAE
    rflow_dm_seconds: float  # DM at 30 steps
    vae_seconds: float


_TABLE = (
    _Measured((256, 256, 128), (96, 96, 96), 2, 15.0, 58, 2, 1),
    _Measured((256, 256, 256), (48, 48, 64), 4, 15.4, 86, 3, 5),
    _Measured((512, 512, 128), (64, 64, 32), 2, 15.7, 146, 5, 8),
    _Measured((256, 256, 256), (64, 64, 64), 4, 22.7, 83, 3, 2),
    _Measured((512, 512, 128), (80, 80, 32), 2, 21.0, 144, 5, 6),
    _Measured((512, 512, 512), (64, 64, 48), 2, 22.8, 598, 19, 29),
    _Measured((512, 512, 512), (80, 80, 48), 4, 28.4, 599, 19, 30),
    _Measured((512, 512, 512), (80, 80, 80), 4, 45.3, 601, 19, 32),
    _Measured((512, 512, 768), (80, 80, 96), 4, 49.7, 961, 30, 57),
)


def _voxels(size: tuple[int, int, int]) -> int:
    return size[0] * size[1] * size[2]


def _reference_row(settings: InferenceSettings) -> tuple[_Measured, float, str]:
    """The measured row to scale from, the voxel ratio to it, and how it was chosen."""
    same_size = [row for row in _TABLE if row.output_size == settings.output_size]
    tp = settings.autoencoder_tp_num_splits
    exact = [row for row in same_size if row.sliding_window == settings.autoencoder_sliding_window_infer_size
             and (tp is None or row.tp_splits == tp)]
    if exact:
        return exact[0], 1.0, f"measured preset {settings.output_size} SW {exact[0].sliding_window}"
    if same_size:
        worst = max(same_size, key=lambda row: row.peak_vram_gb)
        return worst, 1.0, f"largest measured peak for {settings.output_size} (SW/tp not a measured preset)"
    target = _voxels(settings.output_size)
    nearest = min(_TABLE, key=lambda row: abs(_voxels(row.output_size) - target))
    ratio = target / _voxels(nearest.output_size)
    return nearest, ratio, f"scaled from {nearest.output_size} by voxel ratio {ratio:.2f}"


def confirmation_reasons(*, wall_seconds: float, peak_vram_gb: float) -> list[str]:
    """Why an estimate needs ``--yes`` (empty when it is under 300 s and 30 GB); shared by the NV-Generate skills."""
    reasons = []
    if wall_seconds > CONFIRMATION_WALL_SECONDS:
        reasons.append(f"estimated wall time {wall_seconds:.0f} s exceeds {CONFIRMATION_WALL_SECONDS:.0f} s")
    if peak_vram_gb > CONFIRMATION_VRAM_GB:
        reasons.append(f"estimated peak VRAM {peak_vram_gb:.1f} GB exceeds {CONFIRMATION_VRAM_GB:.0f} GB")
    return reasons


def estimate_ct_cost(settings: InferenceSettings, version: CTVersion) -> CostEstimate:
    """Estimate one run; ``needs_confirmation`` is set above 300 s wall or 30 GB VRAM."""
    row, ratio, basis = _reference_row(settings)
    guidance_factor = 2.0 if settings.cfg_guidance_scale > 0 else 1.0
    if version is CTVersion.DDPM_CT:
        diffusion = (row.ddpm_seconds - row.vae_seconds) * ratio * settings.num_inference_steps / 1000.0
    else:
        diffusion = row.rflow_dm_seconds * ratio * settings.num_inference_steps / 30.0
    per_sample = diffusion * guidance_factor + row.vae_seconds * ratio
    if settings.mask_path is MaskPath.A:
        per_sample += PATH_A_MASK_SECONDS_AT_1000_STEPS * settings.mask_generation_num_inference_steps / 1000.0
    wall = STARTUP_SECONDS + per_sample * settings.num_output_samples
    vram = row.peak_vram_gb * max(1.0, ratio)
    disk_mb = _voxels(settings.output_size) * FLOAT32_BYTES * 2 * settings.num_output_samples / 1e6
    reasons = confirmation_reasons(wall_seconds=wall, peak_vram_gb=vram)
    return CostEstimate(
        wall_seconds=round(wall, 1),
        peak_vram_gb=round(vram, 1),
        disk_mb=round(disk_mb, 1),
        basis=(f"upstream docs/performance.md (A100 80G): {basis}; + {STARTUP_SECONDS:.0f} s start-up"
               + ("; + Path-A mask diffusion" if settings.mask_path is MaskPath.A else "")
               + ("; x2 diffusion for cfg_guidance_scale > 0" if guidance_factor > 1 else "")
               + "; disk = float32 image + float32 label, uncompressed upper bound"),
        needs_confirmation=bool(reasons),
        reasons=reasons,
    )
