"""Triage ensemble members, one module each."""
