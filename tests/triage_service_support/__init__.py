"""Test-only predictors and helpers for the triage service tests (never shipped)."""
