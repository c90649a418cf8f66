"""Post-run gates of a paired CT run, one function each (``core.gates.GateRegistry``)."""

from __future__ import annotations

from enum import StrEnum

from medskills.core.gates import GateRegistry, OutputGateContext, gate_result, upstream_exit_gate
from medskills.core.models import GateResult
from medskills.synthesis.paired_ct.evidence import HU_AIR_THRESHOLD, HU_BONE_THRESHOLD
from medskills.synthesis.paired_ct.record import CTOutputSection

__all__ = ["CT_GATES", "CTGateContext", "PairedCTGate"]


class PairedCTGate(StrEnum):
    """The gates a paired CT run is graded by, in evaluation order."""

    UPSTREAM_EXIT_ZERO = "upstream_exit_zero"
    OUTPUTS_EXIST = "outputs_exist"
    IMAGES_NONCONSTANT = "images_nonconstant"
    IMAGES_HU_LIKE = "images_hu_like"
    EXPECTED_LABELS_PRESENT = "expected_labels_present"
    GEOMETRY_CONSISTENT = "geometry_consistent"


CTGateContext = OutputGateContext[CTOutputSection]
CT_GATES: GateRegistry[CTGateContext] = GateRegistry()


@CT_GATES.register(PairedCTGate.UPSTREAM_EXIT_ZERO)
def upstream_exit(context: CTGateContext) -> GateResult:
    """The upstream process exited 0 (a timeout's 124 fails it too)."""
    return upstream_exit_gate(context.invocation, what="scripts.inference")


@CT_GATES.register(PairedCTGate.OUTPUTS_EXIST)
def outputs_exist(context: CTGateContext) -> GateResult:
    """As many readable image/label pairs as requested were written by this run."""
    readable = sum(s.is_pair_readable for s in context.output.samples)
    return gate_result(PairedCTGate.OUTPUTS_EXIST, passed=readable >= context.expected_samples,
                       message=f"{readable} readable pair(s) written, {context.expected_samples} requested",
                       observed=readable, threshold=context.expected_samples)


@CT_GATES.register(PairedCTGate.IMAGES_NONCONSTANT)
def images_nonconstant(context: CTGateContext) -> GateResult:
    """Every image has a value range above 1 HU."""
    flat = [str(s.image_path.name) for s in context.output.samples if not s.is_nonconstant]
    passed = context.output.is_all_images_nonconstant
    return gate_result(PairedCTGate.IMAGES_NONCONSTANT, passed=passed,
                       message="all images vary" if passed else f"constant or unreadable image(s): {flat or 'none written'}",
                       observed=passed, threshold=True)


@CT_GATES.register(PairedCTGate.IMAGES_HU_LIKE)
def images_hu_like(context: CTGateContext) -> GateResult:
    """Every image holds air-like (< -500) and bone-like (> 200) values, as a CT in HU does."""
    passed = context.output.is_all_images_hu_like
    return gate_result(PairedCTGate.IMAGES_HU_LIKE, passed=passed,
                       message=f"every image has voxels < {HU_AIR_THRESHOLD:g} and > {HU_BONE_THRESHOLD:g} HU"
                       if passed else "an image lacks air-like or bone-like values (or none was written)",
                       observed=passed, threshold=True)


@CT_GATES.register(PairedCTGate.EXPECTED_LABELS_PRESENT)
def expected_labels_present(context: CTGateContext) -> GateResult:
    """Every requested anatomy's ordinal appears in every saved label map."""
    missing = context.output.missing_expected_output_label_ids
    return gate_result(PairedCTGate.EXPECTED_LABELS_PRESENT, passed=not missing,
                       message="all expected output labels present" if not missing
                       else f"missing output label id(s) {missing} (see output.output_label_mapping)",
                       observed=missing, threshold=context.output.expected_output_label_ids)


@CT_GATES.register(PairedCTGate.GEOMETRY_CONSISTENT)
def geometry_consistent(context: CTGateContext) -> GateResult:
    """Image and label of each pair share shape, spacing and affine."""
    passed = context.output.is_all_geometry_consistent
    return gate_result(PairedCTGate.GEOMETRY_CONSISTENT, passed=passed,
                       message="image and label grids match" if passed else "an image/label pair differs in grid",
                       observed=passed, threshold=True)
