"""Post-run gates of a ``synth ct-mask`` run, one function each (``core.gates.GateRegistry``)."""

from __future__ import annotations

from enum import StrEnum

from medskills.core.gates import GateRegistry, OutputGateContext, gate_result, upstream_exit_gate
from medskills.core.models import GateResult, Invocation
from medskills.synthesis.ct_mask.evidence import BODY_LABEL, MAX_MAISI_ID, MaskOutputSummary

__all__ = ["CTMaskGate", "evaluate_mask_gates"]


class CTMaskGate(StrEnum):
    """The gates a mask-only run is graded by, in evaluation order."""

    UPSTREAM_EXIT_ZERO = "upstream_exit_zero"
    MASKS_WRITTEN = "masks_written"
    MASKS_READABLE = "masks_readable"
    LABEL_IDS_IN_MAISI_SPACE = "label_ids_in_maisi_space"
    EXPECTED_LABELS_PRESENT = "expected_labels_present"


_MaskContext = OutputGateContext[MaskOutputSummary]
_MASK_GATES: GateRegistry[_MaskContext] = GateRegistry()


@_MASK_GATES.register(CTMaskGate.UPSTREAM_EXIT_ZERO)
def _gate_exit(context: _MaskContext) -> GateResult:
    return upstream_exit_gate(context.invocation, what="mask runner")


@_MASK_GATES.register(CTMaskGate.MASKS_WRITTEN)
def _gate_written(context: _MaskContext) -> GateResult:
    count = context.output.num_samples
    return gate_result(CTMaskGate.MASKS_WRITTEN, passed=count == context.expected_samples, observed=count,
                       threshold=context.expected_samples, message=f"{count} mask(s) written during this run")


@_MASK_GATES.register(CTMaskGate.MASKS_READABLE)
def _gate_readable(context: _MaskContext) -> GateResult:
    ok = context.output.all_masks_readable
    return gate_result(CTMaskGate.MASKS_READABLE, passed=ok, observed=ok,
                       message="every mask reads as an integer label map")


@_MASK_GATES.register(CTMaskGate.LABEL_IDS_IN_MAISI_SPACE)
def _gate_space(context: _MaskContext) -> GateResult:
    foreign = context.output.foreign_label_ids
    return gate_result(CTMaskGate.LABEL_IDS_IN_MAISI_SPACE, passed=not foreign, observed=foreign,
                       message=f"ids within 0..{MAX_MAISI_ID} or {BODY_LABEL}")


@_MASK_GATES.register(CTMaskGate.EXPECTED_LABELS_PRESENT)
def _gate_expected(context: _MaskContext) -> GateResult:
    missing = context.output.missing_expected_maisi_label_ids
    ok = context.output.all_expected_maisi_labels_present
    return gate_result(CTMaskGate.EXPECTED_LABELS_PRESENT, passed=ok, observed=missing,
                       message="every requested anatomy's MAISI id is present in every mask"
                       + (f"; missing {missing}" if missing else ""))


def evaluate_mask_gates(invocation: Invocation, output: MaskOutputSummary, *, expected_samples: int) -> list[GateResult]:
    """Evaluate every mask gate (a broken gate is reported failed, never hides the others)."""
    return _MASK_GATES.evaluate(_MaskContext(invocation=invocation, output=output, expected_samples=expected_samples))
