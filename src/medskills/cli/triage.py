"""`medskills triage ...`: the service and batch client commands, and the model commands."""

from __future__ import annotations

import typer

from medskills.cli import triage_models, triage_service

triage_app = typer.Typer(no_args_is_help=True)
triage_service.register(triage_app)
triage_models.register(triage_app)
