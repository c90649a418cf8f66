"""Post-run gates of a generated image volume (MR brain, CT image-only, CT from a mask), one function each."""

from __future__ import annotations

from enum import StrEnum

from medskills.core.gates import GateRegistry, OutputGateContext, gate_result, upstream_exit_gate
from medskills.core.models import GateResult, Invocation
from medskills.synthesis.nv_generate.image_evidence import (
    CT_AIR_BELOW_HU, CT_BONE_ABOVE_HU, NONCONSTANT_MIN_RANGE, ImageOutputSummary,
)

__all__ = ["ImageGate", "evaluate_image_gates"]


class ImageGate(StrEnum):
    """The gates a generated image is graded by, in evaluation order."""

    UPSTREAM_EXIT_ZERO = "upstream_exit_zero"
    IMAGES_WRITTEN = "images_written"
    IMAGES_READABLE = "images_readable"
    GEOMETRY_MATCHES_REQUEST = "geometry_matches_request"
    IMAGES_FINITE = "images_finite"
    IMAGES_NONCONSTANT = "images_nonconstant"
    INTENSITY_PLAUSIBLE = "intensity_plausible"


_ImageContext = OutputGateContext[ImageOutputSummary]
_IMAGE_GATES: GateRegistry[_ImageContext] = GateRegistry()


@_IMAGE_GATES.register(ImageGate.UPSTREAM_EXIT_ZERO)
def _gate_exit(context: _ImageContext) -> GateResult:
    return upstream_exit_gate(context.invocation, what="upstream")


@_IMAGE_GATES.register(ImageGate.IMAGES_WRITTEN)
def _gate_written(context: _ImageContext) -> GateResult:
    count = context.output.num_samples
    return gate_result(ImageGate.IMAGES_WRITTEN, passed=count >= 1, observed=count, threshold=1,
                       message=f"{count} image(s) with the expected upstream file name written during this run")


@_IMAGE_GATES.register(ImageGate.IMAGES_READABLE)
def _gate_readable(context: _ImageContext) -> GateResult:
    ok = context.output.all_images_readable
    return gate_result(ImageGate.IMAGES_READABLE, passed=ok, observed=ok, message="every image reads as a 3D NIfTI")


@_IMAGE_GATES.register(ImageGate.GEOMETRY_MATCHES_REQUEST)
def _gate_geometry(context: _ImageContext) -> GateResult:
    if not context.is_geometry_requested:
        return gate_result(ImageGate.GEOMETRY_MATCHES_REQUEST, passed=True, message="no geometry requested (taken from the mask)")
    ok = context.output.all_shapes_match_requested and context.output.all_spacing_match_requested
    return gate_result(ImageGate.GEOMETRY_MATCHES_REQUEST, passed=ok, observed=ok,
                       message="shape and spacing (6 decimals) equal the requested dim and spacing")


@_IMAGE_GATES.register(ImageGate.IMAGES_FINITE)
def _gate_finite(context: _ImageContext) -> GateResult:
    ok = context.output.all_images_finite
    return gate_result(ImageGate.IMAGES_FINITE, passed=ok, observed=ok, message="no NaN or infinite voxels")


@_IMAGE_GATES.register(ImageGate.IMAGES_NONCONSTANT)
def _gate_nonconstant(context: _ImageContext) -> GateResult:
    ok = context.output.all_images_nonconstant
    return gate_result(ImageGate.IMAGES_NONCONSTANT, passed=ok, observed=ok, threshold=NONCONSTANT_MIN_RANGE,
                       message="intensity range (max - min) above 1 in every image")


@_IMAGE_GATES.register(ImageGate.INTENSITY_PLAUSIBLE)
def _gate_intensity(context: _ImageContext) -> GateResult:
    output = context.output
    if output.all_images_nonnegative is not None:
        return gate_result(ImageGate.INTENSITY_PLAUSIBLE, passed=output.all_images_nonnegative, threshold=0.0,
                           message="MR intensities are non-negative (upstream clips MR at 0)")
    ok = bool(output.all_images_hu_like)
    return gate_result(ImageGate.INTENSITY_PLAUSIBLE, passed=ok, message="CT has air (< -500 HU) and bone (> 200 HU)",
                       threshold=f"< {CT_AIR_BELOW_HU:g} and > {CT_BONE_ABOVE_HU:g}")


def evaluate_image_gates(
    invocation: Invocation, output: ImageOutputSummary, *, is_geometry_requested: bool = True
) -> list[GateResult]:
    """Evaluate every image gate (a broken gate is reported failed, never hides the others)."""
    context = _ImageContext(invocation=invocation, output=output, is_geometry_requested=is_geometry_requested)
    return _IMAGE_GATES.evaluate(context)
