"""Post-run gates of a paired CT run, one function each (``core.gates.GateRegistry``)."""

from __future__ import annotations

from dataclasses import dataclass

from medskills.core.gates import GateRegistry, gate_result
from medskills.core.models import GateResult, Invocation
from medskills.synthesis.paired_ct.evidence import HU_AIR_THRESHOLD, HU_BONE_THRESHOLD
from medskills.synthesis.paired_ct.record import CTOutputSection
from medskills.core.gates import upstream_exit_gate

__all__ = ["CT_GATES", "CTGateContext"]


@dataclass(frozen=True)
class CTGateContext:
    """What the gates look at: how the upstream ended and what it wrote."""

    invocation: Invocation
    output: CTOutputSection
    requested_samples: int


CT_GATES: GateRegistry[CTGateContext] = GateRegistry()


@CT_GATES.register("upstream_exit_zero")
def upstream_exit(context: CTGateContext) -> GateResult:
    """The upstream process exited 0 (a timeout's 124 fails it too)."""
    return upstream_exit_gate(context.invocation, what="scripts.inference")


@CT_GATES.register("outputs_exist")
def outputs_exist(context: CTGateContext) -> GateResult:
    """As many readable image/label pairs as requested were written by this run."""
    readable = sum(s.is_pair_readable for s in context.output.samples)
    return gate_result("outputs_exist", passed=readable >= context.requested_samples,
                       message=f"{readable} readable pair(s) written, {context.requested_samples} requested",
                       observed=readable, threshold=context.requested_samples)


@CT_GATES.register("images_nonconstant")
def images_nonconstant(context: CTGateContext) -> GateResult:
    """Every image has a value range above 1 HU."""
    flat = [str(s.image_path.name) for s in context.output.samples if not s.is_nonconstant]
    passed = context.output.is_all_images_nonconstant
    return gate_result("images_nonconstant", passed=passed,
                       message="all images vary" if passed else f"constant or unreadable image(s): {flat or 'none written'}",
                       observed=passed, threshold=True)


@CT_GATES.register("images_hu_like")
def images_hu_like(context: CTGateContext) -> GateResult:
    """Every image holds air-like (< -500) and bone-like (> 200) values, as a CT in HU does."""
    passed = context.output.is_all_images_hu_like
    return gate_result("images_hu_like", passed=passed,
                       message=f"every image has voxels < {HU_AIR_THRESHOLD:g} and > {HU_BONE_THRESHOLD:g} HU"
                       if passed else "an image lacks air-like or bone-like values (or none was written)",
                       observed=passed, threshold=True)


@CT_GATES.register("expected_labels_present")
def expected_labels_present(context: CTGateContext) -> GateResult:
    """Every requested anatomy's ordinal appears in every saved label map."""
    missing = context.output.missing_expected_output_label_ids
    return gate_result("expected_labels_present", passed=not missing,
                       message="all expected output labels present" if not missing
                       else f"missing output label id(s) {missing} (see output.output_label_mapping)",
                       observed=missing, threshold=context.output.expected_output_label_ids)


@CT_GATES.register("geometry_consistent")
def geometry_consistent(context: CTGateContext) -> GateResult:
    """Image and label of each pair share shape, spacing and affine."""
    passed = context.output.is_all_geometry_consistent
    return gate_result("geometry_consistent", passed=passed,
                       message="image and label grids match" if passed else "an image/label pair differs in grid",
                       observed=passed, threshold=True)
