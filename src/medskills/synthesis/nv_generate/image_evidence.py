"""Evidence about generated image volumes (no labels): geometry, intensity, and the image gates.

Shared by MR-brain synthesis, CT image-only and CT-from-mask. Each file is read once; the checks are
the ones a verifier recomputes (range > 1, finite, MR min >= 0, CT has air < -500 HU and bone > 200 HU).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path

from pydantic import Field

from medskills.core.card import CardPanel, CardTable, write_card
from medskills.core.errors import InputError
from medskills.core.gates import GateRegistry, gate_result
from medskills.core.io import sha256_file
from medskills.core.models import Artifact, FrozenModel, GateResult, Invocation, Status
from medskills.core.volumes import IntensitySummary, LoadedVolume, read_volume, summarize_intensity
from medskills.core.gates import upstream_exit_gate

__all__ = [
    "GeneratedImage",
    "ImageKind",
    "ImageOutputSummary",
    "evaluate_image_gates",
    "image_artifacts",
    "inspect_image",
    "summarize_images",
    "write_image_card",
]

NONCONSTANT_MIN_RANGE = 1.0
CT_AIR_BELOW_HU = -500.0
CT_BONE_ABOVE_HU = 200.0
SPACING_DECIMALS = 6


class ImageKind(StrEnum):
    """What intensity rules apply: MR (non-negative) or CT (HU-like)."""

    MR = "mr"
    CT = "ct"


class GeneratedImage(FrozenModel):
    """One generated volume as read back from disk. Shape and spacing are in voxel-axis order."""

    path: Path
    bytes: int
    sha256: str
    is_readable: bool
    error: str | None = None
    shape: tuple[int, ...] | None = None
    spacing_mm: tuple[float, float, float] | None = None
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


class _GateContext(FrozenModel):
    invocation: Invocation
    output: ImageOutputSummary
    check_requested_geometry: bool = True


_IMAGE_GATES: GateRegistry[_GateContext] = GateRegistry()


@_IMAGE_GATES.register("upstream_exit_zero")
def _gate_exit(context: _GateContext) -> GateResult:
    return upstream_exit_gate(context.invocation, what="upstream")


@_IMAGE_GATES.register("images_written")
def _gate_written(context: _GateContext) -> GateResult:
    count = context.output.num_samples
    return gate_result("images_written", passed=count >= 1, observed=count, threshold=1,
                       message=f"{count} image(s) with the expected upstream file name written during this run")


@_IMAGE_GATES.register("images_readable")
def _gate_readable(context: _GateContext) -> GateResult:
    ok = context.output.all_images_readable
    return gate_result("images_readable", passed=ok, observed=ok, message="every image reads as a 3D NIfTI")


@_IMAGE_GATES.register("geometry_matches_request")
def _gate_geometry(context: _GateContext) -> GateResult:
    if not context.check_requested_geometry:
        return gate_result("geometry_matches_request", passed=True, message="no geometry requested (taken from the mask)")
    ok = context.output.all_shapes_match_requested and context.output.all_spacing_match_requested
    return gate_result("geometry_matches_request", passed=ok, observed=ok,
                       message="shape and spacing (6 decimals) equal the requested dim and spacing")


@_IMAGE_GATES.register("images_finite")
def _gate_finite(context: _GateContext) -> GateResult:
    ok = context.output.all_images_finite
    return gate_result("images_finite", passed=ok, observed=ok, message="no NaN or infinite voxels")


@_IMAGE_GATES.register("images_nonconstant")
def _gate_nonconstant(context: _GateContext) -> GateResult:
    ok = context.output.all_images_nonconstant
    return gate_result("images_nonconstant", passed=ok, observed=ok, threshold=NONCONSTANT_MIN_RANGE,
                       message="intensity range (max - min) above 1 in every image")


@_IMAGE_GATES.register("intensity_plausible")
def _gate_intensity(context: _GateContext) -> GateResult:
    output = context.output
    if output.all_images_nonnegative is not None:
        return gate_result("intensity_plausible", passed=output.all_images_nonnegative, threshold=0.0,
                           message="MR intensities are non-negative (upstream clips MR at 0)")
    ok = bool(output.all_images_hu_like)
    return gate_result("intensity_plausible", passed=ok, message="CT has air (< -500 HU) and bone (> 200 HU)",
                       threshold=f"< {CT_AIR_BELOW_HU:g} and > {CT_BONE_ABOVE_HU:g}")


def evaluate_image_gates(
    invocation: Invocation, output: ImageOutputSummary, *, check_requested_geometry: bool = True
) -> list[GateResult]:
    """Evaluate every image gate (a broken gate is reported failed, never hides the others)."""
    context = _GateContext(invocation=invocation, output=output, check_requested_geometry=check_requested_geometry)
    return _IMAGE_GATES.evaluate(context)


def write_image_card(
    output_dir: Path, *, title: str, subtitle: str, status: Status, output: ImageOutputSummary | None,
    request_rows: list[list[str]], gates: Sequence[GateResult], window: tuple[float, float] | None = None,
) -> tuple[Path | None, str | None]:
    """``summary.html``: a triptych of the first readable image (no overlay) plus request and gate tables.

    ``window`` None uses the 1st-99th percentile of the shown slices. Never raises (see ``write_card``).
    """
    readable = [image for image in (output.samples if output else []) if image.is_readable]
    panels = []
    if readable:
        volume = read_volume(readable[0].path)
        described = "1st-99th percentile" if window is None else f"[{window[0]:g}, {window[1]:g}]"
        panels.append(CardPanel(title=readable[0].path.name, image=volume.array, affine=volume.affine, window=window,
                                caption=f"axial / coronal / sagittal mid-slices; window {described}"))
    tables = [CardTable(title="Request", rows=request_rows),
              CardTable(title="Gates", header=["gate", "status", "message"],
                        rows=[[gate.gate, gate.status.value, gate.message] for gate in gates])]
    return write_card(output_dir / "summary.html", title=title, subtitle=subtitle, status=status.value,
                      panels=panels, tables=tables)
