"""CT-from-mask request: the request file (or a bare mask), its override rules, and the cost estimate.

The request JSON names ``mask_path`` (relative to the request file) plus a few ``config_infer`` keys
``scripts.infer_image_from_mask`` reads. A NIfTI path is accepted as the request itself (no overrides).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


from medskills.core.errors import UsageError
from medskills.core.models import CostEstimate, FrozenModel
from medskills.core.preflight import PreflightCollector, check_unknown_keys, suggestion_text
from medskills.synthesis.nv_generate.cost import estimate_ct_cost
from medskills.synthesis.nv_generate.ct_inference import DEFAULT_CONFIG_INFER, CTVersion, InferenceSettings
from medskills.synthesis.nv_generate.checks import check_guidance, check_steps, is_finite_number, is_integer_value
from medskills.synthesis.nv_generate.user_mask import CT_SIZES_XY, CT_SIZES_Z, SourceLabels
from medskills.synthesis.nv_generate.request import GenerateRequest

__all__ = ["OVERRIDE_KEYS", "CTFromMaskRequest", "FromMaskFile", "estimate_from_mask_cost", "load_from_mask_file",
           "validate_from_mask_overrides"]

OVERRIDE_KEYS = ("num_inference_steps", "autoencoder_sliding_window_infer_size",
                 "autoencoder_sliding_window_infer_overlap", "cfg_guidance_scale", "modality")
SLIDING_WINDOW_MULTIPLE = 16
STRONG_GUIDANCE = 5.0
CT_MODALITY = 1


class CTFromMaskRequest(GenerateRequest):
    """One ``synth ct-from-mask`` invocation."""

    request_path: Path
    source_labels: SourceLabels = SourceLabels.MAISI
    body_envelope_ct: Path | None = None
    allow_missing_body_label: bool = False

    @classmethod
    def from_cli(cls, **options: object) -> CTFromMaskRequest:
        """Build from command-line options; an unknown ``source_labels`` is a usage error naming the choices."""
        labels = str(options.get("source_labels", SourceLabels.MAISI.value))
        choices = [member.value for member in SourceLabels]
        if labels not in choices:
            raise UsageError(f"--source-labels {labels!r} is not a label space.{suggestion_text(labels, choices)} "
                             f"Choose one of: {', '.join(choices)}.")
        return cls.model_validate(options)


class FromMaskFile(FrozenModel):
    """The request file as read: the mask it names and the override values (unchecked)."""

    mask_path: Path
    overrides: dict[str, Any]
    unknown_keys: list[str]


def load_from_mask_file(request_path: Path) -> FromMaskFile:
    """Read the request JSON, or take a NIfTI path as the mask itself.

    Raises:
        UsageError: the file is missing, not JSON, not an object, or lacks ``mask_path``.
    """
    path = Path(request_path)
    if path.name.endswith((".nii", ".nii.gz")):
        return FromMaskFile(mask_path=path, overrides={}, unknown_keys=[])
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise UsageError(f"request {path} does not exist. Pass a request JSON with mask_path, or a mask NIfTI.") from err
    except (OSError, ValueError) as err:
        raise UsageError(f"request {path} is not readable JSON: {err}.") from err
    if not isinstance(document, dict) or not isinstance(document.get("mask_path"), str):
        raise UsageError(f"request {path} must be a JSON object with a string 'mask_path' (relative to the file).")
    mask = Path(document["mask_path"])
    keys = [key for key in document if not str(key).startswith("_") and key != "mask_path"]
    return FromMaskFile(
        mask_path=mask if mask.is_absolute() else path.parent / mask,
        overrides={key: document[key] for key in keys if key in OVERRIDE_KEYS},
        unknown_keys=[key for key in keys if key not in OVERRIDE_KEYS],
    )


def _check_values(collector: PreflightCollector, merged: dict[str, Any]) -> None:
    check_steps(collector, merged["num_inference_steps"], fix="rflow-ct uses 30")
    window = merged["autoencoder_sliding_window_infer_size"]
    if not (isinstance(window, list) and len(window) == 3 and all(is_integer_value(v) and v > 0 and v % SLIDING_WINDOW_MULTIPLE
                                                                   == 0 for v in window)):
        collector.error("sliding_window_invalid", f"autoencoder_sliding_window_infer_size must be 3 positive "
                        f"multiples of {SLIDING_WINDOW_MULTIPLE} (latent voxels), got {window!r}.",
                        field="autoencoder_sliding_window_infer_size", fix="for example [48, 48, 48]")
    overlap = merged["autoencoder_sliding_window_infer_overlap"]
    if not (is_finite_number(overlap) and 0.0 <= overlap < 1.0):  # MONAI's SlidingWindowInferer refuses 1
        collector.error("overlap_invalid", f"autoencoder_sliding_window_infer_overlap must be in [0, 1), got "
                        f"{overlap!r}.", field="autoencoder_sliding_window_infer_overlap", fix="for example 0.6666")
    guidance = merged["cfg_guidance_scale"]
    is_guidance_ok = check_guidance(collector, guidance, fix="0 turns tumor guidance off; 1..5 strengthens tumors")
    if is_guidance_ok and guidance > STRONG_GUIDANCE:
        collector.warning("guidance_strong", f"cfg_guidance_scale {guidance:g} above {STRONG_GUIDANCE:g} risks "
                          "artifacts (upstream's advice).", field="cfg_guidance_scale")
    if merged["modality"] != CT_MODALITY:
        collector.error("modality_not_ct", f"modality must be {CT_MODALITY} (CT): the ControlNet is CT-only, got "
                        f"{merged['modality']!r}.", field="modality", fix="drop the key or set it to 1")


def _snapped_size(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """The grid upstream's ``_suggest_valid_target`` snaps a RAS-ordered mask shape to (for the cost estimate):
    the valid size closest to the mean of x and y, and the valid size closest to z."""
    xy = min(CT_SIZES_XY, key=lambda n: abs(n - (shape[0] + shape[1]) / 2))
    z = min(CT_SIZES_Z, key=lambda n: abs(n - shape[2]))
    return (xy, xy, z)


def validate_from_mask_overrides(
    collector: PreflightCollector, file: FromMaskFile, *, base_config: dict[str, Any], mask_shape: tuple[int, ...] | None,
) -> InferenceSettings | None:
    """Check every override (collected) and return the staged settings, or None when invalid."""
    check_unknown_keys(collector, file.unknown_keys, [*OVERRIDE_KEYS, "mask_path"], where="the CT-from-mask request")
    merged = {**DEFAULT_CONFIG_INFER, **base_config, **file.overrides}
    _check_values(collector, merged)
    if collector.has_request_errors or mask_shape is None:
        return None
    values = {key: merged[key] for key in DEFAULT_CONFIG_INFER if key != "spacing"}
    values.update(spacing_mm=merged["spacing"], output_size=_snapped_size(mask_shape), controllable_anatomy_size=[])
    return InferenceSettings.model_validate(values)


def estimate_from_mask_cost(settings: InferenceSettings) -> CostEstimate:
    """The paired-CT estimator on the grid upstream will generate (no mask diffusion: the mask is given)."""
    return estimate_ct_cost(settings, CTVersion.RFLOW_CT)
