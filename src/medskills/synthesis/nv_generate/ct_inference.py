"""NV-Generate-CTMR's CT inference config: upstream defaults, model versions and the validated settings.

Shared by every command that stages ``configs/config_infer.json`` (paired CT, CT masks, CT from a
mask, CT image). A user's override file is kept raw until preflight has checked every key and value;
only then is it turned into the typed :class:`InferenceSettings` that staging, the cost estimate and
the evidence use.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import JsonValue

from medskills.core.models import FrozenModel

__all__ = [
    "ALLOWED_OVERRIDE_KEYS",
    "DEFAULT_CONFIG_INFER",
    "CTVersion",
    "InferenceSettings",
    "MaskPath",
]

# Shipped values of upstream configs/config_infer.json (spec §B.1), used when no clone is present.
DEFAULT_CONFIG_INFER: dict[str, JsonValue] = {
    "num_output_samples": 1,
    "body_region": ["chest"],
    "anatomy_list": ["lung tumor"],
    "controllable_anatomy_size": [],
    "num_inference_steps": 30,
    "mask_generation_num_inference_steps": 1000,
    "output_size": [256, 256, 256],
    "image_output_ext": ".nii.gz",
    "label_output_ext": ".nii.gz",
    "spacing": [1.5, 1.5, 2.0],
    "autoencoder_sliding_window_infer_size": [48, 48, 48],
    "autoencoder_sliding_window_infer_overlap": 0.6666,
    "modality": 1,
    "cfg_guidance_scale": 0.0,
}

ALLOWED_OVERRIDE_KEYS = frozenset({*DEFAULT_CONFIG_INFER, "autoencoder_tp_num_splits"})


class CTVersion(StrEnum):
    """Model versions the paired CT entry point runs."""

    RFLOW_CT = "rflow-ct"
    DDPM_CT = "ddpm-ct"

    @property
    def network(self) -> str:
        """Suffix of ``configs/config_network_<network>.json``."""
        return "rflow" if self is CTVersion.RFLOW_CT else "ddpm"


class MaskPath(StrEnum):
    """How upstream gets the mask: A generates it (controllable sizes), B picks a stored candidate."""

    A = "A"
    B = "B"


class InferenceSettings(FrozenModel):
    """The effective, validated inference config (upstream defaults plus overrides)."""

    num_output_samples: int
    body_region: list[str]
    anatomy_list: list[str]
    controllable_anatomy_size: list[tuple[str, float]]
    num_inference_steps: int
    mask_generation_num_inference_steps: int
    output_size: tuple[int, int, int]
    spacing_mm: tuple[float, float, float]
    image_output_ext: str
    label_output_ext: str
    autoencoder_sliding_window_infer_size: tuple[int, int, int]
    autoencoder_sliding_window_infer_overlap: float
    autoencoder_tp_num_splits: int | None = None
    modality: int
    cfg_guidance_scale: float

    @property
    def mask_path(self) -> MaskPath:
        """Path A when controllable sizes are given, else Path B."""
        return MaskPath.A if self.controllable_anatomy_size else MaskPath.B

    @property
    def effective_anatomy(self) -> list[str]:
        """Names whose ordinals 1..N the saved label holds: controllable names in Path A, else anatomy_list.

        Duplicates are dropped (upstream would leave an ordinal gap; preflight rejects them anyway).
        """
        names = [name for name, _ in self.controllable_anatomy_size] or self.anatomy_list
        return list(dict.fromkeys(names))

    @property
    def field_of_view_mm(self) -> tuple[float, float, float]:
        """output_size x spacing along each voxel axis, in mm."""
        return tuple(round(n * s, 3) for n, s in zip(self.output_size, self.spacing_mm, strict=True))  # type: ignore[return-value]

    def as_config_values(self) -> dict[str, JsonValue]:
        """The values in upstream's key names (for staging)."""
        values: dict[str, JsonValue] = {
            "num_output_samples": self.num_output_samples,
            "body_region": list(self.body_region),
            "anatomy_list": list(self.anatomy_list),
            "controllable_anatomy_size": [[name, size] for name, size in self.controllable_anatomy_size],
            "num_inference_steps": self.num_inference_steps,
            "mask_generation_num_inference_steps": self.mask_generation_num_inference_steps,
            "output_size": list(self.output_size),
            "spacing": list(self.spacing_mm),
            "image_output_ext": self.image_output_ext,
            "label_output_ext": self.label_output_ext,
            "autoencoder_sliding_window_infer_size": list(self.autoencoder_sliding_window_infer_size),
            "autoencoder_sliding_window_infer_overlap": self.autoencoder_sliding_window_infer_overlap,
            "modality": self.modality,
            "cfg_guidance_scale": self.cfg_guidance_scale,
        }
        if self.autoencoder_tp_num_splits is not None:
            values["autoencoder_tp_num_splits"] = self.autoencoder_tp_num_splits
        return values
