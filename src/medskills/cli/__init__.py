"""The ``medskills`` command line: thin typer commands over one library function each."""

from __future__ import annotations

import typer

from medskills.cli._common import configure_logging, run_app
from medskills.cli.batch import batch_command
from medskills.cli.preprocess import preprocess_app
from medskills.cli.segment import segment_app
from medskills.cli.setup import doctor_command, setup_command
from medskills.cli.synth import anatomy_app, synth_app
from medskills.cli.triage import triage_app
from medskills.cli.verify import verify_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="medskills",
    no_args_is_help=True,
    help="3D medical imaging AI toolkit: synthesis, segmentation, verification, chest-CT triage. "
    "Not for clinical use.",
)
app.add_typer(synth_app, name="synth", help="Synthetic CT and brain MRI through NV-Generate-CTMR.")
app.add_typer(anatomy_app, name="anatomy", help="The MAISI anatomy dictionary.")
app.add_typer(segment_app, name="segment", help="CT/MRI segmentation through NV-Segment-CTMR.")
app.add_typer(preprocess_app, name="preprocess", help="Input preprocessing the upstream models expect (brain T1).")
app.add_typer(verify_app, name="verify", help="Re-read a run's files and grade them.")
app.add_typer(triage_app, name="triage", help="Chest-CT triage service, prediction and batch client.")
app.command("setup")(setup_command)
app.command("doctor")(doctor_command)
app.command("batch")(batch_command)


def _print_version(is_requested: bool) -> None:
    if is_requested:
        from medskills import __version__

        typer.echo(f"medskills {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging on stderr."),
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print the medskills version and exit."),
) -> None:
    configure_logging(verbose=verbose)


def main() -> None:
    """Console-script entry point: one JSON result on stdout, also for a command line click rejects."""
    run_app(app)
