from __future__ import annotations

from medskills.core.gates import GateRegistry, gate_result, overall_status
from medskills.core.models import Status


def test_registry_evaluates_every_gate_and_reports_failures() -> None:
    registry: GateRegistry[int] = GateRegistry()

    @registry.register("positive")
    def _positive(value: int):  # type: ignore[no-untyped-def]
        return gate_result("positive", passed=value > 0, message="value must be > 0", observed=value, threshold=0)

    @registry.register("broken")
    def _broken(value: int):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")

    results = registry.evaluate(-1)
    assert [r.status for r in results] == [Status.FAILED, Status.FAILED]
    assert "RuntimeError" in results[1].message
    assert overall_status(results) == Status.FAILED


def test_overall_status_passes_when_all_gates_pass() -> None:
    assert overall_status([gate_result("a", passed=True, message="ok")]) == Status.PASSED
