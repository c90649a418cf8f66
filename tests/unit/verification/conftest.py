"""Fixtures for the verifier tests: the real CT and its TotalSegmentator reference."""

from unit.verification.scan_fixtures import abdomen, reference_map

__all__ = ["abdomen", "reference_map"]
