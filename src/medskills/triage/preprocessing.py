"""Every member's model input, derived from the one canonical :class:`HUVolume` of a study.

The volume is already RAS+ (orientation fixed once, at ingestion). Each function here reads the
float32 array without a float64 copy and returns a float32 torch tensor; :class:`StudyInputs`
memoises them per study, so two members with the same preprocessing share one tensor.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from medskills.dicom.volume import HUVolume
from medskills.triage.pack_manifest import AstraPreprocessing, CTCLIPPreprocessing, MedNeXtPreprocessing

if TYPE_CHECKING:
    import torch

__all__ = [
    "StudyInputs",
    "astra_chest_input",
    "bounding_box",
    "ctclip_input",
    "mednext_input",
]

T = TypeVar("T")


class StudyInputs:
    """Per-study memo of derived inputs and intermediate encodings, keyed by their (frozen) spec."""

    def __init__(self, volume: HUVolume) -> None:
        self.volume = volume
        self._cache: dict[Hashable, Any] = {}

    def derive(self, key: Hashable, build: Callable[[], T]) -> T:
        """Return the cached value for ``key``, building it once."""
        if key not in self._cache:
            self._cache[key] = build()
        value: T = self._cache[key]
        return value


def bounding_box(mask: np.ndarray) -> tuple[slice, slice, slice] | None:
    """Smallest box holding every True voxel (voxel-index order), or None for an empty mask."""
    box = []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        hits = np.flatnonzero(mask.any(axis=other))
        if hits.size == 0:
            return None
        box.append(slice(int(hits[0]), int(hits[-1]) + 1))
    return (box[0], box[1], box[2])


def astra_chest_input(volume: HUVolume, spec: AstraPreprocessing) -> torch.Tensor:
    """Astra ``chest`` input ``[1, 1, Z, X, Y]`` in [0, 1] (report §F.2).

    Crop to the box of HU > ``body_threshold_hu``, area-resize to ``target_shape_xyz`` (spacing is
    discarded, as in Astra), window to ``window_hu`` and scale to [0, 1], then move S to the front.
    """
    import torch
    import torch.nn.functional as F

    box = bounding_box(volume.array > spec.body_threshold_hu)
    cropped = volume.array[box] if box is not None else volume.array
    tensor = torch.from_numpy(np.ascontiguousarray(cropped))[None, None]
    resized = F.interpolate(tensor, size=spec.target_shape_xyz, mode="area")
    low, high = spec.window_hu
    windowed = (resized.clamp(low, high) - low) / (high - low)
    return windowed.permute(0, 1, 4, 2, 3).contiguous()


def _pad_or_crop(tensor: torch.Tensor, shape: tuple[int, int, int], value: float) -> torch.Tensor:
    from monai.transforms.croppad.array import ResizeWithPadOrCrop

    transform = ResizeWithPadOrCrop(spatial_size=shape, mode="constant", value=value)
    return torch_tensor(transform(tensor))


def torch_tensor(value: object) -> torch.Tensor:
    """MONAI returns MetaTensor; strip the metadata so downstream code sees a plain tensor."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.as_tensor() if hasattr(value, "as_tensor") else value
    return torch.as_tensor(value)


def _resample(tensor: torch.Tensor, spacing_mm: tuple[float, ...], target_mm: tuple[float, ...]) -> torch.Tensor:
    import torch.nn.functional as F

    size = [max(1, round(n * s / t)) for n, s, t in zip(tensor.shape[-3:], spacing_mm, target_mm, strict=True)]
    return F.interpolate(tensor[None], size=size, mode="trilinear", align_corners=False)[0]


def ctclip_input(volume: HUVolume, spec: CTCLIPPreprocessing) -> torch.Tensor:
    """CT-CLIP input ``[1, 1, depth, rows, columns]``: clip HU, resample, divide, centre pad/crop.

    Axes are ``(S, A, R)`` of the canonical volume (report §B.5, in canonical orientation).
    """
    import torch

    low, high = spec.clip_hu
    tensor = torch.from_numpy(volume.array).clamp(low, high).permute(2, 1, 0)[None]
    spacing_zyx = (volume.spacing_mm[2], volume.spacing_mm[1], volume.spacing_mm[0])
    resampled = _resample(tensor, spacing_zyx, spec.spacing_mm_zyx) / spec.hu_divisor
    return _pad_or_crop(resampled, spec.shape_zyx, spec.pad_value)[None].contiguous()


def mednext_input(
    volume: HUVolume,
    spec: MedNeXtPreprocessing,
    *,
    body_mask: Callable[[HUVolume], np.ndarray] | None = None,
) -> torch.Tensor:
    """MedNeXt input ``[1, 1, R, A, S]``: optional body crop, resample, clip, pad/crop, z-normalise.

    ``crop_by_body_part`` crops to the box of ``body_mask(volume)`` before resampling.
    """
    import torch
    from monai.transforms.intensity.array import NormalizeIntensity

    array = volume.array
    if spec.crop_by_body_part and body_mask is not None:
        box = bounding_box(body_mask(volume))
        array = array[box] if box is not None else array
    low, high = spec.clip_hu
    tensor = torch.from_numpy(np.ascontiguousarray(array))[None]
    resampled = _resample(tensor, volume.spacing_mm, spec.spacing_mm).clamp(low, high)
    fitted = _pad_or_crop(resampled, spec.roi_size, 0.0)
    normalised = torch_tensor(NormalizeIntensity(nonzero=True, channel_wise=True)(fitted))
    return normalised[None].contiguous()
