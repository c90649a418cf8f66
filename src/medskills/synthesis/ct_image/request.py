"""What one ``synth ct-image`` run is asked to do, and upstream's ``check_input_ct`` rules for it."""

from __future__ import annotations

from typing import Any


from medskills.core.models import CostEstimate
from medskills.core.preflight import PreflightCollector, check_unknown_keys
from medskills.synthesis.diff_model.staging import DiffModelInference
from medskills.synthesis.nv_generate.checks import check_guidance, check_steps, is_finite_number, is_integer_value
from medskills.synthesis.nv_generate.config_rules import (
    MIN_FOV_MM, OUTPUT_XY_SIZES, OUTPUT_Z_SIZES, RECOMMENDED_BODY_FOV_MM, SPACING_XY_RANGE_MM, SPACING_Z_RANGE_MM,
)
from medskills.synthesis.nv_generate.cost import estimate_ct_cost
from medskills.synthesis.nv_generate.ct_inference import DEFAULT_CONFIG_INFER, CTVersion, InferenceSettings
from medskills.synthesis.nv_generate.request import ConfigFileRequest

__all__ = ["OVERRIDE_KEYS", "CT_MODALITY", "CTImageRequest", "validate_ct_image_overrides", "estimate_ct_image_cost"]


OVERRIDE_KEYS = ("dim", "spacing", "num_inference_steps", "cfg_guidance_scale", "top_region_index",
                 "bottom_region_index")

CT_MODALITY = 1


class CTImageRequest(ConfigFileRequest):
    """One ``synth ct-image`` invocation. ``config_path`` None means the upstream defaults."""

    version: CTVersion = CTVersion.RFLOW_CT
    has_summary_card: bool = True


def _check_geometry(collector: PreflightCollector, dim: Any, spacing: Any) -> bool:
    """Upstream's ``check_input_ct`` sets plus the FOV rule; True when both are valid."""
    is_dim_ok = isinstance(dim, list) and len(dim) == 3 and all(is_integer_value(v) for v in dim) and (
        dim[0] == dim[1] and dim[0] in OUTPUT_XY_SIZES and dim[2] in OUTPUT_Z_SIZES)
    if not is_dim_ok:
        collector.error("bad_dim", f"dim {dim!r} is not a CT size: x must equal y and be one of "
                        f"{list(OUTPUT_XY_SIZES)}; z one of {list(OUTPUT_Z_SIZES)}.", field="dim",
                        fix="for example [256, 256, 128] or [512, 512, 128]")
    is_spacing_ok = isinstance(spacing, list) and len(spacing) == 3 and all(is_finite_number(v) for v in spacing) and (
        spacing[0] == spacing[1] and SPACING_XY_RANGE_MM[0] <= spacing[0] <= SPACING_XY_RANGE_MM[1]
        and SPACING_Z_RANGE_MM[0] <= spacing[2] <= SPACING_Z_RANGE_MM[1])
    if not is_spacing_ok:
        collector.error("bad_spacing", f"spacing {spacing!r} mm is not a CT spacing: x must equal y within "
                        f"{list(SPACING_XY_RANGE_MM)}; z within {list(SPACING_Z_RANGE_MM)}.", field="spacing",
                        fix="for example [1.5, 1.5, 2.0]")
    if not (is_dim_ok and is_spacing_ok):
        return False
    fov = dim[0] * spacing[0]
    if fov < MIN_FOV_MM:
        collector.error("fov_too_small", f"field of view {fov:g} mm (dim[0] x spacing[0]) is below {MIN_FOV_MM:g} mm.",
                        field="dim", fix="raise dim[0] or spacing[0] so their product is >= 256 mm")
        return False
    if fov < RECOMMENDED_BODY_FOV_MM:
        collector.warning("fov_small_for_body", f"field of view {fov:g} mm is below the {RECOMMENDED_BODY_FOV_MM:g} mm "
                          "recommended for body CT; output may be out of distribution.", field="dim")
    return True


def _check_scalars(collector: PreflightCollector, merged: dict[str, Any]) -> None:
    check_steps(collector, merged["num_inference_steps"], fix="rflow-ct uses 30, ddpm-ct 1000")
    check_guidance(collector, merged["cfg_guidance_scale"], fix="upstream ships 0 for CT")
    for key in ("top_region_index", "bottom_region_index"):
        value = merged[key]
        if not (isinstance(value, list) and len(value) == 4 and all(v in (0, 1) and is_integer_value(v) for v in value)):
            collector.error("region_index_invalid", f"{key} must be 4 values of 0 or 1 (head, chest, abdomen, "
                            f"pelvis), got {value!r}.", field=key, fix="for example [0, 1, 0, 0]")


def validate_ct_image_overrides(collector: PreflightCollector, overrides: dict[str, Any], unknown: list[str], *,
              defaults: DiffModelInference, random_seed: int) -> DiffModelInference | None:
    check_unknown_keys(collector, unknown, OVERRIDE_KEYS, where="the CT image-only config")
    merged = {**defaults.model_dump(mode="json"), **overrides}
    is_geometry_ok = _check_geometry(collector, merged["dim"], merged["spacing"])
    _check_scalars(collector, merged)
    if not is_geometry_ok or collector.has_request_errors:
        return None
    return DiffModelInference.model_validate({**merged, "modality": CT_MODALITY, "random_seed": random_seed})


def estimate_ct_image_cost(inference: DiffModelInference, version: CTVersion) -> CostEstimate:
    """The paired-CT estimator (same UNet and decoder sizes) on the requested grid."""
    settings = InferenceSettings.model_validate({
        **{key: value for key, value in DEFAULT_CONFIG_INFER.items() if key != "spacing"},
        "output_size": inference.dim, "spacing_mm": inference.spacing, "controllable_anatomy_size": [],
        "num_inference_steps": inference.num_inference_steps, "cfg_guidance_scale": inference.cfg_guidance_scale,
    })
    return estimate_ct_cost(settings, version)
