"""Evidence about generated image volumes (no labels): geometry and intensity, each file read once.

Shared by MR-brain synthesis, CT image-only and CT-from-mask. Each file is read once; the checks are
the ones a verifier recomputes (range > 1, finite, MR min >= 0, CT has air < -500 HU and bone > 200 HU).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path

from pydantic import Field

from medskills.core.errors import InputError
from medskills.core.io import sha256_file
from medskills.core.models import Artifact, FrozenModel
from medskills.core.volumes import IntensitySummary, LoadedVolume, read_volume, summarize_intensity
from medskills.synthesis.nv_generate.generated_file import GeneratedFile

__all__ = [
    "CT_AIR_BELOW_HU",
    "CT_BONE_ABOVE_HU",
    "NONCONSTANT_MIN_RANGE",
    "GeneratedImage",
    "ImageKind",
    "ImageOutputSummary",
    "image_artifacts",
    "inspect_image",
    "summarize_images",
]

NONCONSTANT_MIN_RANGE = 1.0
CT_AIR_BELOW_HU = -500.0
CT_BONE_ABOVE_HU = 200.0
SPACING_DECIMALS = 6


class ImageKind(StrEnum):
    """What intensity rules apply: MR (non-negative) or CT (HU-like)."""

    MR = "mr"
    CT = "ct"


class GeneratedImage(GeneratedFile):
    """One generated volume as read back from disk. Shape and spacing are in voxel-axis order."""

    affine: list[list[float]] | None = None
    axis_codes: str | None = None
    dtype: str | None = None
    requested_shape: tuple[int, int, int] | None = None
    requested_spacing_mm: tuple[float, float, float] | None = None
    is_shape_match_requested: bool | None = None
    is_spacing_match_requested: bool | None = None
    intensity: IntensitySummary | None = None
    is_finite: bool = False
    is_nonconstant: bool = False
    is_nonnegative: bool | None = Field(default=None, description="MR only: minimum >= 0.")
    is_hu_like: bool | None = Field(default=None, description="CT only: a voxel < -500 HU and one > 200 HU.")


class ImageOutputSummary(FrozenModel):
    """All generated images of a run and the aggregate booleans the verifiers recompute."""

    directory: Path
    samples: list[GeneratedImage]
    num_samples: int
    all_images_readable: bool
    all_shapes_match_requested: bool
    all_spacing_match_requested: bool
    all_images_finite: bool
    all_images_nonconstant: bool
    all_images_nonnegative: bool | None = None
    all_images_hu_like: bool | None = None


def _intensity_flags(volume: LoadedVolume, kind: ImageKind) -> dict[str, object]:
    summary = summarize_intensity(volume.array)
    flags: dict[str, object] = {
        "intensity": summary,
        "is_finite": summary.is_finite and summary.voxel_count > 0,
        "is_nonconstant": summary.value_range > NONCONSTANT_MIN_RANGE,
    }
    if kind is ImageKind.MR:
        flags["is_nonnegative"] = summary.minimum is not None and summary.minimum >= 0
    else:
        flags["is_hu_like"] = (summary.minimum is not None and summary.maximum is not None
                               and summary.minimum < CT_AIR_BELOW_HU and summary.maximum > CT_BONE_ABOVE_HU)
    return flags


def inspect_image(
    path: Path, *, kind: ImageKind, requested_shape: tuple[int, int, int] | None = None,
    requested_spacing_mm: tuple[float, float, float] | None = None,
) -> GeneratedImage:
    """Read ``path`` once and describe it; an unreadable file is recorded, not raised."""
    path = Path(path)
    base = {"path": path, "bytes": path.stat().st_size, "sha256": sha256_file(path),
            "requested_shape": requested_shape, "requested_spacing_mm": requested_spacing_mm}
    try:
        volume = read_volume(path)
    except InputError as err:
        return GeneratedImage(is_readable=False, error=str(err), **base)  # type: ignore[arg-type]
    geometry = volume.geometry
    spacing = tuple(round(value, SPACING_DECIMALS) for value in geometry.spacing_mm)
    shape_match = None if requested_shape is None else tuple(geometry.shape) == tuple(requested_shape)
    spacing_match = None if requested_spacing_mm is None else spacing == tuple(
        round(float(value), SPACING_DECIMALS) for value in requested_spacing_mm)
    return GeneratedImage(
        is_readable=True, shape=geometry.shape, spacing_mm=spacing, affine=geometry.affine,  # type: ignore[arg-type]
        axis_codes=geometry.axis_codes, dtype=geometry.dtype, is_shape_match_requested=shape_match,
        is_spacing_match_requested=spacing_match, **_intensity_flags(volume, kind), **base,  # type: ignore[arg-type]
    )


def summarize_images(directory: Path, images: Sequence[GeneratedImage], *, kind: ImageKind) -> ImageOutputSummary:
    """Aggregate booleans over ``images``; every ``all_*`` is False when there are no images."""
    has_any = bool(images)

    def every(values: Sequence[bool | None]) -> bool:
        return has_any and all(bool(value) for value in values)

    return ImageOutputSummary(
        directory=directory, samples=list(images), num_samples=len(images),
        all_images_readable=every([image.is_readable for image in images]),
        all_shapes_match_requested=every([image.is_shape_match_requested for image in images]),
        all_spacing_match_requested=every([image.is_spacing_match_requested for image in images]),
        all_images_finite=every([image.is_finite for image in images]),
        all_images_nonconstant=every([image.is_nonconstant for image in images]),
        all_images_nonnegative=every([image.is_nonnegative for image in images]) if kind is ImageKind.MR else None,
        all_images_hu_like=every([image.is_hu_like for image in images]) if kind is ImageKind.CT else None,
    )


def image_artifacts(images: Sequence[GeneratedImage]) -> list[Artifact]:
    """The generated images as run artifacts (path, size, sha256)."""
    return [Artifact(role="image", path=image.path, bytes=image.bytes, sha256=image.sha256) for image in images]
