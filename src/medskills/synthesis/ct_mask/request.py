"""What one ``synth ct-mask`` run is asked to do, and the mask model's own limits on top of the paired-CT rules."""

from __future__ import annotations

from typing import Any


from medskills.core.models import CostEstimate
from medskills.core.preflight import PreflightCollector
from medskills.synthesis.ct_mask._runner import MASK_SPACING_MM
from medskills.synthesis.nv_generate.cost import PATH_A_MASK_SECONDS_AT_1000_STEPS, STARTUP_SECONDS
from medskills.synthesis.nv_generate.ct_inference import InferenceSettings
from medskills.synthesis.nv_generate.request import ConfigFileRequest

__all__ = ["OVERRIDE_KEYS", "MASK_SIZE", "DDPM_STEPS", "DEFAULT_CONTROLLABLE", "CTMaskRequest", "check_mask_request", "estimate_mask_cost"]


OVERRIDE_KEYS = ("num_output_samples", "controllable_anatomy_size", "output_size", "spacing",
                 "mask_generation_num_inference_steps", "autoencoder_sliding_window_infer_size",
                 "autoencoder_sliding_window_infer_overlap")

MASK_SIZE = (256, 256, 256)

DDPM_STEPS = 1000

DEFAULT_CONTROLLABLE = [["lung tumor", 0.5]]


class CTMaskRequest(ConfigFileRequest):
    """One ``synth ct-mask`` invocation; ``config_path`` None means a 0.5 lung tumor request."""


def check_mask_request(collector: PreflightCollector, merged: dict[str, Any]) -> None:
    """The mask model's own limits on top of the paired rules (Path A only, fixed grid)."""
    if not merged.get("controllable_anatomy_size"):
        collector.error("controllable_required", "controllable_anatomy_size is empty; mask-only generation is "
                        "driven by the size conditions.", field="controllable_anatomy_size",
                        fix='for example [["lung tumor", 0.5]]')
    if merged.get("output_size") != list(MASK_SIZE):
        collector.error("mask_size_fixed", f"output_size must be {list(MASK_SIZE)}: the mask model generates that "
                        f"grid only, got {merged.get('output_size')!r}.", field="output_size",
                        fix=f"drop the key or set it to {list(MASK_SIZE)}")
    if merged.get("spacing") != list(MASK_SPACING_MM):
        collector.error("mask_spacing_fixed", f"spacing must be {list(MASK_SPACING_MM)} mm for mask-only output, got "
                        f"{merged.get('spacing')!r}.", field="spacing", fix=f"drop the key or set it to "
                        f"{list(MASK_SPACING_MM)}")
    steps = merged.get("mask_generation_num_inference_steps")
    if isinstance(steps, int) and not isinstance(steps, bool) and 1 <= steps < DDPM_STEPS:
        collector.warning("ddpm_steps_low", f"mask_generation_num_inference_steps {steps} < {DDPM_STEPS}: the mask "
                          "model is a DDPM and upstream only warns; quality is not guaranteed.",
                          field="mask_generation_num_inference_steps")


def estimate_mask_cost(settings: InferenceSettings) -> CostEstimate:
    per_sample = PATH_A_MASK_SECONDS_AT_1000_STEPS * settings.mask_generation_num_inference_steps / DDPM_STEPS
    wall = STARTUP_SECONDS + per_sample * settings.num_output_samples
    voxels = MASK_SIZE[0] * MASK_SIZE[1] * MASK_SIZE[2]
    return CostEstimate(
        wall_seconds=round(wall, 1), peak_vram_gb=16.0, disk_mb=round(voxels * 2 * settings.num_output_samples / 1e6, 1),
        basis="25 s start-up + about 80 s per 1000-step mask DDPM at 4x64^3 latent (A6000 notes); int16 masks",
        needs_confirmation=True, reasons=["mask-only generation always asks for --yes (a 1000-step DDPM per mask)"],
    )
