"""`medskills verify` commands."""

from __future__ import annotations

import typer

verify_app = typer.Typer(no_args_is_help=True, help="verify commands.")
