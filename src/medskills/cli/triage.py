"""`medskills triage` commands."""

from __future__ import annotations

import typer

triage_app = typer.Typer(no_args_is_help=True, help="triage commands.")
