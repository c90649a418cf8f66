"""`medskills segment` commands."""

from __future__ import annotations

import typer

segment_app = typer.Typer(no_args_is_help=True, help="segment commands.")
