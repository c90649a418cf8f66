"""Post-run gates over what the bundle wrote. Exit 0 proves nothing: the bundle swallows loader errors.

Every gate reads the label map loaded once; statistics and centroids come from bincount passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from medskills.core.gates import GateRegistry, gate_result
from medskills.core.models import GateResult, Invocation, Status
from medskills.core.upstream import has_traceback, read_tail
from medskills.core.volumes import GeometryComparison, LabelStatistics
from medskills.segmentation.labels import SegmentationModality

__all__ = ["LATERAL_PAIRS", "PostRunContext", "centroid_x_ras", "evaluate_gates"]

# (id on the patient's right, id on the patient's left, what is checked). In RAS world coordinates +x
# points to the patient's right, so the right-sided organ must have the larger centroid x.
LATERAL_PAIRS = ((1, 3, "liver right of spleen"), (5, 14, "right kidney right of left kidney"))

registry: GateRegistry[PostRunContext] = GateRegistry()


@dataclass(frozen=True)
class PostRunContext:
    """Everything the gates look at. ``labels`` is None when the file was missing or not integral."""

    invocation: Invocation
    expected_output: Path
    is_output_present: bool
    integrality_error: str | None
    geometry: GeometryComparison | None
    statistics: LabelStatistics | None
    allowed_ids: list[int]
    modality: SegmentationModality
    centroid_x_mm: dict[int, float]


def centroid_x_ras(
    labels: npt.NDArray[np.integer], affine: npt.NDArray[np.float64], label_ids: tuple[int, ...]
) -> dict[int, float]:
    """Centroid world x (RAS mm, +x = patient right) of each of ``label_ids`` present in ``labels``.

    Only voxels of ``label_ids`` are gathered (one ``isin`` pass), then per-id means by bincount.
    """
    selected = np.isin(labels, label_ids)
    indices = np.nonzero(selected)
    if not indices[0].size:
        return {}
    values = labels[indices]
    counts = np.bincount(values)
    world_x = affine[0, 3] + sum(affine[0, axis] * indices[axis].astype(np.float64) for axis in range(3))
    sums = np.bincount(values, weights=world_x)
    return {int(i): float(sums[i] / counts[i]) for i in label_ids if i < counts.size and counts[i]}


def evaluate_gates(context: PostRunContext) -> list[GateResult]:
    """Run every registered gate."""
    return registry.evaluate(context)


@registry.register("upstream_exit_code")
def _exit_code(context: PostRunContext) -> GateResult:
    code = context.invocation.exit_code
    return gate_result("upstream_exit_code", passed=code == 0, message=f"monai.bundle run exited {code}",
                       observed=code, threshold=0)


@registry.register("no_traceback")
def _no_traceback(context: PostRunContext) -> GateResult:
    logs = context.invocation.logs
    text = read_tail(logs.stderr_path, chars=1_000_000) if logs.stderr_path else logs.stderr_tail
    found = has_traceback(text) or has_traceback(logs.stdout_tail)
    return gate_result("no_traceback", passed=not found,
                       message="a Python traceback is in the upstream logs (errors inside the data loader are "
                       "logged but do not change the exit code)" if found else "no traceback in the upstream logs")


@registry.register("output_exists")
def _output_exists(context: PostRunContext) -> GateResult:
    return gate_result("output_exists", passed=context.is_output_present, observed=str(context.expected_output),
                       message="expected output written" if context.is_output_present
                       else f"expected output {context.expected_output} was not written")


@registry.register("label_values_integral")
def _integral(context: PostRunContext) -> GateResult:
    if not context.is_output_present:
        return _skipped("label_values_integral", "no output to check")
    return gate_result("label_values_integral", passed=context.integrality_error is None,
                       message=context.integrality_error or "every voxel holds a whole, non-negative class id")


@registry.register("geometry_matches_input")
def _geometry(context: PostRunContext) -> GateResult:
    if context.geometry is None:
        return _skipped("geometry_matches_input", "no readable output")
    geometry = context.geometry
    return gate_result("geometry_matches_input", passed=geometry.is_match, observed=geometry.affine_max_abs_diff,
                       threshold=1e-4, message=f"shape match {geometry.is_shape_match}, spacing match "
                       f"{geometry.is_spacing_match}, affine max diff {geometry.affine_max_abs_diff:g} mm")


@registry.register("label_set_within_allowed")
def _label_set(context: PostRunContext) -> GateResult:
    if context.statistics is None:
        return _skipped("label_set_within_allowed", "no readable output")
    unexpected = sorted(set(context.statistics.label_ids_present) - set(context.allowed_ids))
    return gate_result("label_set_within_allowed", passed=not unexpected, observed=unexpected,
                       message=f"ids outside the expanded prompts / modality set: {unexpected}" if unexpected
                       else "every present id was prompted (after subclass expansion) or is in the modality set")


@registry.register("any_label_present")
def _any_label(context: PostRunContext) -> GateResult:
    if context.statistics is None:
        return _skipped("any_label_present", "no readable output")
    count = len(context.statistics.label_ids_present)
    return gate_result("any_label_present", passed=count > 0, observed=count, threshold=1,
                       message=f"{count} class(es) present" if count else "the label map is all background")


@registry.register("laterality")
def _laterality(context: PostRunContext) -> GateResult:
    if context.modality is SegmentationModality.MRI_BRAIN:
        return _skipped("laterality", "not checked for MRI_BRAIN")
    checked, failed = [], []
    for right_id, left_id, description in LATERAL_PAIRS:
        if right_id in context.centroid_x_mm and left_id in context.centroid_x_mm:
            checked.append(description)
            if not context.centroid_x_mm[right_id] > context.centroid_x_mm[left_id]:
                failed.append(description)
    if not checked:
        return _skipped("laterality", "liver/spleen or both kidneys not present together")
    return gate_result("laterality", passed=not failed, observed=", ".join(failed) or ", ".join(checked),
                       message=f"left/right swapped? failed: {failed}" if failed
                       else f"left/right order plausible: {checked}")


def _skipped(gate: str, message: str) -> GateResult:
    return GateResult(gate=gate, status=Status.SKIPPED, message=message)
