"""Integration fixtures: reuse the run builders and real-scan fixtures of the unit verifier tests."""

from __future__ import annotations

from unit.verification.conftest import abdomen, reference_map

__all__ = ["abdomen", "reference_map"]
