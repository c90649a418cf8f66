"""Test-only builders for triage model packs: tiny random members in published layouts."""
