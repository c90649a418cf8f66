"""`medskills setup` and `medskills doctor`."""

from __future__ import annotations


def setup_command() -> None:
    """Clone an upstream and fetch its weights (not yet implemented: see issue 'Setup and doctor')."""
    raise NotImplementedError


def doctor_command() -> None:
    """Diagnose this machine for each skill (not yet implemented: see issue 'Setup and doctor')."""
    raise NotImplementedError
