"""`medskills synth ...` and `medskills anatomy ...` commands."""

from __future__ import annotations

import typer

synth_app = typer.Typer(no_args_is_help=True)
anatomy_app = typer.Typer(no_args_is_help=True)
