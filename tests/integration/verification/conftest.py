"""Integration fixtures: the same real-scan fixtures as the unit verifier tests."""

from unit.verification.scan_fixtures import abdomen, reference_map

__all__ = ["abdomen", "reference_map"]
