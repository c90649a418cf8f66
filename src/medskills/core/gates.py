"""Post-run gates: a registry of named checks, one function each, evaluated over a typed context.

A skill creates one :class:`GateRegistry` for its own context type and registers its gates with the
decorator; :meth:`GateRegistry.evaluate` runs every gate, so one broken gate never hides the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from medskills.core.models import GateResult, Invocation, Status
from medskills.core.upstream import has_traceback

__all__ = ["GateFunction", "GateRegistry", "OutputGateContext", "gate_result", "overall_status", "upstream_exit_gate"]

ContextT = TypeVar("ContextT")
OutputT = TypeVar("OutputT")
GateFunction = Callable[[ContextT], GateResult]


def gate_result(
    gate: str, *, passed: bool, message: str,
    observed: float | int | str | bool | list[int] | None = None,
    threshold: float | int | str | bool | list[int] | None = None,
) -> GateResult:
    """Build a passed/failed :class:`GateResult`."""
    return GateResult(gate=gate, status=Status.PASSED if passed else Status.FAILED, message=message,
                      observed=observed, threshold=threshold)


@dataclass(frozen=True)
class OutputGateContext(Generic[OutputT]):
    """What post-run gates usually look at: how the upstream ended, what it wrote, what was asked for.

    ``expected_samples`` is how many outputs the request asked for; ``is_geometry_requested`` is False
    when the output grid comes from an input (a mask) rather than from the request.
    """

    invocation: Invocation
    output: OutputT
    expected_samples: int = 1
    is_geometry_requested: bool = True


class GateRegistry(Generic[ContextT]):
    """Ordered gates over one context type."""

    def __init__(self) -> None:
        self._gates: dict[str, Callable[[ContextT], GateResult]] = {}

    def register(self, name: str) -> Callable[[Callable[[ContextT], GateResult]], Callable[[ContextT], GateResult]]:
        """Decorator adding a gate under ``name`` (names must be unique)."""
        def decorator(function: Callable[[ContextT], GateResult]) -> Callable[[ContextT], GateResult]:
            if name in self._gates:
                raise ValueError(f"gate {name!r} is registered twice")
            self._gates[name] = function
            return function
        return decorator

    @property
    def names(self) -> list[str]:
        """Registered gate names, in evaluation order."""
        return list(self._gates)

    def evaluate(self, context: ContextT) -> list[GateResult]:
        """Run every gate; a gate that raises is reported as failed with the error, not propagated."""
        results = []
        for name, function in self._gates.items():
            try:
                results.append(function(context))
            except Exception as err:  # one broken gate must not hide the verdicts of the others
                results.append(GateResult(gate=name, status=Status.FAILED,
                                          message=f"gate raised {type(err).__name__}: {err}"))
        return results


def overall_status(gates: Iterable[GateResult]) -> Status:
    """FAILED if any gate failed, else PASSED."""
    return Status.FAILED if any(g.status == Status.FAILED for g in gates) else Status.PASSED


def upstream_exit_gate(invocation: Invocation, *, what: str = "upstream") -> GateResult:
    """Passed when the process exited 0 without printing a Python traceback (a timeout's 124 fails it too)."""
    code = invocation.exit_code
    is_crashed = code == 0 and has_traceback(invocation.logs.stderr_tail + invocation.logs.stdout_tail)
    message = f"{what} exited {code}" + (" but printed a Python traceback" if is_crashed else "")
    return gate_result("upstream_exit_zero", passed=code == 0 and not is_crashed, message=message, observed=code,
                       threshold=0)
